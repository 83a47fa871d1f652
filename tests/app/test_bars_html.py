"""Bars with 95% error bars drawn as static HTML (app/views/bars_html.py): where each bar, error bar and label lies,
worked out by hand from the spec `interval_bars` builds, and what a hover over a row shows."""
from __future__ import annotations

import base64
import html
import json
import re
import zlib

import polars as pl

from app.views.bars_html import interval_bars_html, layout
from app.views.charts import interval_bars

# 197 px: with a title, the plot keeps 140 of it (4 + 4 padding, a 27 px title, a 22 px x axis): 70 px per row of two.
HEIGHT = 197


def frame(second_low=0.1) -> pl.DataFrame:
    return pl.DataFrame({"label": ["AI-assisted", "<b>Others</b>"], "value": [0.3, 0.15],
                         "ci_low": [0.25, second_low], "ci_high": [0.4, 0.2]})


def test_bars_error_bars_and_labels_lie_where_the_scales_put_them():
    spec = interval_bars(frame(), "label", "share", colours={"AI-assisted": "#7b3fc4"}, height=HEIGHT, title="Share")
    at = layout(spec)
    # x from zero to the highest interval end (0.4), nice already; 8 ticks asked: 0.4 / 8 = 0.05 → steps of 0.05
    assert at["plot_height"] == 140 and at["row_height"] == 70 and at["x_domain"] == (0.0, 0.4)
    assert at["x_ticks"] == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]
    markup = interval_bars_html(spec)
    # the first bar: 0 to 0.3 of 0.4 = 75% wide, 90% of its 70 px row (63 px) centred on 35 (from 3.5), its colour;
    # the second 0.15 / 0.4 = 37.5%, centred on 105 (from 73.5), the default blue
    assert ('left:0.0%;width:75.0000%;top:3.5px;height:63.0px;background:#7b3fc4"' in markup
            and 'left:0.0%;width:37.5000%;top:73.5px;height:63.0px;background:#2f6fdf"' in markup)
    # the error bars: 0.25–0.4 (62.5% for 37.5%), 0.1–0.2 (25% for 25%), 6 px high about each centre
    assert "left:62.5%;width:37.5000%;top:32.0px;height:6px" in markup and "left:25.0%;width:25.0000%;top:102.0px;height:6px" in markup
    # the labels as text at the rows' centres (never markup), the x axis' labels in the spec's format (.0%)
    assert re.findall(r'top:([0-9.]+)px;transform:translateY\(-50%\);font-size:12px;line-height:1;white-space:nowrap">([^<]+)<',
                      markup) == [("35.0", "AI-assisted"), ("105.0", "&lt;b&gt;Others&lt;/b&gt;")]
    sizes = re.findall(r'translateX\(-50%\);font-size:([^;]+);line-height:1;white-space:nowrap">([^<]+)<', markup)
    assert [text for _, text in sizes] == ["0%", "5%", "10%", "15%", "20%", "25%", "30%", "35%", "40%"]
    # a narrow plot drops labels as Vega does: every fourth always shown; every other one from 9 × 45 / 2 = 202.5 px of
    # plot; the rest from 405 px
    assert [size for size, _ in sizes] == [
        "12px", "clamp(0px,calc((100cqw - 405px) * 1000),12px)", "clamp(0px,calc((100cqw - 202.5px) * 1000),12px)",
        "clamp(0px,calc((100cqw - 405px) * 1000),12px)", "12px", "clamp(0px,calc((100cqw - 405px) * 1000),12px)",
        "clamp(0px,calc((100cqw - 202.5px) * 1000),12px)", "clamp(0px,calc((100cqw - 405px) * 1000),12px)", "12px"]


def test_a_row_hover_shows_its_value_and_interval_in_the_tooltip_format():
    markup = interval_bars_html(interval_bars(frame(), "label", "share", height=HEIGHT, title="Share"))
    titles = [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', markup)]
    assert titles == ["AI-assisted: 30.0% (95% 25.0% – 40.0%)", "<b>Others</b>: 15.0% (95% 10.0% – 20.0%)"]


def test_a_row_without_an_interval_has_no_error_bar_and_the_spec_rides_along():
    spec = interval_bars(frame(second_low=None), "label", "share", height=HEIGHT)
    markup = interval_bars_html(spec)
    # only the first row's error bar (no title: the plot keeps 167 px, 83.5 a row: its centre 41.75, the bar from 38.75)
    assert markup.count("height:6px;box-sizing:border-box") == 1 and "top:38.75px;height:6px" in markup
    assert json.loads(zlib.decompress(base64.b64decode(re.search(r'data-spec="([^"]*)"', markup).group(1)))) == spec


def test_grouped_bars_split_each_row_among_the_series_in_the_legends_order():
    from app.views.charts import grouped_interval_bars

    teams = pl.DataFrame({"team": ["payments", "web"], "ai_share": [0.3, 0.1], "ai_ci_low": [0.2, None],
                          "ai_ci_high": [0.4, None], "non_ai_share": [0.05, None], "non_ai_ci_low": [0.02, None],
                          "non_ai_ci_high": [0.08, None]})
    # 227 px: a title (27), padding (8), the x axis (22) and the legend's row and gap (30) leave 140: 70 px per team
    spec = grouped_interval_bars(teams, "team", ("ai", "non_ai"), "share", height=227, title="By team")
    at = layout(spec)
    assert at["plot_height"] == 140 and at["row_height"] == 70 and at["x_domain"] == (0.0, 0.4)
    markup = interval_bars_html(spec)
    # payments: 90% of 70 px from 3.5, 31.5 px per series: AI-assisted (purple) from 3.5, the others (grey) from 35;
    # web: its AI-assisted bar from 73.5 (0.1 / 0.4 = 25% wide), its other bar has no value: none drawn
    assert 'left:0.0%;width:75.0000%;top:3.5px;height:31.5px;background:#7b3fc4"' in markup
    assert 'left:0.0%;width:12.5000%;top:35.0px;height:31.5px;background:#8a94a6"' in markup
    assert 'left:0.0%;width:25.0000%;top:73.5px;height:31.5px;background:#7b3fc4"' in markup
    assert markup.count(";background:#8a94a6\"") == 1
    # error bars about each bar's middle (19.25 and 50.75, 6 px high): 0.2–0.4 and 0.02–0.08 of 0.4
    assert "left:50.0%;width:50.0000%;top:16.25px;height:6px" in markup and "left:5.0%;width:15.0000%;top:47.75px;height:6px" in markup
    # one label per team at its row's centre; a hover per bar, naming the team and the series
    assert re.findall(r'top:([0-9.]+)px;transform:translateY\(-50%\);font-size:12px;line-height:1;white-space:nowrap">([^<]+)<',
                      markup) == [("35.0", "payments"), ("105.0", "web")]
    titles = [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', markup)]
    assert titles == ["payments · AI-assisted: 30.0% (95% 20.0% – 40.0%)", "payments · Not AI-assisted: 5.0% (95% 2.0% – 8.0%)",
                      "web · AI-assisted: 10.0%", "web · Not AI-assisted: —"]
    # the legend: both series with their colours, below the axis
    assert re.findall(r'background:(#[0-9a-f]{6});opacity:0.85"></span>([^<]+)<', markup) == [
        ("#7b3fc4", "AI-assisted"), ("#8a94a6", "Not AI-assisted")]
