"""A tile's sparkline as static HTML (`st.html`): the line as an SVG image, and over it one strip per period whose
tooltip is that period's value.

Why not `st.metric(chart_data=…)`: Streamlit draws each such sparkline as its own Vega view (vega-embed, the
expression interpreter, a hover selection), ~0.04 CPU-s of the browser each on a first visit (Delivery's 13: ~0.5);
this costs ~0.005 (docs/performance-log.md, session 13, draw12: Delivery's renderer −0.6 to −0.8 CPU-s). It is
drawn as Streamlit draws it: the tile's width, 3.5rem high, the line from edge to edge between the values' lowest
and highest (no zero), 2 px with round caps, in the palette colour of the tile's delta (the default light theme's).

The line is an `<img>` of an SVG (Streamlit's `st.html` keeps HTML, not inline SVG); the strips are `<span title>`s,
so hovering a period shows its value, in the tile's unit (Streamlit showed the raw number). `data-values` holds the
values as JSON: what `benchmarks.page_elements` compares. Missing values break the line.
"""
from __future__ import annotations

import base64
import html
import json
import math

# Streamlit 1.67's light theme: the colours its metric gives a sparkline by the delta's colour (greenColor, …).
COLOURS = {"green": "#079464", "red": "#D94A57", "blue": "#3B82F6", "orange": "#E0682B", "violet": "#9B5DE5",
           "yellow": "#BB8300", "gray": "#6B7280"}
HEIGHT_PX = 56  # Streamlit's 3.5rem
_VIEW_W, _VIEW_H, _PAD = 1000.0, float(HEIGHT_PX), 2.0  # the image's own units (stretched to the tile's width)


def _finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def points(values: list[float | None]) -> list[list[tuple[float, float]]]:
    """The line's runs of points in the image's units: x from 0 to `_VIEW_W` (the first value at the left edge, the
    last at the right, as Streamlit's unpadded scale puts them), y from `_VIEW_H - _PAD` (lowest) to `_PAD` (highest),
    the middle when every value is the same; a missing value ends a run."""
    finite = [v for v in values if _finite(v)]
    if not finite:
        return []
    low, high = min(finite), max(finite)
    step = _VIEW_W / (len(values) - 1) if len(values) > 1 else 0.0
    runs, run = [], []
    for i, v in enumerate(values):
        if not _finite(v):
            if run:
                runs.append(run)
            run = []
            continue
        share = (v - low) / (high - low) if high > low else 0.5
        run.append((round(i * step, 2), round(_VIEW_H - _PAD - share * (_VIEW_H - 2 * _PAD), 2)))
    if run:
        runs.append(run)
    return runs


def sparkline_html(values: list[float | None], colour: str, tips: list[str]) -> str:
    """The sparkline of `values` (oldest first) in the palette `colour` of the tile's delta, each period's strip
    titled with its `tips` entry (the value in words)."""
    if len(tips) != len(values):
        raise ValueError(f"a sparkline of {len(values)} values needs as many tooltips, not {len(tips)}")
    stroke = COLOURS.get(colour, COLOURS["gray"])
    lines = "".join(
        f'<polyline points="{" ".join(f"{x},{y}" for x, y in run)}" fill="none" stroke="{stroke}" stroke-width="2" '
        'stroke-linecap="round" stroke-linejoin="round" vector-effect="non-scaling-stroke"/>'
        if len(run) > 1 else
        f'<circle cx="{run[0][0]}" cy="{run[0][1]}" r="1.5" fill="{stroke}"/>'
        for run in points(values))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_VIEW_W:g} {_VIEW_H:g}" preserveAspectRatio="none">'
           f"{lines}</svg>")
    image = base64.b64encode(svg.encode()).decode()
    # Each strip centred on its point: the first and last half as wide (their points sit on the edges).
    ends = (0, len(tips) - 1) if len(tips) > 1 else ()
    strips = "".join(f'<span title="{html.escape(tip)}" style="flex:{0.5 if i in ends else 1}"></span>'
                     for i, tip in enumerate(tips))
    exact = html.escape(json.dumps([v if _finite(v) else None for v in values]))
    return (f'<div data-testid="tileSparkline" data-values="{exact}" style="position:relative;height:{HEIGHT_PX}px">'
            f'<img alt="" src="data:image/svg+xml;base64,{image}" style="display:block;width:100%;height:{HEIGHT_PX}px">'
            f'<div style="position:absolute;inset:0;display:flex">{strips}</div></div>')
