"""A trend chart drawn as static HTML (app/views/trend_html.py): where each line, point, band, marker and label lies,
worked out by hand from the spec `trend_figure` builds, and what a hover over a period shows."""
from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
import zlib

import polars as pl

from app.views.charts import BASELINE_COLOUR, MARKER_COLOUR, PROVISIONAL_LABEL, trend_figure
from app.views.trend_html import layout, trend_html

W1, W2, W3 = dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 16)
# 287 px: with a title, the plot keeps 200 of it (4 + 4 padding, a 27 px title, a 22 px x axis, one legend row of 18 and its 12 gap).
HEIGHT = 287


def rows(provisional: bool = False) -> pl.DataFrame:
    return pl.DataFrame({"period": [W1, W2, W3], "segment": ["all"] * 3, "value": [0.1, 0.3, 0.2],
                         "ci_low": [0.05, 0.2, 0.1], "ci_high": [0.2, 0.4, 0.3], "baseline": [0.1] * 3,
                         "provisional": [False, False, provisional]})


def svg(markup: str) -> str:
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', markup).group(1)).decode()


def dots(markup: str) -> list[tuple[str, str, str, str]]:
    """Each point's place (% of the width, px from the top), size and fill."""
    return re.findall(r'left:([0-9.]+)%;top:([0-9.]+)px;width:([0-9]+)px;height:[0-9]+px;margin:[^;]+;box-sizing:border-box;'
                      r'border-radius:50%;background:([#a-z0-9]+)', markup)


def strips(markup: str) -> list[tuple[str, str, str]]:
    return [(html.unescape(t), left, width) for t, left, width in
            re.findall(r'<span title="([^"]*)" style="position:absolute;top:0;bottom:0;left:([0-9.]+)%;width:([0-9.]+)%"', markup)]


def test_lines_points_interval_band_and_baseline_lie_where_the_scales_put_them():
    spec = trend_figure(rows(), "share", band=(0.05, 0.15), title="Rollback share", height=HEIGHT)
    at = layout(spec)
    # y: every drawn value is within 0–0.4 (ci_high 0.4 the highest; shares start at zero), already nice; 200 px of
    # plot: y(v) = 200 · (0.4 − v) / 0.4 = 500 · (0.4 − v). Ticks every ~40 px: 5 asked, 0.4 / 5 = 0.08 → steps of 0.1.
    assert at["plot_height"] == 200 and at["y_domain"] == (0.0, 0.4) and at["y_ticks"] == [0.0, 0.1, 0.2, 0.3, 0.4]
    # x: from 2 to 16 March, 1000 units: 9 March in the middle
    assert at["x"](at["x_days"][0] + 7) == 500
    image = svg(trend_html(spec))
    # the line: 0.1 → y 150, 0.3 → 50, 0.2 → 100, 2.2 px for all PRs, in All PRs' blue
    assert '<polyline points="0,150 500,50 1000,100" fill="none" stroke="#2f6fdf" stroke-width="2.2"' in image
    # its points: 6 px round dots over the image, at 0, 50 and 100% of its width
    assert dots(trend_html(spec)) == [("0.0000", "150.0", "6", "#2f6fdf"), ("50.0000", "50.0", "6", "#2f6fdf"),
                                      ("100.0000", "100.0", "6", "#2f6fdf")]
    # the 95% interval: the highs left to right (0.2 → 100, 0.4 → 0, 0.3 → 50), then the lows back (0.1 → 150,
    # 0.2 → 100, 0.05 → 175)
    assert '<polygon points="0,100 500,0 1000,50 1000,150 500,100 0,175" fill="#2f6fdf" fill-opacity="0.13"/>' in image
    # the band 0.05–0.15 (y 175 to 125) across the periods; the baseline 0.1 dashed at y 150
    assert f'<rect x="0" y="125" width="1000.00" height="50.00" fill="{BASELINE_COLOUR}" fill-opacity="0.08"/>' in image
    assert f'<polyline points="0,150 1000,150" fill="none" stroke="{BASELINE_COLOUR}" stroke-width="1.4" stroke-dasharray="6 4"' in image
    # drawn in the spec's layer order: the band under the interval under the line under the baseline
    order = [image.index(s) for s in ("<rect", "<polygon", "<polyline points=\"0,150 500", "stroke-dasharray=\"6 4\"")]
    assert order == sorted(order)
    # grid lines at each tick: 0 → 200, 0.1 → 150, …, 0.4 → 0
    assert [float(y) for y in re.findall(r'<line x1="0" x2="1000" y1="([0-9.]+)"', image)] == [200, 150, 100, 50, 0]


def test_axis_labels_legend_and_title_are_html_around_the_image():
    markup = trend_html(trend_figure(rows(), "share", band=(0.05, 0.15), title="Rollback share", height=HEIGHT))
    # the y axis' labels in the spec's format (.0%), at their ticks' heights
    assert re.findall(r'top:([0-9.]+)px;transform:translateY\(-50%\);font-size:12px;line-height:1;white-space:nowrap">([^<]+)<',
                      markup) == [("200.0", "0%"), ("150.0", "10%"), ("100.0", "20%"), ("50.0", "30%"), ("0.0", "40%")]
    # the x axis: a span of two weeks, labelled by its Mondays at 0, 50 and 100%
    assert re.findall(r'left:([0-9.]+)%;top:7px;transform:translateX\(-50%\);font-size:[^;]+;line-height:1;white-space:nowrap">([^<]+)<',
                      markup) == [("0.0000", "Mar 02"), ("50.0000", "Mar 09"), ("100.0000", "Mar 16")]
    # the legend names the spec's series in its order and colours
    assert re.findall(r'background:(#[0-9a-f]+);opacity:0.85"></span>([^<]+)<', markup) == [
        (BASELINE_COLOUR, "baseline 95% interval"), ("#2f6fdf", "All PRs"), (BASELINE_COLOUR, "baseline")]
    assert ">Rollback share</div>" in markup and f"height:{HEIGHT}px" in markup


def test_a_hover_strip_per_period_lists_its_values_in_the_unit():
    markup = trend_html(trend_figure(rows(), "share", band=(0.05, 0.15), height=HEIGHT, title="T"))
    # centres 0, 500, 1000 of 1000: the strips run halfway to the neighbours (the edges' half as wide)
    assert strips(markup) == [
        ("2026-03-02\nAll PRs: 10.0% (95% 5.0% – 20.0%)\nbaseline: 10.0%", "0.0000", "25.0000"),
        ("2026-03-09\nAll PRs: 30.0% (95% 20.0% – 40.0%)\nbaseline: 10.0%", "25.0000", "50.0000"),
        ("2026-03-16\nAll PRs: 20.0% (95% 10.0% – 30.0%)\nbaseline: 10.0%", "75.0000", "25.0000")]


def test_hours_carry_their_unit_on_the_axis_and_in_the_hover():
    hours = rows().with_columns(pl.col("value", "ci_low", "ci_high", "baseline") * 10)
    markup = trend_html(trend_figure(hours, "hours", height=HEIGHT, title="T"))
    labels = re.findall(r'white-space:nowrap">([0-9.,]+ h)<', markup)
    # 0–4 h, steps of 1 (',.4~r' + ' h': the spec's label expression)
    assert labels == ["0 h", "1 h", "2 h", "3 h", "4 h"]
    assert strips(markup)[1][0] == "2026-03-09\nAll PRs: 3.0 h (95% 2.0 h – 4.0 h)\nbaseline: 1.0 h"


def test_provisional_period_and_a_change_marker():
    spec = trend_figure(rows(provisional=True), "share", height=HEIGHT, title="T", markers=((dt.date(2026, 3, 10), "Copilot <rollout>"),))
    at = layout(spec)
    # the provisional shading runs half a week either side of 16 March: the x axis now ends on 19 March 12:00, 17.5
    # days after 2 March: 9 March at 7 / 17.5 = 400, 16 March at 800, the marker (10 March) at 8 / 17.5 = 457.14
    image = svg(trend_html(spec))
    assert '<polyline points="0,150 400,50 800,100"' in image
    # the shading: from 12 March 12:00 (600) for 7 days (400 wide), over every drawn value (0–0.4: y 0 to 200)
    assert f'<rect x="600" y="0" width="400.00" height="200.00" fill="{MARKER_COLOUR}" fill-opacity="0.12"' in image
    # the provisional point: a 9 px ring, white inside; the settled ones 6 px, filled
    assert dots(trend_html(spec)) == [("0.0000", "150.0", "6", "#2f6fdf"), ("40.0000", "50.0", "6", "#2f6fdf"),
                                      ("80.0000", "100.0", "9", "white")]
    # the marker: a dotted line the plot's height, its label as text (escaped) at the same place
    assert f'<line x1="457.14" x2="457.14" y1="0" y2="200" stroke="{MARKER_COLOUR}"' in image
    markup = trend_html(spec)
    assert 'left:45.7140%;top:2px' in markup and "Copilot &lt;rollout&gt;</span>" in markup
    assert strips(markup)[2][0] == f"2026-03-16\nAll PRs: 20.0% (95% 10.0% – 30.0%) · {PROVISIONAL_LABEL}\nbaseline: 10.0%"


def test_a_missing_value_breaks_the_line_and_the_spec_rides_along():
    gap = rows().with_columns(pl.when(pl.col("period") == W2).then(None).otherwise(pl.col(c)).alias(c)
                              for c in ("value", "ci_low", "ci_high"))
    spec = trend_figure(gap, "share", height=HEIGHT, title="T")
    markup = trend_html(spec)
    image = svg(markup)
    # two runs of one point each: no line, two dots; the interval breaks the same way (two one-point outlines)
    assert 'stroke="#2f6fdf" stroke-width="2.2"' not in image
    assert dots(markup) == [("0.0000", "133.33", "6", "#2f6fdf"), ("100.0000", "66.67", "6", "#2f6fdf")]
    assert strips(markup)[1][0] == "2026-03-09\nAll PRs: —\nbaseline: 10.0%"
    # the exact spec the chart was drawn from
    assert json.loads(zlib.decompress(base64.b64decode(re.search(r'data-spec="([^"]*)"', markup).group(1)))) == spec


def test_an_empty_chart_draws_its_axis():
    empty = rows().clear()
    markup = trend_html(trend_figure(empty, "share", height=HEIGHT, title="Nothing yet"))
    assert "0%" in markup and "100%" in markup and "title=" not in markup
