"""The scorecard's trend charts: which metrics, which segments, which band, from the records."""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import polars as pl

from app.views.charts import baseline_band, trend_figure
from metrics.registry import METRICS


@dataclass(frozen=True)
class Trend:
    metric: str
    title: str
    segments: tuple[str, ...]
    labels: dict[str, str] | None = None
    intervals: tuple[str, ...] | None = None  # shaded segments (None: every segment drawn)


TRENDS = (
    Trend("ai_merge_rate", "AI-assisted merge rate", ("all",), {"all": "AI-assisted share"}),
    Trend("rollback_share", "Rollback share: AI-assisted PRs vs others", ("ai", "non_ai")),
    Trend("mttr_hours", "MTTR (hours): AI-assisted response vs not", ("all", "ai", "non_ai"),
          {"all": "All incidents"}, intervals=("all",)),
    Trend("deflection_rate", "Support deflection", ("all",), {"all": "Deflected share"}),
    Trend("csat", "CSAT: AI bot vs other channels (band: guardrail)", ("all", "ai", "non_ai"),
          {"all": "All tickets", "ai": "AI bot", "non_ai": "Other channels"}, intervals=("all",)),
    Trend("ai_cost_per_unit", "AI cost per resolved unit", ("all",), {"all": "USD per unit"}),
)


def series(records: pl.DataFrame, metric: str, team: str | None) -> pl.DataFrame:
    """One metric's records for the whole org (team None) or one team, oldest first."""
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    return records.filter((pl.col("metric") == metric) & who).sort("period", "segment")


def trend_chart(records: pl.DataFrame, trend: Trend, team: str | None, *, csat_tolerance: float,
                markers: tuple[tuple[object, str], ...] = (), grain: str = "week") -> go.Figure:
    """The metric over time against its baseline: the baseline's own interval as a band for ratio
    metrics, the CSAT guardrail (baseline ± tolerance) for CSAT; provisional periods hatched; the
    change `markers` (config [[markers]] and the AI adoption week) as dotted lines."""
    spec = METRICS[trend.metric]
    rows = series(records, trend.metric, team)
    overall = rows.filter(pl.col("segment") == "all")
    band, band_label = None, "baseline 95% interval"
    if overall.height:
        first = overall.row(0, named=True)
        if trend.metric == "csat" and first["baseline"] is not None:
            band = (first["baseline"] - csat_tolerance, first["baseline"] + csat_tolerance)
            band_label = f"baseline ± {csat_tolerance:g} (CSAT tolerance)"
        else:
            band = baseline_band(spec.kind, first["baseline"], first["baseline_n"])
    return trend_figure(rows, spec.unit, segments=trend.segments, labels=trend.labels, band=band,
                        band_label=band_label, intervals=trend.intervals, title=trend.title, markers=markers,
                        half_period_days=3.5 if grain == "week" else 15)
