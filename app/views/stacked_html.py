"""Stacked bars (app/views/charts.py `stacked_bars`'s spec: AI spend by team, tool, model or workflow, resolved tickets by
channel) drawn as static HTML (`st.html`), not as a Vega view: they were the last Vega views of AI spend and Support, and
a page's first Vega view loads Vega's bundle (~0.5 CPU-s of the browser on a first visit; docs/performance-log.md,
session 14, chart14; session 15, pg15).

Each segment is a box placed in percent of the plot's width (one band per period) and in pixels of its height, so the
chart follows the container's width with nothing to stretch; its title is what Vega's tooltip showed (the period, the
colour's value and the value in the spec's tooltip format). The spec rides in `data-spec` (packed: `charts.packed_spec`),
which `benchmarks.page_elements compare --content` reads as it reads a Vega chart.

Layout as Vega laid the spec out at Streamlit's `autosize: fit` (measured on its SVG, 1M PRs' AI spend by tool and by
team): the spec's `height` is the whole chart's; the title, the x axis (its labels turned by the axis' `labelAngle`) and
the legend below (4 to a row, at most 30 entries, the last saying how many more there are, as Vega's `symbolLimit`)
leave the plot its height; one band per x value (a tenth of a band between two bars, half that at either end), stacked
from zero in the `order` field's order, the largest total's colour at the bottom; the y axis on d3's nice domain of every
stack's ends, a tick every ~40 px. Where the plot is narrow, x labels that would overlap are hidden, as
`interval_bars`' are (Vega drew them over each other)."""
from __future__ import annotations

import html
import math

from app.views.charts import GRID_COLOUR, Chart
from app.views.scale import nice, number_format, ticks
from app.views.trend_html import (
    _LABEL_CHAR_PX, _LABEL_GAP_PX, _PADDING_PX, _TICK_PX, _TITLE_PX, _X_AXIS_PX, DOMAIN_COLOUR, chart_box, label_size, legend_entries,
)

_PADDING_INNER, _PADDING_OUTER = 0.1, 0.05  # of a band: Vega-Lite's band padding for bars
_LEGEND_COLUMNS, _LEGEND_LIMIT = 4, 30  # Vega's legend: the spec's columns; its default symbolLimit
_LEGEND_ROW_PX, _LEGEND_GAP_PX = 13, 17  # a legend row of 11 px labels, and the space above the legend (Vega's, measured)
_DIGIT_PX = 5.6  # a 12 px axis label's character (dates: digits and dashes), for the turned labels' height
_TURNED_LABEL_PX = 20  # the plot's width a turned x label needs beside its neighbours (12 px text at 40°)


def _bars(spec: Chart) -> dict:
    return next(lay for lay in spec["layer"] if lay.get("name") == "bars")


def _x_values(spec: Chart) -> list[str]:
    """The x axis' bands in order: ascending where the spec sorts them (dates), else as the rows give them."""
    x = _bars(spec)["encoding"]["x"]
    values = list(dict.fromkeys(row["x"] for row in spec["data"]["values"]))
    return sorted(values) if x.get("sort") == "ascending" else values


def _legend(spec: Chart) -> list[tuple[str, str]]:
    """The legend's entries as Vega shows them: the colour scale's values and colours, at most `_LEGEND_LIMIT` entries,
    the last of them "…N entries" (no colour) when there are more."""
    scale = _bars(spec)["encoding"]["color"]["scale"]
    entries = list(zip(scale["domain"], scale["range"]))
    if len(entries) <= _LEGEND_LIMIT:
        return entries
    return entries[:_LEGEND_LIMIT - 1] + [(f"…{len(entries) - _LEGEND_LIMIT + 1} entries", "")]


def stacks(spec: Chart) -> list[dict]:
    """Every segment drawn: `x`, `key`, `y` (its value), `y0`, `y1` (where it starts and ends), `colour`: per x value,
    its rows in the `order` field's order stacked from zero (a row without a value is not drawn, as Vega filters it)."""
    bars = _bars(spec)["encoding"]
    order = bars.get("order", {}).get("field")
    colour = dict(zip(bars["color"]["scale"]["domain"], bars["color"]["scale"]["range"]))
    rows = [row for row in spec["data"]["values"] if row.get("y") is not None]
    if order:
        rows = sorted(rows, key=lambda row: row[order])  # stable: rows of one rank keep their order
    ends: dict[str, float] = {}
    out = []
    for row in rows:
        start = ends.get(row["x"], 0.0)
        ends[row["x"]] = start + row["y"]
        out.append({"x": row["x"], "key": row["key"], "y": row["y"], "y0": start, "y1": start + row["y"],
                    "colour": colour.get(row["key"])})
    return out


def layout(spec: Chart) -> dict:
    """Where everything lies: `plot_height` and `x_axis_height` (px), the legend's entries and rows, the x values
    (`bands`) and `band(i)`: (left, width) of the i-th bar in percent of the plot's width, the y domain (`y_domain`,
    nice, from zero) and its `y_ticks`, `y(value)` in px from the plot's top."""
    title = spec.get("title")
    bands = _x_values(spec)
    legend = _legend(spec)
    legend_rows = math.ceil(len(legend) / _LEGEND_COLUMNS)
    angle = _bars(spec)["encoding"]["x"].get("axis", {}).get("labelAngle", 0)
    longest = max([len(str(x)) for x in bands] + [1])
    turn = math.radians(abs(angle))
    x_axis = (_X_AXIS_PX if not angle else
              _TICK_PX + _LABEL_GAP_PX + math.ceil(longest * _DIGIT_PX * math.sin(turn) + 4 * math.cos(turn)))
    plot_height = (spec["height"] - _PADDING_PX - (_TITLE_PX if title else 0) - x_axis
                   - (legend_rows * _LEGEND_ROW_PX + _LEGEND_GAP_PX if legend_rows else 0))
    segments = stacks(spec)
    ends = [v for s in segments for v in (s["y0"], s["y1"])]
    low, high = min([0.0, *ends]), max([0.0, *ends])
    if high == low:
        high = low + 1
    low, high = nice(low, high)
    y_ticks, step = ticks(low, high, math.ceil(plot_height / 40))
    count = max(1, len(bands))
    unit = 100 / (count - _PADDING_INNER + 2 * _PADDING_OUTER)  # a band's step, in percent of the plot's width

    def band(i: int) -> tuple[float, float]:
        return round(unit * (_PADDING_OUTER + i), 4), round(unit * (1 - _PADDING_INNER), 4)

    def y(value: float) -> float:
        return round(plot_height * (high - value) / (high - low), 2)

    return {"plot_height": plot_height, "x_axis_height": x_axis, "angle": angle, "legend": legend,
            "legend_rows": legend_rows, "bands": bands, "band": band, "y_domain": (low, high), "y_ticks": y_ticks,
            "y_step": step, "y": y, "segments": segments}


def _formats(spec: Chart):
    """The y axis' label format, and the hover's: (title, format) of the x, colour and value fields."""
    bars = _bars(spec)["encoding"]
    tooltip = {t["field"]: t for t in bars["tooltip"]}
    return bars["y"].get("axis", {}).get("format"), tooltip


def stacked_bars_html(spec: Chart) -> str:
    """The chart `spec` (a `stacked_bars`) as HTML: its title, the stacked segments with the grid and both axes, the
    legend below; hovering a segment shows its period, its colour's value and its value."""
    at = layout(spec)
    axis_format, tooltip = _formats(spec)
    label = number_format(axis_format, at["y_step"])
    hover = number_format(tooltip["y"].get("format") or ".2f")
    names = {field: tooltip[field].get("title", field) for field in ("x", "key", "y")}
    y_labels = [(at["y"](v), label(v)) for v in at["y_ticks"]]
    gutter = round(max(len(text) for _, text in y_labels) * _LABEL_CHAR_PX) + _TICK_PX + _LABEL_GAP_PX
    index = {x: i for i, x in enumerate(at["bands"])}
    axis = [f'<span style="position:absolute;right:{_TICK_PX + _LABEL_GAP_PX}px;top:{top}px;transform:translateY(-50%);'
            f'font-size:12px;line-height:1;white-space:nowrap">{html.escape(text)}</span>'
            f'<span style="position:absolute;right:0;top:{top}px;width:{_TICK_PX}px;height:1px;background:{DOMAIN_COLOUR}"></span>'
            for top, text in y_labels]
    plot = [f'<span style="position:absolute;left:0;right:0;top:{top}px;height:1px;background:{GRID_COLOUR}"></span>'
            for top, _ in y_labels]
    for s in at["segments"]:
        left, width = at["band"](index[s["x"]])
        top, bottom = sorted((at["y"](s["y0"]), at["y"](s["y1"])))
        words = f'{names["x"]}: {s["x"]}\n{names["key"]}: {s["key"]}\n{names["y"]}: {hover(s["y"])}'
        plot.append(f'<span title="{html.escape(words)}" style="position:absolute;left:{left}%;width:{width}%;top:{top}px;'
                    f'height:{round(bottom - top, 2)}px;background:{s["colour"]}"></span>')
    turned = at["angle"] != 0
    x_labels = []
    for i, x in enumerate(at["bands"]):
        left, width = at["band"](i)
        centre = round(left + width / 2, 4)
        size = label_size(i, len(at["bands"]), _TURNED_LABEL_PX if turned else len(str(x)) * _LABEL_CHAR_PX + 8)
        text = (f'<span style="position:absolute;right:0;top:0;transform-origin:right top;transform:rotate({at["angle"]}deg);'
                f'font-size:{size};line-height:1;white-space:nowrap">{html.escape(str(x))}</span>' if turned else
                f'<span style="position:absolute;left:0;top:0;transform:translateX(-50%);font-size:{size};line-height:1;'
                f'white-space:nowrap">{html.escape(str(x))}</span>')
        x_labels.append(f'<span style="position:absolute;left:{centre}%;top:0;width:1px;height:{_TICK_PX}px;background:{DOMAIN_COLOUR}">'
                        f'</span><span style="position:absolute;left:{centre}%;top:{_TICK_PX + _LABEL_GAP_PX}px;width:0;height:0">'
                        f'{text}</span>')
    legend = (f'<div style="display:grid;grid-template-columns:repeat({_LEGEND_COLUMNS},max-content);column-gap:18px;'
              f'grid-auto-rows:{_LEGEND_ROW_PX}px;margin:{_LEGEND_GAP_PX}px 0 0 {gutter + 1}px;font-size:11px;line-height:1">'
              + "".join(legend_entries([(name, hue)]) if hue else
                        f'<span style="display:flex;align-items:center;white-space:nowrap">{html.escape(name)}</span>'
                        for name, hue in at["legend"]) + "</div>" if at["legend"] else "")
    return chart_box("stackedChart", spec, right_px=8, gutter=gutter, plot_height=at["plot_height"], axis="".join(axis),
                     plot="".join(plot), x_axis_px=at["x_axis_height"], x_labels="".join(x_labels), legend=legend)
