"""A trend chart (app/views/charts.py `trend_figure`'s spec) drawn as static HTML (`st.html`), not as a Vega view.

Why: each Vega view costs the browser ~0.06 CPU-s before it draws anything, and a page's first view loads Vega's
bundle (~0.5 CPU-s on a first visit); a page of trend charts spent 0.5–0.7 CPU-s of its renderer on them
(docs/performance-log.md, session 13, draw12). Combining them in one Vega view would lose the responsive width.

How: the plot is an `<img>` of an SVG (Streamlit's `st.html` keeps HTML, not inline SVG) that stretches to the
container's width (`preserveAspectRatio="none"`; strokes do not scale). Points, and text — title, axis labels, change
markers' labels, the legend — are HTML laid over and around it, so they do not stretch. Over the plot, one strip per period whose title lists every series' value in the
axis' unit (what Vega's tooltip showed, one point at a time). The spec stays the chart's one description: the
numbers, colours, formats (its d3 formats, app/views/scale.py) and layer order all come from it, and it rides in
`data-spec` (packed: `charts.packed_spec`), which `benchmarks.page_elements compare --content` reads as it reads a
Vega chart.

Layout as Vega laid the spec out at Streamlit's `autosize: fit`: the spec's `height` is the whole chart's, the plot
gets what the title, the x axis and the legend leave; the y axis ticks every ~40 px of plot (Vega's tick count),
on a nice domain; the x axis from the earliest to the latest date any layer draws, labelled by month."""
from __future__ import annotations

import base64
import datetime as dt
import html
import math
import re

from app.views.charts import BASELINE_COLOUR, GRID_COLOUR, MARKER_COLOUR, TEXT_COLOUR, Chart, packed_spec
from app.views.scale import month_ticks, nice, number_format, ticks

PLOT_W = 1000.0  # the image's x units, stretched to the plot's width
DOMAIN_COLOUR = "#d0d3da"
# Vega's layout around the plot (px), from the spec's config: padding 4 above and below, a 14 px title offset 10,
# the x axis (tick, padding, 12 px labels), the legend 4 to a row below it.
_PADDING_PX, _TITLE_PX, _X_AXIS_PX = 8, 27, 22
_LEGEND_ROW_PX, _LEGEND_GAP_PX, _LEGEND_COLUMNS = 18, 12, 4
_LABEL_CHAR_PX = 6.5  # a 12 px label's average character width: the y axis' gutter
_TICK_PX, _LABEL_GAP_PX = 5, 2
_RIGHT_PX, _LAST_LABEL_PX = 8, 28  # the spec's right padding; room for half a month's name
_MONTH_LABEL_PX = 70  # a month's name and the space between two
_NO_SCALE = 'vector-effect="non-scaling-stroke"'
_HOURS_EXPR = re.compile(r"format\(datum\.value, '([^']*)'\) \+ '([^']*)'")


def _day(text: str) -> float:
    """A spec's date or UTC datetime as days since the epoch."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp() / 86400


def _formats(spec: Chart):
    """The y axis' label format and the hover's, with the unit's suffix (" h") both carry."""
    y = next(lay["encoding"]["y"] for lay in spec["layer"] if "axis" in lay.get("encoding", {}).get("y", {}))
    axis, suffix, axis_format = y["axis"], "", y["axis"].get("format")
    if "labelExpr" in axis:
        expression = _HOURS_EXPR.fullmatch(axis["labelExpr"])
        if expression is None:
            raise ValueError(f"an axis label expression this chart does not draw: {axis['labelExpr']!r}")
        axis_format, suffix = expression.groups()
    hover = next((t.get("format") for lay in spec["layer"] if lay.get("name") == "points"
                  for t in lay["encoding"]["tooltip"] if t.get("field") == "value"), ".2f")
    return axis_format, suffix, number_format(hover), y.get("scale", {}).get("zero", True)


def _legend(spec: Chart) -> list[tuple[str, str]]:
    for lay in spec["layer"]:
        scale = lay.get("encoding", {}).get("color", {}).get("scale")
        if scale:
            return list(zip(scale["domain"], scale["range"]))
    return []


def layout(spec: Chart) -> dict:
    """Where everything lies: `plot_height` (px), the x domain (`x_days`, days since the epoch), the y domain
    (`y_domain`, nice) and its `y_ticks`; `x(day)` in the image's units 0–PLOT_W and `y(value)` in px from the top."""
    legend = _legend(spec)
    rows = math.ceil(len(legend) / _LEGEND_COLUMNS)
    plot_height = (spec["height"] - _PADDING_PX - (_TITLE_PX if spec.get("title") else 0) - _X_AXIS_PX
                   - (rows * _LEGEND_ROW_PX + _LEGEND_GAP_PX if rows else 0))
    days, numbers = [], []
    for lay in spec["layer"]:
        for row in lay["data"]["values"]:
            days += [_day(row[k]) for k in ("period", "x0", "x1", "day") if row.get(k)]
            numbers += [row[k] for k in ("value", "low", "high", "y0", "y1") if row.get(k) is not None]
    *_, zero = _formats(spec)
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    low, high = nice(low, high)
    y_ticks, step = ticks(low, high, math.ceil(plot_height / 40))
    first, last = (min(days), max(days)) if days else (0.0, 0.0)
    span = last - first

    def x(day: float) -> float:
        return round((day - first) / span * PLOT_W, 2) if span else PLOT_W / 2

    def y(value: float) -> float:
        return round(plot_height * (high - value) / (high - low), 2)

    return {"plot_height": plot_height, "x_days": (first, last), "y_domain": (low, high), "y_ticks": y_ticks,
            "y_step": step, "x": x, "y": y, "legend": legend}


def _runs(rows: list[dict], present) -> list[list[dict]]:
    """A series' rows split where `present(row)` fails: a missing value breaks the line."""
    runs, run = [], []
    for row in rows:
        if present(row):
            run.append(row)
        elif run:
            runs.append(run)
            run = []
    return runs + ([run] if run else [])


def _svg(spec: Chart, at: dict) -> str:
    x, y, height = at["x"], at["y"], at["plot_height"]
    colour = dict(at["legend"])
    parts = [f'<line x1="0" x2="{PLOT_W:g}" y1="{y(v):g}" y2="{y(v):g}" stroke="{GRID_COLOUR}" stroke-width="1" {_NO_SCALE}/>'
             for v in at["y_ticks"]]
    layers = {lay["name"]: lay["data"]["values"] for lay in spec["layer"]}
    for row in layers.get("provisional", []):
        parts.append(f'<rect {_box(x, y, row)} fill="{MARKER_COLOUR}" fill-opacity="0.12" '
                     f'stroke="{MARKER_COLOUR}" stroke-opacity="0.6" stroke-dasharray="3 3" {_NO_SCALE}/>')
    for row in layers.get("band", []):
        parts.append(f'<rect {_box(x, y, row)} fill="{BASELINE_COLOUR}" fill-opacity="0.08"/>')
    points = layers.get("points", [])
    series = list(dict.fromkeys(p["series"] for p in points))
    shaded = {(row["series"], row["period"]): row for row in layers.get("intervals", [])}
    for name in series:
        rows = [p for p in points if p["series"] == name]
        for run in _runs(rows, lambda p: (name, p["period"]) in shaded):
            if len(run) < 2:  # an interval of one period has no width to shade (Vega's area draws none either)
                continue
            band = [shaded[(name, p["period"])] for p in run]
            outline = [(x(_day(r["period"])), y(r["high"])) for r in band] + [(x(_day(r["period"])), y(r["low"])) for r in band[::-1]]
            parts.append(f'<polygon points="{_coordinates(outline)}" fill="{colour[name]}" fill-opacity="0.13"/>')
    for name in series:
        rows = [p for p in points if p["series"] == name]
        for run in (r for r in _runs(rows, lambda p: p["value"] is not None) if len(r) > 1):  # a lone value: its dot
            line = [(x(_day(p["period"])), y(p["value"])) for p in run]
            parts.append(f'<polyline points="{_coordinates(line)}" fill="none" stroke="{colour[name]}" '
                         f'stroke-width="{run[0]["width"]}" stroke-linejoin="round" {_NO_SCALE}/>')
    baseline = [(x(_day(row["period"])), y(row["value"])) for row in layers.get("baseline", []) if row["value"] is not None]
    if baseline:
        parts.append(f'<polyline points="{_coordinates(baseline)}" fill="none" stroke="{BASELINE_COLOUR}" stroke-width="1.4" '
                     f'stroke-dasharray="6 4" {_NO_SCALE}/>')
    for row in layers.get("markers", []):
        at_x = x(_day(row["day"]))
        parts.append(f'<line x1="{at_x:g}" x2="{at_x:g}" y1="0" y2="{height}" stroke="{MARKER_COLOUR}" stroke-width="1.2" '
                     f'stroke-dasharray="2 3" {_NO_SCALE}/>')
    parts.append(f'<polyline points="0,0 0,{height} {PLOT_W:g},{height}" fill="none" stroke="{DOMAIN_COLOUR}" '
                 f'stroke-width="1" {_NO_SCALE}/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PLOT_W:g} {height}" preserveAspectRatio="none">'
            + "".join(parts) + "</svg>")


def _box(x, y, row: dict) -> str:
    """A rectangle's place from a row's x0, x1 (dates) and y0, y1 (values)."""
    left, top = x(_day(row["x0"])), y(row["y1"])
    return f'x="{left:g}" y="{top:g}" width="{x(_day(row["x1"])) - left:.2f}" height="{y(row["y0"]) - top:.2f}"'


def _dots(spec: Chart, at: dict) -> list[str]:
    """The points as round HTML dots over the image (an image clips what lies past its edges, and the first and last
    periods' points sit on them): 6 px filled (Vega's size 28), a provisional one a 9 px ring, white inside."""
    colour = dict(at["legend"])
    dots = []
    for p in next((lay["data"]["values"] for lay in spec["layer"] if lay.get("name") == "points"), []):
        if p["value"] is None:
            continue
        size, fill = (9, "white") if p["provisional"] else (6, colour[p["series"]])
        dots.append(f'<span style="position:absolute;left:{at["x"](_day(p["period"])) / PLOT_W:.4%};top:{at["y"](p["value"])}px;'
                    f'width:{size}px;height:{size}px;margin:-{size / 2:g}px 0 0 -{size / 2:g}px;box-sizing:border-box;'
                    f'border-radius:50%;background:{fill};border:1.5px solid {colour[p["series"]]}"></span>')
    return dots


def _coordinates(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{a:g},{b:g}" for a, b in points)


def _hover(spec: Chart, at: dict) -> list[tuple[float, float, str]]:
    """One strip per period: from halfway to the period before to halfway to the one after (the image's units),
    and its title: the period, then each series' value (and 95% interval, and whether it is provisional) and the
    baseline, in the axis' unit."""
    _, suffix, hover, _ = _formats(spec)
    layers = {lay["name"]: lay["data"]["values"] for lay in spec["layer"]}
    shaded = {(row["series"], row["period"]): row for row in layers.get("intervals", [])}
    baseline = next((row["value"] for row in layers.get("baseline", []) if row["value"] is not None), None)
    by_period: dict[str, list[str]] = {}
    for p in layers.get("points", []):
        words = f'{p["series"]}: ' + ("—" if p["value"] is None else hover(p["value"]) + suffix)
        interval = shaded.get((p["series"], p["period"]))
        if interval and p["value"] is not None:
            words += f" (95% {hover(interval['low'])}{suffix} – {hover(interval['high'])}{suffix})"
        if p["provisional"]:
            words += f" · {p['note']}"
        by_period.setdefault(p["period"], []).append(words)
    periods = sorted(by_period, key=_day)
    centres = [at["x"](_day(p)) for p in periods]
    strips = []
    for i, (period, centre) in enumerate(zip(periods, centres)):
        half_before = (centre - centres[i - 1]) / 2 if i else (centres[1] - centre) / 2 if len(centres) > 1 else PLOT_W / 2
        half_after = (centres[i + 1] - centre) / 2 if i + 1 < len(centres) else half_before
        left, right = max(0.0, centre - half_before), min(PLOT_W, centre + half_after)
        lines = [period[:10], *by_period[period]]
        if baseline is not None:
            lines.append(f"baseline: {hover(baseline)}{suffix}")
        strips.append((round(left, 2), round(right - left, 2), "\n".join(lines)))
    return strips


def trend_html(spec: Chart) -> str:
    """The chart `spec` (a `trend_figure`) as HTML: its title, the plot's image with the axes' labels, the change
    markers' labels and the hover strips over it, and the legend below."""
    at = layout(spec)
    axis_format, suffix, _, _ = _formats(spec)
    label = number_format(axis_format, at["y_step"])
    y_labels = [(at["y"](v), label(v) + suffix) for v in at["y_ticks"]]
    gutter = round(max(len(text) for _, text in y_labels) * _LABEL_CHAR_PX) + _TICK_PX + _LABEL_GAP_PX
    height = at["plot_height"]
    image = base64.b64encode(_svg(spec, at).encode()).decode()
    plot = [f'<img alt="" src="data:image/svg+xml;base64,{image}" style="position:absolute;inset:0;width:100%;height:{height}px">',
            *_dots(spec, at)]
    for top, text in y_labels:
        plot.append(f'<span style="position:absolute;right:100%;top:{top}px;width:{_TICK_PX}px;height:1px;background:{DOMAIN_COLOUR}"></span>'
                    f'<span style="position:absolute;right:calc(100% + {_TICK_PX + _LABEL_GAP_PX}px);top:{top}px;'
                    f'transform:translateY(-50%);font-size:12px;line-height:1;white-space:nowrap">{html.escape(text)}</span>')
    layers = {lay["name"]: lay["data"]["values"] for lay in spec["layer"]}
    for row in layers.get("marker labels", []):
        plot.append(f'<span style="position:absolute;left:{at["x"](_day(row["day"])) / PLOT_W:.4%};top:2px;margin-left:3px;'
                    f'font-size:10px;line-height:1.1;color:{MARKER_COLOUR};white-space:nowrap">{html.escape(row["label"])}</span>')
    plot += [f'<span title="{html.escape(title)}" style="position:absolute;top:0;bottom:0;left:{left / PLOT_W:.4%};'
             f'width:{width / PLOT_W:.4%}"></span>' for left, width, title in _hover(spec, at)]
    first, last = at["x_days"]
    months = [(day, text) for day, text in (month_ticks(_date(first), _date(last)) if last > first else [])
              if first <= _day(day.isoformat()) <= last]
    # A label centred near the right edge would be cut off: Vega shrinks the plot to fit it, so does this.
    right = _RIGHT_PX + (_LAST_LABEL_PX if months and at["x"](_day(months[-1][0].isoformat())) > 0.94 * PLOT_W else 0)
    x_labels = "".join(
        f'<span style="position:absolute;left:{at["x"](_day(day.isoformat())) / PLOT_W:.4%};top:0;width:1px;height:{_TICK_PX}px;'
        f'background:{DOMAIN_COLOUR}"></span><span style="position:absolute;left:{at["x"](_day(day.isoformat())) / PLOT_W:.4%};'
        f'top:{_TICK_PX + _LABEL_GAP_PX}px;transform:translateX(-50%);font-size:{label_size(i, len(months), _MONTH_LABEL_PX)};line-height:1;'
        f'white-space:nowrap">{text}</span>'
        for i, (day, text) in enumerate(months))
    legend = legend_entries(at["legend"])
    title = spec.get("title")
    return (f'<div data-testid="trendChart" data-spec="{packed_spec(spec)}" style="height:{spec["height"]}px;'
            f'box-sizing:border-box;padding:4px {right}px 4px {4 + gutter}px;background:white;color:{TEXT_COLOUR};overflow:hidden;'
            'container-type:inline-size">'
            + (f'<div style="font-size:14px;font-weight:600;line-height:17px;margin:0 0 10px -{gutter}px;white-space:nowrap;'
               f'overflow:hidden;text-overflow:ellipsis">{html.escape(title)}</div>'
               if title else "")
            + f'<div style="position:relative;height:{height}px">{"".join(plot)}</div>'
            + f'<div style="position:relative;height:{_X_AXIS_PX}px">{x_labels}</div>'
            + (f'<div style="display:grid;grid-template-columns:repeat({_LEGEND_COLUMNS},max-content);column-gap:18px;'
               f'grid-auto-rows:{_LEGEND_ROW_PX}px;margin:{_LEGEND_GAP_PX}px 0 0 -{gutter}px;font-size:11px">{legend}</div>'
               if legend else "")
            + "</div>")


def chart_box(testid: str, spec: Chart, *, right_px: int, gutter: float, plot_height: float, axis: str, plot: str,
              x_axis_px: float, x_labels: str, legend: str) -> str:
    """The frame the static bar charts share (app/views/bars_html.py, stacked_html.py): the spec packed in
    `data-spec`, the title, the y axis' labels (`axis`) in the gutter beside the plot, whose left and bottom edges
    are the axes' lines, the x axis' labels under it, then `legend` (HTML; empty for none)."""
    title = spec.get("title")
    return (f'<div data-testid="{testid}" data-spec="{packed_spec(spec)}" style="height:{spec["height"]}px;'
            f'box-sizing:border-box;padding:4px {right_px}px 4px 4px;background:white;color:{TEXT_COLOUR};overflow:hidden">'
            + (f'<div style="font-size:14px;font-weight:600;line-height:17px;margin-bottom:10px;white-space:nowrap;overflow:hidden;'
               f'text-overflow:ellipsis">{html.escape(title)}</div>' if title else "")
            + f'<div style="display:flex;height:{plot_height}px"><div style="position:relative;flex:none;width:{gutter}px">'
            + axis + f'</div><div style="position:relative;flex:1;border-left:1px solid {DOMAIN_COLOUR};'
            f'border-bottom:1px solid {DOMAIN_COLOUR}">' + plot + "</div></div>"
            + f'<div style="display:flex;height:{x_axis_px}px"><div style="flex:none;width:{gutter + 1}px"></div>'
            f'<div style="position:relative;flex:1;container-type:inline-size">{x_labels}</div></div>'
            + legend + "</div>")


def label_size(index: int, count: int, label_px: float) -> str:
    """An axis label's font size: 12 px where the plot is wide enough for it, else 0 (hidden), as Vega drops labels
    that would overlap: every label needs ~`label_px` of plot, every other one half that, every fourth one is always
    shown. The plot's width is known only in the browser: `cqw` is a hundredth of the label's container's (the chart,
    or the axis' row)."""
    if index % 4 == 0:
        return "12px"
    room = label_px * count / (2 if index % 2 == 0 else 1)
    return f"clamp(0px,calc((100cqw - {room:g}px) * 1000),12px)"


def legend_entries(entries: list[tuple[str, str]]) -> str:
    """A legend's entries, (name, colour) each: a square of the colour and the name as text."""
    return "".join(f'<span style="display:flex;align-items:center;gap:5px;white-space:nowrap"><span style="display:inline-block;'
                   f'width:10px;height:10px;background:{hue};opacity:0.85"></span>{html.escape(name)}</span>'
                   for name, hue in entries)


def _date(day: float) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=math.floor(day))
