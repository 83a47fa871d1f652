"""What the Export page offers and says about an export."""
from __future__ import annotations

import polars as pl

from metrics.registry import METRICS
from reports.export import SCORECARD

PREVIEW_ROWS = 200


def export_label(name: str) -> str:
    if name == SCORECARD:
        return "Scorecard: every metric's records"
    if name in METRICS:
        return f"Metric: {METRICS[name].title} ({name})"
    return f"Table: {name}"


def describe_export(name: str, frame: pl.DataFrame) -> str:
    """One line: how many rows and which columns (the CSV header)."""
    what = "metric records" if name == SCORECARD or name in METRICS else "rows"
    return f"**{frame.height:,} {what}** · columns: " + ", ".join(f"`{c}`" for c in frame.columns)
