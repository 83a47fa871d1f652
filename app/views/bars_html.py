"""Horizontal bars with 95% error bars (app/views/charts.py `interval_bars`'s spec, and `grouped_interval_bars`': a
bar per series in each row) drawn as static HTML (`st.html`), not as a Vega view: Adoption's one chart was the page's
only Vega view, Rollbacks' teams chart its last, and the first view of a page loads Vega's bundle (~0.5 CPU-s of the
browser on a first visit; docs/performance-log.md, session 14, chart14 and the lead).

Bars and error bars are plain boxes placed in percent of the plot's width, so they follow the container's width with
nothing to stretch; each row's title lists its value and interval in the spec's tooltip format. The spec rides in
`data-spec` (packed: `charts.packed_spec`), which `benchmarks.page_elements compare --content` reads as it reads a
Vega chart.

Layout as Vega laid it out: the spec's `height` is the whole chart's, the plot gets what the title and the x axis
leave, one band per row (a tenth of it between two rows), split evenly among a grouped chart's series (in the colour
scale's order, the legend's, below the axis); the x axis from zero to the highest value or interval end, nice, in the
spec's axis format."""
from __future__ import annotations

import html

from app.views.charts import BASELINE_COLOUR, GRID_COLOUR, Chart
from app.views.scale import nice, number_format, ticks
from app.views.trend_html import (  # the same layout around the plot, axis labels and legend
    _LABEL_CHAR_PX, _LABEL_GAP_PX, _LEGEND_GAP_PX, _LEGEND_ROW_PX, _PADDING_PX, _TICK_PX, _TITLE_PX, _X_AXIS_PX,
    DOMAIN_COLOUR, chart_box, label_size, legend_entries,
)

_BAR_SHARE = 0.9  # of a row's band: Vega's band padding of 0.1
_TICK_COUNT = 8  # Vega asks one tick per 40 px; a 320 px plot's count, read by the labels at any width
_CAP_PX = 6  # the error bar's end ticks
_X_LABEL_PX = 45  # an x label ("100%", "$1,000") and the space beside it


def _series(spec: Chart) -> list[tuple[str, str]]:
    """A grouped chart's series and their colours, in the colour scale's order; [] for one bar per row."""
    scale = next(lay for lay in spec["layer"] if lay.get("name") == "bars")["encoding"].get("color", {}).get("scale")
    return list(zip(scale["domain"], scale["range"])) if scale else []


def layout(spec: Chart) -> dict:
    """Where everything lies: `plot_height` (px), `row_height` (px: a label's, all its series' bars), the x domain from zero (`x_domain`, nice) and its
    `x_ticks`; `x(value)` in percent of the plot's width."""
    rows = spec["data"]["values"]
    labels = list(dict.fromkeys(row["label"] for row in rows))
    plot_height = (spec["height"] - _PADDING_PX - (_TITLE_PX if spec.get("title") else 0) - _X_AXIS_PX
                   - (_LEGEND_ROW_PX + _LEGEND_GAP_PX if _series(spec) else 0))
    numbers = [row[k] for row in rows for k in ("value", "low", "high") if row.get(k) is not None]
    high = max([0.0, *numbers]) or 1.0
    low = min([0.0, *numbers])
    low, high = nice(low, high)
    x_ticks, step = ticks(low, high, _TICK_COUNT)

    def x(value: float) -> float:
        return round((value - low) / (high - low) * 100, 4)

    return {"plot_height": plot_height, "row_height": plot_height / max(1, len(labels)), "x_domain": (low, high),
            "x_ticks": x_ticks, "x_step": step, "x": x}


def _formats(spec: Chart):
    bars = next(lay for lay in spec["layer"] if lay.get("name") == "bars")
    axis = bars["encoding"]["x"].get("axis", {})
    hover = {t["field"]: t.get("format") for t in bars["encoding"]["tooltip"]}
    return axis.get("format"), number_format(hover.get("value") or ".2f")


def interval_bars_html(spec: Chart) -> str:
    """The chart `spec` (an `interval_bars` or a `grouped_interval_bars`) as HTML: its title, a label per row and its
    bar (or a bar per series) with its error bar, the grid, the x axis' labels and a grouped chart's legend; hovering
    a bar shows its value and interval."""
    at = layout(spec)
    axis_format, hover = _formats(spec)
    label = number_format(axis_format, at["x_step"])
    rows, x, band = spec["data"]["values"], at["x"], at["row_height"]
    gutter = round(max([len(str(r["label"])) for r in rows] + [1]) * _LABEL_CHAR_PX) + _TICK_PX + _LABEL_GAP_PX
    labels, plot = [], [f'<span style="position:absolute;top:0;bottom:0;left:{x(v)}%;width:1px;background:{GRID_COLOUR}"></span>'
                        for v in at["x_ticks"]]
    series = _series(spec)
    colours, count = dict(series), max(1, len(series))
    for i, name in enumerate(dict.fromkeys(row["label"] for row in rows)):
        centre = round((i + 0.5) * band, 2)
        labels.append(f'<span style="position:absolute;right:{_TICK_PX + _LABEL_GAP_PX}px;top:{centre}px;transform:translateY(-50%);'
                      f'font-size:12px;line-height:1;white-space:nowrap">{html.escape(str(name))}</span>'
                      f'<span style="position:absolute;right:0;top:{centre}px;width:{_TICK_PX}px;height:1px;background:{DOMAIN_COLOUR}"></span>')
        own = [row for row in rows if row["label"] == name]
        if series:  # the colour scale's order, top to bottom
            own.sort(key=lambda row: [s for s, _ in series].index(row["series"]))
        height = band * _BAR_SHARE / count
        for k, row in enumerate(own):
            top = i * band + band * (1 - _BAR_SHARE) / 2 + k * height
            middle = round(top + height / 2, 2)
            if row["value"] is not None:
                start, end = sorted((x(0.0), x(row["value"])))
                plot.append(f'<span style="position:absolute;left:{start}%;width:{end - start:.4f}%;top:{round(top, 2)}px;'
                            f'height:{round(height, 2)}px;background:{colours.get(row.get("series"), row.get("colour"))}"></span>')
            words = (f'{row["label"]} · {row["series"]}: ' if series else f'{row["label"]}: ') + (
                "—" if row["value"] is None else hover(row["value"]))
            if row["low"] is not None and row["high"] is not None:
                left, right = x(row["low"]), x(row["high"])
                plot.append(f'<span style="position:absolute;left:{left}%;width:{right - left:.4f}%;top:{round(middle - _CAP_PX / 2, 2)}px;'
                            f'height:{_CAP_PX}px;box-sizing:border-box;border-left:1px solid {BASELINE_COLOUR};'
                            f'border-right:1px solid {BASELINE_COLOUR};background:linear-gradient({BASELINE_COLOUR},{BASELINE_COLOUR}) '
                            'center/100% 1.2px no-repeat"></span>')
                words += f' (95% {hover(row["low"])} – {hover(row["high"])})'
            plot.append(f'<span title="{html.escape(words)}" style="position:absolute;left:0;right:0;top:{round(top if series else i * band, 2)}px;'
                        f'height:{round(height if series else band, 2)}px"></span>')
    x_labels = "".join(
        f'<span style="position:absolute;left:{x(v)}%;top:0;width:1px;height:{_TICK_PX}px;background:{DOMAIN_COLOUR}"></span>'
        f'<span style="position:absolute;left:{x(v)}%;top:{_TICK_PX + _LABEL_GAP_PX}px;transform:translateX(-50%);'
        f'font-size:{label_size(i, len(at["x_ticks"]), _X_LABEL_PX)};line-height:1;white-space:nowrap">{html.escape(label(v))}</span>'
        for i, v in enumerate(at["x_ticks"]))
    legend = (f'<div style="display:flex;gap:18px;height:{_LEGEND_ROW_PX}px;margin-top:{_LEGEND_GAP_PX}px;font-size:11px">'
              + legend_entries(series) + "</div>" if series else "")
    return chart_box("barChart", spec, right_px=20, gutter=gutter, plot_height=at["plot_height"], axis="".join(labels),
                     plot="".join(plot), x_axis_px=_X_AXIS_PX, x_labels=x_labels, legend=legend)

