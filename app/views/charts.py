"""Vega-Lite charts for the pages: trends against the baseline with interval shading, AI vs non-AI bars
with intervals, and breakdown bars. Specs only (plain dicts, their data inline). Trend charts and interval bars
are drawn from their spec as static HTML (app/views/trend_html.py, bars_html.py; app/components.py `trend`,
`interval_bars`): a Vega view costs the browser ~0.06 CPU-s before it draws anything, and a page's first loads
Vega's bundle (docs/performance-log.md, sessions 13–14). Streamlit's Vega draws the others (`chart`).

Vega-Lite, not plotly: the browser draws a page of six trend charts in ~0.5 s of CPU against plotly's ~1.3 s
on this machine (docs/performance-log.md, session 10). Every layer carries a `name` (what it draws), which the
tests and the HTML drawings read.

Dates are drawn on a UTC time scale: a period starting 2026-03-02 shows as 2 March in every viewer's time
zone. Data (team, repo, tool names) is drawn as text: Vega never reads markup in labels or tooltips."""
from __future__ import annotations

import base64
import datetime as dt
import json
import zlib

import numpy as np
import polars as pl

from metrics.stats import wilson

Chart = dict  # a Vega-Lite spec

SEGMENT_STYLE = {
    "all": ("All PRs", "#2f6fdf"),
    "ai": ("AI-assisted", "#7b3fc4"),
    "non_ai": ("Not AI-assisted", "#8a94a6"),
    "mean": ("Mean", "#2f6fdf"),
    "median": ("Median", "#13a89e"),
    "p90": ("p90", "#f29d38"),
    "ai_change": ("Caused by an AI-assisted change", "#7b3fc4"),
    "non_ai_change": ("Caused by another change", "#8a94a6"),
}
BASELINE_COLOUR = "#3d4452"
TEXT_COLOUR = "#31333f"
GRID_COLOUR = "#eef0f4"
# Axis labels by unit (d3 formats, as Vega reads them).
AXIS_FORMAT = {"share": {"format": ".0%"}, "usd": {"format": "$,.3~r"},
               "hours": {"labelExpr": "format(datum.value, ',.4~r') + ' h'"}, "count": {"format": ",~r"}, "score": {}}
# Tooltip values by unit.
HOVER_FORMAT = {"share": ".1%", "usd": "$,.2f", "hours": ",.1f", "score": ".2f", "count": ",.0f"}
PROVISIONAL_LABEL = "provisional: can still change"
MARKER_COLOUR = "#b06000"
PALETTE = ["#2f6fdf", "#7b3fc4", "#13a89e", "#f29d38", "#d6456b", "#8a94a6", "#5ab1ef", "#b6a2de", "#2ec7c9", "#ffb980"]
_UTC_TIME = {"type": "temporal", "scale": {"type": "utc"}}


def packed_spec(spec: Chart) -> str:
    """A spec as a chart drawn as static HTML carries it (`data-spec`), for `benchmarks.page_elements` to read the
    numbers drawn: compressed, because the browser never reads it but Streamlit's HTML sanitizer scans every attribute
    (a Delivery trend chart's spec is ~40 kB as escaped JSON, ~4.5 kB packed; sanitizing and inserting the page's five
    charts took 98–132 ms with the JSON, 15–23 ms packed, 14 ms with no spec: docs/performance-log.md, chart14)."""
    return base64.b64encode(zlib.compress(json.dumps(spec).encode(), 9)).decode()


def _iso(value) -> str | None:
    """A date as `YYYY-MM-DD` (Vega reads it as UTC midnight), a datetime as UTC ISO with `Z`."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _num(value):
    """A number as JSON can carry it: NaN and infinities (no JSON number) as null, drawn as a gap."""
    return None if value is None or (isinstance(value, float) and not np.isfinite(value)) else value


def _chart(layers: list[dict], height: int, title: str | None, legend: bool = True) -> Chart:
    spec: Chart = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "height": height,
        "background": "white",
        "padding": {"left": 4, "right": 8, "top": 4, "bottom": 4},
        "layer": layers,
        "config": {
            "font": "Source Sans Pro, sans-serif",
            "view": {"stroke": None},
            "axis": {"labelFontSize": 12, "labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR, "gridColor": GRID_COLOUR,
                     "domainColor": "#d0d3da", "tickColor": "#d0d3da", "title": None},
            "legend": {"orient": "bottom", "direction": "horizontal", "title": None, "labelFontSize": 11,
                       "labelColor": TEXT_COLOUR, "labelLimit": 320, "symbolType": "square", "columns": 4,
                       "symbolOpacity": 0.85,
                       "disable": not legend},
            "title": {"fontSize": 14, "fontWeight": 600, "color": TEXT_COLOUR, "anchor": "start", "offset": 10},
        },
    }
    if title:
        spec["title"] = title
    return spec


def _y_axis(unit: str) -> dict:
    # Shares, hours and dollars start at zero; a CSAT axis from zero would flatten every change.
    return {"type": "quantitative", "title": None, "scale": {"zero": unit != "score"},
            "axis": {"grid": True, **AXIS_FORMAT.get(unit, {})}}


def _value_tooltip(field: str, unit: str, title: str = "value") -> dict:
    return {"field": field, "type": "quantitative", "format": HOVER_FORMAT.get(unit, ".2f"), "title": title}


def baseline_band(metric_kind: str, baseline: float | None, baseline_n: int | None) -> tuple[float, float] | None:
    """The baseline's own 95% interval where the records allow it: Wilson for ratio metrics (the
    baseline is x / n pooled over the window). Mean metrics keep no spread of their baseline."""
    if metric_kind != "ratio" or baseline is None or not baseline_n:
        return None
    low, high = wilson(np.array([baseline * baseline_n]), np.array([baseline_n]))
    return float(low[0]), float(high[0])


def trend_figure(
    rows: pl.DataFrame,
    unit: str,
    *,
    segments: tuple[str, ...] = ("all",),
    labels: dict[str, str] | None = None,
    band: tuple[float, float] | None = None,
    band_label: str = "baseline 95% interval",
    intervals: tuple[str, ...] | None = None,
    baseline_segment: str = "all",
    title: str | None = None,
    height: int = 320,
    markers: tuple[tuple[object, str], ...] = (),
    half_period_days: float = 3.5,
) -> Chart:
    """A metric over time: one line per segment with its 95% interval shaded, the baseline (from the
    `baseline_segment` rows) as a dashed line, and `band` (a baseline interval or a guardrail) as a grey band.

    `rows` has `period, segment, value, ci_low, ci_high, baseline` (scorecard records, one team) and,
    when given, `provisional`: those periods are shaded and their points drawn hollow (their last days
    can still change). `markers` are (date, label) changes drawn as dotted vertical lines;
    `intervals` names the segments whose interval is shaded (default: all of them).

    The legend names, in drawing order: the band, each segment, the baseline, the provisional periods."""
    periods = rows["period"].unique().sort().to_list() if rows.height else []
    domain: list[str] = []
    colours: list[str] = []

    def legend_entry(name: str, colour: str) -> str:
        if name not in domain:
            domain.append(name)
            colours.append(colour)
        return name

    colour = {"field": "series", "type": "nominal", "legend": {"title": None}}  # its scale is set at the end
    layers: list[dict] = []
    hatch = _provisional_hatch(rows, band, half_period_days)
    if hatch is not None:
        hatch["data"]["values"][0]["series"] = legend_entry(PROVISIONAL_LABEL, MARKER_COLOUR)
        layers.append({**hatch, "encoding": {**hatch["encoding"], "color": colour}})
    if band is not None and periods:
        layers.append({
            "name": "band", "data": {"values": [{"x0": _iso(periods[0]), "x1": _iso(periods[-1]), "y0": band[0],
                                                 "y1": band[1], "series": legend_entry(band_label, BASELINE_COLOUR)}]},
            "mark": {"type": "rect", "opacity": 0.08},
            "encoding": {"x": {"field": "x0", **_UTC_TIME, "title": None}, "x2": {"field": "x1"},
                         "y": {"field": "y0", **_y_axis(unit)}, "y2": {"field": "y1"}, "color": colour},
        })
    points, shaded = [], []
    for segment in segments:
        part = rows.filter(pl.col("segment") == segment).sort("period")
        if part.height == 0:
            continue
        name, hue = SEGMENT_STYLE.get(segment, (segment, "#2f6fdf"))
        name = legend_entry((labels or {}).get(segment, name), hue)
        settling = part["provisional"].fill_null(False).to_list() if "provisional" in part.columns else [False] * part.height
        shade = intervals is None or segment in intervals
        for period, value, low, high, provisional in zip(part["period"].to_list(), part["value"].to_list(),
                                                         part["ci_low"].to_list(), part["ci_high"].to_list(), settling):
            points.append({"period": _iso(period), "series": name, "value": _num(value), "width": 2.2 if segment == "all" else 1.8,
                           "provisional": bool(provisional), "note": PROVISIONAL_LABEL if provisional else ""})
            low, high = _num(low), _num(high)
            if shade and low is not None and high is not None:
                shaded.append({"period": _iso(period), "series": name, "low": low, "high": high})
    x = {"field": "period", **_UTC_TIME, "title": None, "axis": {"grid": False}}
    if shaded:
        layers.append({"name": "intervals", "data": {"values": shaded}, "mark": {"type": "area", "opacity": 0.13},
                       "encoding": {"x": x, "y": {"field": "low", **_y_axis(unit)}, "y2": {"field": "high"},
                                    "color": colour, "detail": {"field": "series"}}})
    if points:
        tooltip = [{"field": "period", **_UTC_TIME, "format": "%Y-%m-%d", "title": "period"},
                   {"field": "series", "title": "series"}, _value_tooltip("value", unit),
                   {"field": "note", "title": "note"}]
        layers.append({"name": "lines", "data": {"values": points}, "mark": {"type": "line"},
                       "encoding": {"x": x, "y": {"field": "value", **_y_axis(unit)}, "color": colour,
                                    "strokeWidth": {"field": "width", "type": "quantitative", "scale": None, "legend": None}}})
        layers.append({"name": "points", "data": {"values": points},
                       "mark": {"type": "point", "filled": True, "size": 28, "strokeWidth": 1.5},
                       "encoding": {"x": x, "y": {"field": "value", **_y_axis(unit)}, "color": colour,
                                    "fill": {"condition": {"test": "datum.provisional", "value": "white"},
                                             "field": "series", "type": "nominal", "legend": None},
                                    "size": {"condition": {"test": "datum.provisional", "value": 60}, "value": 28},
                                    "tooltip": tooltip}})
    base = rows.filter(pl.col("segment") == baseline_segment)["baseline"].drop_nulls() if rows.height else pl.Series([])
    if base.len() and periods:
        layers.append({
            "name": "baseline",
            "data": {"values": [{"period": _iso(p), "value": _num(base[0]), "series": legend_entry("baseline", BASELINE_COLOUR)}
                                for p in (periods[0], periods[-1])]},
            "mark": {"type": "line", "strokeDash": [6, 4], "strokeWidth": 1.4},
            "encoding": {"x": x, "y": {"field": "value", **_y_axis(unit)}, "color": colour,
                         "tooltip": [_value_tooltip("value", unit, "baseline")]},
        })
    layers += _markers(markers, periods, 2 * half_period_days)
    scale = {"domain": domain, "range": colours}
    for layer in layers:
        for channel in ("color", "fill"):
            if layer.get("encoding", {}).get(channel, {}).get("field") == "series":
                layer["encoding"][channel] = {**layer["encoding"][channel], "scale": scale}
    if not layers:  # no data: an empty frame with the unit's axis, as before
        layers.append({"name": "empty", "data": {"values": []}, "mark": "point",
                       "encoding": {"x": x, "y": {"field": "value", **_y_axis(unit)}}})
    return _chart(layers, height, title)


def _provisional_hatch(rows: pl.DataFrame, band: tuple[float, float] | None, half: float) -> dict | None:
    """The provisional periods shaded from the data's lowest to highest drawn value (one legend entry)."""
    if rows.height == 0 or "provisional" not in rows.columns:
        return None
    settling = rows.filter(pl.col("provisional").fill_null(False))["period"].unique().sort().to_list()
    if not settling:
        return None
    values = [v for c in ("value", "ci_low", "ci_high", "baseline") for v in map(_num, rows[c].to_list()) if v is not None]
    values += list(band or ())
    low, high = min(values + [0.0]), max(values)
    # Half a period either side of the points.
    x0 = dt.datetime.combine(settling[0], dt.time()) - dt.timedelta(days=half)
    x1 = dt.datetime.combine(settling[-1], dt.time()) + dt.timedelta(days=half)
    return {"name": "provisional", "data": {"values": [{"x0": _iso(x0), "x1": _iso(x1), "y0": low, "y1": high}]},
            "mark": {"type": "rect", "opacity": 0.12, "stroke": MARKER_COLOUR, "strokeDash": [3, 3], "strokeOpacity": 0.6},
            "encoding": {"x": {"field": "x0", **_UTC_TIME, "title": None}, "x2": {"field": "x1"},
                         "y": {"field": "y0", "type": "quantitative", "title": None}, "y2": {"field": "y1"}}}


def _markers(markers: tuple[tuple[object, str], ...], periods: list, period_days: float = 7) -> list[dict]:
    """Change markers ("Copilot Business rollout") as dotted vertical lines with their label, where
    they fall inside the chart's periods."""
    if not periods:
        return []
    first, last = periods[0], periods[-1] + dt.timedelta(days=period_days)
    inside = [{"day": _iso(day), "label": str(label)} for day, label in markers if first <= day <= last]
    if not inside:
        return []
    x = {"field": "day", **_UTC_TIME, "title": None}
    return [
        {"name": "markers", "data": {"values": inside}, "mark": {"type": "rule", "color": MARKER_COLOUR, "strokeWidth": 1.2,
                                                                   "strokeDash": [2, 3]},
         "encoding": {"x": x, "tooltip": [{"field": "label", "title": "change"}]}},
        {"name": "marker labels", "data": {"values": inside},
         "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 3, "dy": 2, "fontSize": 10,
                  "color": MARKER_COLOUR},
         "encoding": {"x": x, "y": {"value": 0}, "text": {"field": "label"}}},
    ]


def _error_bars(unit: str, y: dict, extra: dict | None = None) -> dict:
    return {"name": "intervals", "transform": [{"filter": "isValid(datum.low) && isValid(datum.high)"}],
            "mark": {"type": "errorbar", "ticks": {"size": 6}, "color": BASELINE_COLOUR, "thickness": 1.2},
            "encoding": {"x": {"field": "low", "type": "quantitative", "title": None}, "x2": {"field": "high"}, "y": y,
                         **(extra or {})}}


def interval_bars(frame: pl.DataFrame, label: str, unit: str, *, colours: dict[str, str] | None = None,
                  height: int = 260, title: str | None = None) -> Chart:
    """Horizontal bars with 95% error bars, in the frame's order from the top: `frame` has `label`,
    `value`, `ci_low`, `ci_high`."""
    values = [{"label": str(lbl), "value": _num(v), "low": _num(lo), "high": _num(hi), "colour": (colours or {}).get(str(lbl), "#2f6fdf")}
              for lbl, v, lo, hi in zip(frame[label].to_list(), frame["value"].to_list(), frame["ci_low"].to_list(),
                                        frame["ci_high"].to_list())]
    y = {"field": "label", "type": "nominal", "sort": None, "title": None}
    x_axis = {"grid": True, **AXIS_FORMAT.get(unit, {})}
    bars = {"name": "bars", "mark": {"type": "bar"},
            "encoding": {"y": y, "x": {"field": "value", "type": "quantitative", "title": None, "axis": x_axis},
                         "color": {"field": "colour", "type": "nominal", "scale": None},
                         "tooltip": [{"field": "label", "title": label}, _value_tooltip("value", unit),
                                     _value_tooltip("low", unit, "95% from"), _value_tooltip("high", unit, "95% to")]}}
    spec = _chart([bars, _error_bars(unit, y)], height, title, legend=False)
    spec["data"] = {"values": values}
    return spec


def stacked_bars(frame: pl.DataFrame, x: str, y: str, colour: str, unit: str, *, height: int = 300,
                 title: str | None = None, palette: dict[str, str] | None = None) -> Chart:
    """Stacked bars of `y` per `x`, one colour per value of `colour` (largest total at the bottom)."""
    order = frame.group_by(colour).agg(pl.col(y).sum()).sort(y, descending=True)[colour].to_list()
    rank = {key: i for i, key in enumerate(order)}
    values = [{"x": _iso(a), "y": _num(b), "key": str(k), "rank": rank[k]}
              for a, b, k in zip(frame[x].to_list(), frame[y].to_list(), frame[colour].to_list())]
    domain = [str(k) for k in order]
    hues = [(palette or {}).get(str(k), PALETTE[i % len(PALETTE)]) for i, k in enumerate(order)]
    # Periods (dates) as ordered bands, one bar each, labelled by their first day.
    temporal = frame.schema[x] in (pl.Date, pl.Datetime)
    x_enc = {"field": "x", "type": "ordinal" if temporal else "nominal", "title": None, "sort": "ascending" if temporal else None,
             **({"axis": {"labelAngle": -40}} if temporal else {})}
    bars = {"name": "bars", "mark": {"type": "bar"},
            "encoding": {"x": x_enc, "y": {"field": "y", **_y_axis(unit), "stack": "zero"},
                         "color": {"field": "key", "type": "nominal", "scale": {"domain": domain, "range": hues},
                                   "legend": {"title": None}},
                         "order": {"field": "rank", "type": "quantitative", "sort": "ascending"},
                         "tooltip": [{"field": "x", "title": x}, {"field": "key", "title": colour},
                                     _value_tooltip("y", unit, y)]}}
    spec = _chart([bars], height, title)
    spec["data"] = {"values": values}
    return spec


def grouped_interval_bars(frame: pl.DataFrame, label: str, series: tuple[str, ...], unit: str, *,
                          height: int = 300, title: str | None = None) -> Chart:
    """Horizontal bars per `label` in the frame's order from the top, one bar per series (a segment: its
    `{s}_share`, `{s}_ci_low`, `{s}_ci_high` columns, as `metrics.breakdown.by_segment_columns` gives), with
    95% error bars."""
    names = [SEGMENT_STYLE.get(s, (s, "#2f6fdf"))[0] for s in series]
    hues = [SEGMENT_STYLE.get(s, (s, "#2f6fdf"))[1] for s in series]
    values = []
    for segment, name in zip(series, names):
        for lbl, v, lo, hi in zip(frame[label].to_list(), frame[f"{segment}_share"].to_list(),
                                  frame[f"{segment}_ci_low"].to_list(), frame[f"{segment}_ci_high"].to_list()):
            values.append({"label": str(lbl), "series": name, "value": _num(v), "low": _num(lo), "high": _num(hi)})
    y = {"field": "label", "type": "nominal", "sort": None, "title": None}
    offset = {"yOffset": {"field": "series", "type": "nominal", "sort": names}}
    colour = {"field": "series", "type": "nominal", "scale": {"domain": names, "range": hues}, "legend": {"title": None}}
    bars = {"name": "bars", "mark": {"type": "bar"},
            "encoding": {"y": y, **offset, "x": {"field": "value", "type": "quantitative", "title": None,
                                                 "axis": {"grid": True, **AXIS_FORMAT.get(unit, {})}},
                         "color": colour,
                         "tooltip": [{"field": "label", "title": label}, {"field": "series", "title": "segment"},
                                     _value_tooltip("value", unit), _value_tooltip("low", unit, "95% from"),
                                     _value_tooltip("high", unit, "95% to")]}}
    spec = _chart([bars, _error_bars(unit, y, offset)], height, title)
    spec["data"] = {"values": values}
    return spec
