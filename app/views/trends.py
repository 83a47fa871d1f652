"""The scorecard's trend charts: which metrics, which segments, which band, from the records. Which
metrics and their words come from the metric registry (`MetricSpec.trend`)."""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from app.views.charts import Chart, baseline_band, trend_figure
from metrics.registry import METRICS, ToleranceTest


@dataclass(frozen=True)
class Trend:
    metric: str
    title: str
    segments: tuple[str, ...]
    labels: dict[str, str] | None = None
    intervals: tuple[str, ...] | None = None  # shaded segments (None: every segment drawn)


TRENDS = tuple(
    Trend(m.id, m.trend.title, m.trend.segments, dict(m.trend.labels) or None, intervals=m.trend.intervals)
    for m in METRICS.values() if m.trend is not None
)


def series(records: pl.DataFrame, metric: str, team: str | None) -> pl.DataFrame:
    """One metric's records for the whole org (team None) or one team, oldest first."""
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    return records.filter((pl.col("metric") == metric) & who).sort("period", "segment")


def trend_chart(records: pl.DataFrame, trend: Trend, team: str | None, *, csat_tolerance: float,
                markers: tuple[tuple[object, str], ...] = (), grain: str = "week") -> Chart:
    """The metric over time against its baseline: the baseline's own interval as a band for ratio
    metrics, baseline ± tolerance for a metric judged by a tolerance in points (CSAT: `csat_tolerance`,
    its guardrail); provisional periods shaded; the change `markers` (config [[markers]] and the AI
    adoption week) as dotted lines."""
    spec = METRICS[trend.metric]
    rows = series(records, trend.metric, team)
    overall = rows.filter(pl.col("segment") == "all")
    band, band_label = None, "baseline 95% interval"
    if overall.height:
        first = overall.row(0, named=True)
        points = isinstance(spec.status, ToleranceTest) and not spec.status.relative
        if points and first["baseline"] is not None:
            band = (first["baseline"] - csat_tolerance, first["baseline"] + csat_tolerance)
            band_label = f"baseline ± {csat_tolerance:g} ({spec.short_title} tolerance)"
        else:
            band = baseline_band(spec.kind, first["baseline"], first["baseline_n"])
    return trend_figure(rows, spec.unit, segments=trend.segments, labels=trend.labels, band=band,
                        band_label=band_label, intervals=trend.intervals, title=trend.title, markers=markers,
                        half_period_days=3.5 if grain == "week" else 15)
