"""Plotly figures for the pages: trends against the baseline with interval shading, AI vs non-AI
bars with intervals, and breakdown bars. Figures only; Streamlit draws them."""
from __future__ import annotations

import datetime as dt

import numpy as np
import plotly.graph_objects as go
import polars as pl

from metrics.stats import wilson

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
AXIS_FORMAT = {"share": dict(tickformat=".0%"), "usd": dict(tickprefix="$"), "hours": dict(ticksuffix=" h"), "score": {}}
HOVER_FORMAT = {"share": ".1%", "usd": "$,.2f", "hours": ",.1f", "score": ".2f"}


def text_label(value) -> str:
    """Data (team, repo, tool names) as a plotly label: plotly reads <b>, <a href> and <br> in labels,
    so angle brackets and ampersands are written as entities and shown literally."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: go.Figure, unit: str, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=dict(l=8, r=8, t=34 if title else 8, b=8),
        title=dict(text=title, font=dict(size=14, color="#31333f"), x=0, xanchor="left", y=0.98, yanchor="top") if title else None,
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, font=dict(size=11)),
        hovermode="x unified",
        plot_bgcolor="white",
        paper_bgcolor="white",
        font=dict(family="Source Sans Pro, sans-serif", size=12, color="#31333f"),
    )
    # Shares, hours and dollars start at zero; a CSAT axis from zero would flatten every change.
    fig.update_yaxes(rangemode="normal" if unit == "score" else "tozero", gridcolor="#eef0f4", zeroline=False,
                     automargin=True, **AXIS_FORMAT.get(unit, {}))
    fig.update_xaxes(showgrid=False, automargin=True)
    return fig


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
) -> go.Figure:
    """A metric over time: one line per segment with its 95% interval shaded, the baseline (from the
    `baseline_segment` rows) as a dashed line, and `band` (a baseline interval or a guardrail) as a grey band.

    `rows` has `period, segment, value, ci_low, ci_high, baseline` (scorecard records, one team) and,
    when given, `provisional`: those periods are hatched and their points drawn hollow (their last days
    can still change). `markers` are (date, label) changes drawn as dotted vertical lines;
    `intervals` names the segments whose interval is shaded (default: all of them).
    """
    fig = go.Figure()
    _provisional_hatch(fig, rows, band, half_period_days)
    hover = HOVER_FORMAT.get(unit, ".2f")
    periods = rows["period"].unique().sort().to_list() if rows.height else []
    if band is not None and periods:
        x0, x1 = periods[0], periods[-1]
        fig.add_trace(go.Scatter(
            x=[x0, x1, x1, x0], y=[band[0], band[0], band[1], band[1]], fill="toself", mode="none",
            fillcolor="rgba(61,68,82,0.08)", name=band_label, hoverinfo="skip",
        ))
    for segment in segments:
        part = rows.filter(pl.col("segment") == segment).sort("period")
        if part.height == 0:
            continue
        name, colour = SEGMENT_STYLE.get(segment, (segment, "#2f6fdf"))
        name = (labels or {}).get(segment, name)
        x = part["period"].to_list()
        low, high = part["ci_low"].to_list(), part["ci_high"].to_list()
        if (intervals is None or segment in intervals) and any(v is not None for v in low):
            keep = [i for i, v in enumerate(low) if v is not None and high[i] is not None]
            xs = [x[i] for i in keep]
            fig.add_trace(go.Scatter(
                x=xs + xs[::-1], y=[high[i] for i in keep] + [low[i] for i in keep][::-1], fill="toself",
                mode="none", fillcolor=_rgba(colour, 0.13), name=f"{name} 95% interval", hoverinfo="skip",
                showlegend=False,
            ))
        settling = part["provisional"].fill_null(False).to_list() if "provisional" in part.columns else [False] * len(x)
        fig.add_trace(go.Scatter(
            x=x, y=part["value"].to_list(), mode="lines+markers", name=name,
            line=dict(color=colour, width=2.2 if segment == "all" else 1.8),
            marker=dict(size=[7 if p else 4 for p in settling], color=["white" if p else colour for p in settling],
                        line=dict(color=colour, width=1.5)),
            customdata=["provisional: can still change" if p else "" for p in settling],
            hovertemplate=f"%{{y:{hover}}} %{{customdata}}",
        ))
    base = rows.filter(pl.col("segment") == baseline_segment)["baseline"].drop_nulls() if rows.height else pl.Series([])
    if base.len() and periods:
        fig.add_trace(go.Scatter(
            x=[periods[0], periods[-1]], y=[base[0], base[0]], mode="lines", name="baseline",
            line=dict(color=BASELINE_COLOUR, width=1.4, dash="dash"), hovertemplate=f"%{{y:{hover}}}",
        ))
    add_markers(fig, markers, periods, 2 * half_period_days)
    return _layout(fig, unit, height, title)


PROVISIONAL_LABEL = "provisional: can still change"
MARKER_COLOUR = "#b06000"


def _provisional_hatch(fig: go.Figure, rows: pl.DataFrame, band: tuple[float, float] | None, half: float) -> None:
    """Hatch the provisional periods from the data's lowest to highest drawn value (one legend entry)."""
    if rows.height == 0 or "provisional" not in rows.columns:
        return
    settling = rows.filter(pl.col("provisional").fill_null(False))["period"].unique().sort().to_list()
    if not settling:
        return
    values = [v for c in ("value", "ci_low", "ci_high", "baseline") for v in rows[c].to_list() if v is not None]
    values += list(band or ())
    low, high = min(values + [0.0]), max(values)
    # Half a period either side of the points (datetimes: a date drops the half day).
    x0 = dt.datetime.combine(settling[0], dt.time()) - dt.timedelta(days=half)
    x1 = dt.datetime.combine(settling[-1], dt.time()) + dt.timedelta(days=half)
    fig.add_trace(go.Scatter(
        x=[x0, x1, x1, x0], y=[low, low, high, high], fill="toself", mode="none", name=PROVISIONAL_LABEL,
        fillcolor="rgba(176,96,0,0.06)", fillpattern=dict(shape="/", fgcolor="rgba(176,96,0,0.35)", size=8),
        hoverinfo="skip",
    ))


def add_markers(fig: go.Figure, markers: tuple[tuple[object, str], ...], periods: list, period_days: float = 7) -> None:
    """Change markers ("Copilot Business rollout") as dotted vertical lines with their label, where
    they fall inside the chart's periods."""
    if not periods:
        return
    first, last = periods[0], periods[-1] + dt.timedelta(days=period_days)
    for day, label in markers:
        if not (first <= day <= last):
            continue
        fig.add_shape(type="line", x0=day, x1=day, yref="paper", y0=0, y1=1,
                      line=dict(color=MARKER_COLOUR, width=1.2, dash="dot"))
        fig.add_annotation(x=day, yref="paper", y=1, text=text_label(label), showarrow=False, xanchor="left",
                           yanchor="top", font=dict(size=10, color=MARKER_COLOUR), bgcolor="rgba(255,255,255,0.7)")


def interval_bars(frame: pl.DataFrame, label: str, unit: str, *, colours: dict[str, str] | None = None,
                  height: int = 260, title: str | None = None) -> go.Figure:
    """Horizontal bars with 95% error bars: `frame` has `label`, `value`, `ci_low`, `ci_high`."""
    labels = [text_label(v) for v in frame[label].to_list()]
    values = frame["value"].to_list()
    plus = [(h - v) if h is not None and v is not None else 0 for v, h in zip(values, frame["ci_high"].to_list())]
    minus = [(v - lo) if lo is not None and v is not None else 0 for v, lo in zip(values, frame["ci_low"].to_list())]
    colour = [(colours or {}).get(str(lbl), "#2f6fdf") for lbl in frame[label].to_list()]
    fig = go.Figure(go.Bar(
        y=labels, x=values, orientation="h", marker_color=colour,
        error_x=dict(type="data", array=plus, arrayminus=minus, color="#3d4452", thickness=1.2, width=4),
        hovertemplate=f"%{{y}}: %{{x:{HOVER_FORMAT.get(unit, '.2f')}}}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, unit, height, title)
    fig.update_xaxes(showgrid=True, gridcolor="#eef0f4", **AXIS_FORMAT.get(unit, {}))
    fig.update_yaxes(tickformat=None, tickprefix=None, ticksuffix=None, rangemode=None)
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def stacked_bars(frame: pl.DataFrame, x: str, y: str, colour: str, unit: str, *, height: int = 300,
                 title: str | None = None, palette: dict[str, str] | None = None) -> go.Figure:
    """Stacked bars of `y` per `x`, one colour per value of `colour` (largest total at the bottom)."""
    fig = go.Figure()
    order = frame.group_by(colour).agg(pl.col(y).sum()).sort(y, descending=True)[colour].to_list()
    for i, key in enumerate(order):
        part = frame.filter(pl.col(colour) == key).sort(x)
        fig.add_trace(go.Bar(
            x=part[x].to_list(), y=part[y].to_list(), name=text_label(key),
            marker_color=(palette or {}).get(str(key), PALETTE[i % len(PALETTE)]),
            hovertemplate=f"%{{y:{HOVER_FORMAT.get(unit, ',.0f')}}}",
        ))
    fig.update_layout(barmode="stack")
    return _layout(fig, unit, height, title)


PALETTE = ["#2f6fdf", "#7b3fc4", "#13a89e", "#f29d38", "#d6456b", "#8a94a6", "#5ab1ef", "#b6a2de", "#2ec7c9", "#ffb980"]


def grouped_interval_bars(frame: pl.DataFrame, label: str, series: tuple[str, ...], unit: str, *,
                          height: int = 300, title: str | None = None) -> go.Figure:
    """Horizontal bars per `label`, one bar per series (a segment: its `{s}_share`, `{s}_ci_low`,
    `{s}_ci_high` columns, as `metrics.breakdown.by_segment_columns` gives), with 95% error bars."""
    fig = go.Figure()
    labels = [text_label(v) for v in frame[label].to_list()]
    for segment in series:
        name, colour = SEGMENT_STYLE.get(segment, (segment, "#2f6fdf"))
        values = frame[f"{segment}_share"].to_list()
        lows, highs = frame[f"{segment}_ci_low"].to_list(), frame[f"{segment}_ci_high"].to_list()
        fig.add_trace(go.Bar(
            y=labels, x=values, name=name, orientation="h", marker_color=colour,
            error_x=dict(
                type="data", color="#3d4452", thickness=1.1, width=3,
                array=[(h - v) if h is not None and v is not None else 0 for v, h in zip(values, highs)],
                arrayminus=[(v - lo) if lo is not None and v is not None else 0 for v, lo in zip(values, lows)],
            ),
            hovertemplate=f"%{{y}} · {name}: %{{x:{HOVER_FORMAT.get(unit, '.2f')}}}<extra></extra>",
        ))
    fig = _layout(fig, unit, height, title)
    fig.update_layout(barmode="group", hovermode="closest", bargap=0.25)
    fig.update_yaxes(autorange="reversed", tickformat=None, tickprefix=None, ticksuffix=None, rangemode=None, gridcolor=None)
    fig.update_xaxes(showgrid=True, gridcolor="#eef0f4", **AXIS_FORMAT.get(unit, {}))
    return fig
