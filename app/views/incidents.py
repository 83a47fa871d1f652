"""Incidents & MTTR: the mean, median and p90 over time, AI-assisted response vs not, and the
incidents behind them (counted when resolved, as `mttr_hours` counts them)."""
from __future__ import annotations

import polars as pl

from reports.filters import Filters
from reports.format import link_column

HOURS = (pl.col("resolved_at") - pl.col("started_at")).dt.total_microseconds() / 3_600_000_000


def _in_range(frame: pl.DataFrame, column: str, filters: Filters) -> pl.DataFrame:
    bounds = filters.bounds()
    if bounds is None:
        return frame.clear()
    frame = frame.filter((pl.col(column) >= bounds[0]) & (pl.col(column) < bounds[1]))
    return frame.filter(pl.col("team") == filters.team) if filters.team else frame


def incident_list(incidents: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The incidents resolved in the selected periods, latest first.

    Columns: `title, team, service, severity, started_at, resolved_at, hours, ai_assisted, url, id`.
    """
    resolved = incidents.filter(pl.col("started_at").is_not_null() & pl.col("resolved_at").is_not_null())
    return _in_range(resolved, "resolved_at", filters).sort("resolved_at", descending=True).select(
        "title", "team", "service", "severity", "started_at", "resolved_at", hours=HOURS,
        ai_assisted=pl.col("ai_assisted").fill_null(False), url=link_column(), id="id",
    )


def open_incidents(incidents: pl.DataFrame, filters: Filters) -> int:
    """Incidents started in the selected periods and not resolved yet (MTTR cannot count them)."""
    return _in_range(incidents.filter(pl.col("resolved_at").is_null()), "started_at", filters).height


def mttr_statistics(records: pl.DataFrame, team: str | None, metric: str) -> pl.DataFrame:
    """Mean, median and p90 per period of `metric` (the time to restore; segment all) as rows shaped for
    the trend chart: `period`,
    `segment` ("mean", "median", "p90"), `value`, `ci_low`/`ci_high` (the mean's interval only),
    `baseline` (the mean's baseline, on the mean rows)."""
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    rows = records.filter((pl.col("metric") == metric) & (pl.col("segment") == "all") & who).sort("period")
    none = pl.lit(None, dtype=pl.Float64)
    parts = [
        rows.select("period", segment=pl.lit("mean"), value="value", ci_low="ci_low", ci_high="ci_high", baseline="baseline"),
        rows.select("period", segment=pl.lit("median"), value="median", ci_low=none, ci_high=none, baseline=none),
        rows.select("period", segment=pl.lit("p90"), value="p90", ci_low=none, ci_high=none, baseline=none),
    ]
    return pl.concat(parts)


def by_team(incidents: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Resolved incidents per team over the selected periods: `team, incidents, ai_assisted_share,
    mean_hours, median_hours, p90_hours`, slowest mean first."""
    rows = incident_list(incidents, filters)
    return rows.group_by("team").agg(
        incidents=pl.len().cast(pl.Int64),
        ai_assisted_share=pl.col("ai_assisted").mean(),
        mean_hours=pl.col("hours").mean(),
        median_hours=pl.col("hours").median(),
        p90_hours=pl.col("hours").quantile(0.9, interpolation="linear"),
    ).sort(["mean_hours", "team"], descending=[True, False])
