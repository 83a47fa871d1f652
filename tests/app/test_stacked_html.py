"""Stacked bars drawn as static HTML (app/views/stacked_html.py): where each segment, axis label and legend entry lies,
worked out by hand from the spec `stacked_bars` builds, and what a hover over a segment shows."""
from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
import zlib

import polars as pl

from app.views.charts import PALETTE, stacked_bars
from app.views.stacked_html import layout, stacked_bars_html, stacks

# 312 px: with a title the plot keeps 200 of it (4 + 4 padding, a 27 px title; the x axis' labels turned by 40°:
# 7 px of tick and gap and ceil(10 characters × 5.6 px × sin 40° + 4 × cos 40°) = ceil(36.0 + 3.1) = 40; one legend row
# of 13 px and 17 above it).
HEIGHT = 312
MON, NEXT = dt.date(2026, 3, 2), dt.date(2026, 3, 9)


def spend(tools=("a", "<b>b</b>", "a"), costs=(30.0, 10.0, 20.0)) -> pl.DataFrame:
    return pl.DataFrame({"period": [MON, MON, NEXT], "cost_usd": list(costs), "tool": list(tools)})


def test_segments_stack_from_zero_with_the_largest_total_at_the_bottom():
    spec = stacked_bars(spend(), "period", "cost_usd", "tool", "usd", height=HEIGHT, title="Spend by tool")
    at = layout(spec)
    assert at["plot_height"] == 200 and at["x_axis_height"] == 47 and at["legend_rows"] == 1
    # a: 30 + 20 = 50, the larger total, at the bottom; <b>b</b>: 10 on top of a's 30 in the first week
    assert [(s["x"], s["key"], s["y0"], s["y1"]) for s in stacks(spec)] == [
        ("2026-03-02", "a", 0.0, 30.0), ("2026-03-09", "a", 0.0, 20.0), ("2026-03-02", "<b>b</b>", 30.0, 40.0)]
    # y from 0 to the highest stack's end, 40 (nice already); ceil(200 / 40) = 5 ticks asked: every 10
    assert at["y_domain"] == (0.0, 40.0) and at["y_ticks"] == [0.0, 10.0, 20.0, 30.0, 40.0]
    # two bands over 2 - 0.1 + 2 × 0.05 = 2 steps: 50% each, the bar 90% of it (45%) from 5% of a step (2.5%) in
    assert at["band"](0) == (2.5, 45.0) and at["band"](1) == (52.5, 45.0)
    markup = stacked_bars_html(spec)
    # 5 px per dollar from the top (200 px for 40): a's first 0–30 from 50 px, 150 high; b's 30–40 from 0, 50 high;
    # a's second 0–20 from 100 px, 100 high; each in its legend's colour
    blue, purple = PALETTE[0], PALETTE[1]
    assert f'left:2.5%;width:45.0%;top:50.0px;height:150.0px;background:{blue}"' in markup
    assert f'left:2.5%;width:45.0%;top:0.0px;height:50.0px;background:{purple}"' in markup
    assert f'left:52.5%;width:45.0%;top:100.0px;height:100.0px;background:{blue}"' in markup
    # the y axis' labels in the spec's format ($,.3~r) at their ticks; the x axis' labels at the bands' centres, turned
    y_labels = re.findall(r'top:([0-9.]+)px;transform:translateY\(-50%\);font-size:12px;line-height:1;white-space:nowrap">([^<]+)<',
                          markup)
    assert y_labels == [("200.0", "$0"), ("150.0", "$10"), ("100.0", "$20"), ("50.0", "$30"), ("0.0", "$40")]
    x_labels = re.findall(r'left:([0-9.]+)%;top:7px;width:0;height:0"><span [^>]*transform:rotate\(-40deg\);[^>]*>([^<]+)<', markup)
    assert x_labels == [("25.0", "2026-03-02"), ("75.0", "2026-03-09")]
    # the legend: the values as text (never markup), largest total first
    assert re.findall(r'opacity:0.85"></span>([^<]+)</span>', markup) == ["a", "&lt;b&gt;b&lt;/b&gt;"]


def test_a_segment_hover_shows_the_period_the_value_and_its_amount_in_the_tooltip_format():
    markup = stacked_bars_html(stacked_bars(spend(), "period", "cost_usd", "tool", "usd", height=HEIGHT))
    titles = [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', markup)]
    assert titles == ["period: 2026-03-02\ntool: a\ncost_usd: $30.00", "period: 2026-03-09\ntool: a\ncost_usd: $20.00",
                      "period: 2026-03-02\ntool: <b>b</b>\ncost_usd: $10.00"]


def test_a_missing_value_draws_nothing_and_the_spec_rides_along():
    spec = stacked_bars(spend(costs=(30.0, float("nan"), 20.0)), "period", "cost_usd", "tool", "usd", height=HEIGHT)
    markup = stacked_bars_html(spec)
    assert markup.count("<span title=") == 2 and [s["key"] for s in stacks(spec)] == ["a", "a"]
    assert json.loads(zlib.decompress(base64.b64decode(re.search(r'data-spec="([^"]*)"', markup).group(1)))) == spec


def test_a_long_legend_shows_thirty_entries_the_last_saying_how_many_more():
    teams = [f"team-{i:02d}" for i in range(35)]
    frame = pl.DataFrame({"period": [MON] * 35, "cost_usd": [float(100 - i) for i in range(35)], "team": teams})
    spec = stacked_bars(frame, "period", "cost_usd", "team", "usd", height=400)
    at = layout(spec)
    # 29 teams, then "…6 entries" without a colour: 30 entries, 4 to a row: 8 rows (13 px each, 17 above)
    assert [name for name, _ in at["legend"]] == teams[:29] + ["…6 entries"] and at["legend"][-1][1] == ""
    assert at["legend_rows"] == 8 and at["plot_height"] == 400 - 8 - 47 - (8 * 13 + 17)
    markup = stacked_bars_html(spec)
    assert markup.count("opacity:0.85") == 29 and "…6 entries</span>" in markup
    # every team's segment is drawn, the legend's cut aside
    assert markup.count("<span title=") == 35


def test_x_labels_thin_out_on_a_narrow_plot():
    weeks = [MON + dt.timedelta(weeks=i) for i in range(8)]
    spec = stacked_bars(pl.DataFrame({"period": weeks, "cost_usd": [1.0] * 8, "tool": ["a"] * 8}), "period", "cost_usd",
                        "tool", "usd", height=HEIGHT)
    sizes = re.findall(r'transform:rotate\(-40deg\);font-size:([^;]+);', stacked_bars_html(spec))
    # every fourth label always; every other one from 8 × 20 / 2 = 80 px of plot; the rest from 160 px
    assert sizes == ["12px", "clamp(0px,calc((100cqw - 160px) * 1000),12px)", "clamp(0px,calc((100cqw - 80px) * 1000),12px)",
                     "clamp(0px,calc((100cqw - 160px) * 1000),12px)"] * 2
