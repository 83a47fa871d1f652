"""`lead_time_hours`' events: one row per shipped PR with a `created_at`.

Columns: `id, at` (the finished_at of the deployment that shipped it: the counting time), `team` (the
PR's), `segment` ("ai" / "non_ai", the PR's flag), `value` (hours from created_at to that finished_at),
`reason`. A PR created after its deployment finished (only possible through a source's deployment
link) has a negative lead time and is left out with the PRs without `created_at`.
"""
from __future__ import annotations

import polars as pl

from metrics.evidence import Evidence


def lead_time_events(evidence: Evidence, outcomes: pl.DataFrame, reasons: bool = True) -> pl.DataFrame:
    created = evidence.pull_requests.select("id", "created_at")
    shipped = outcomes.filter(pl.col("shipped_at").is_not_null()).join(created, on="id", how="left").filter(
        pl.col("created_at").is_not_null() & (pl.col("shipped_at") >= pl.col("created_at"))
    )
    hours = (pl.col("shipped_at") - pl.col("created_at")).dt.total_microseconds() / 3_600_000_000
    reason = (
        pl.format("created {}, shipped in {} after {} h", pl.col("created_at").dt.strftime("%Y-%m-%d %H:%M UTC"),
                  "shipped_deployment_id", hours.round(2))
        if reasons else pl.lit(None, pl.String)
    )
    return shipped.select(
        "id", at="shipped_at", team="team",
        segment=pl.when(pl.col("ai_assisted").fill_null(False)).then(pl.lit("ai")).otherwise(pl.lit("non_ai")),
        value=hours, reason=reason,
    )
