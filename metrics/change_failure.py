"""`change_failure_rate`'s events: one row per production deployment that is not a rollback.

Columns: `id, at` (finished_at), `team` (the deployment's), `segment` ("ai": it shipped at least one
AI-assisted PR; "non_ai": it shipped PRs, none AI-assisted; null: it shipped none, counted only in
`all`), `hit` (it failed), `reason` (how it failed, or what it shipped).
"""
from __future__ import annotations

import polars as pl

from metrics.change_chain import ChainFacts


def change_failure_events(chain: ChainFacts, reasons: bool = True) -> pl.DataFrame:
    return chain.deployments.select(
        "id", at="finished_at", team="team", segment="segment", hit="failed",
        reason=pl.col("failed_reason") if reasons else pl.lit(None, pl.String),
    )


def mttr_change_events(chain: ChainFacts, reasons: bool = True) -> pl.DataFrame:
    """`mttr_hours`' segments `ai_change` / `non_ai_change`: resolved incidents whose causing deployment
    shipped PRs. Columns as `metrics.events.mttr_hours`."""
    resolved = chain.incidents.filter(
        pl.col("resolved_at").is_not_null() & pl.col("started_at").is_not_null() & pl.col("cause_segment").is_not_null()
    )
    hours = (pl.col("resolved_at") - pl.col("started_at")).dt.total_microseconds() / 3_600_000_000
    reason = (
        pl.format("resolved in {} h; caused by {} ({}), which shipped {}", hours.round(2), "caused_by_deployment_id",
                  "cause_how", "cause_prs")
        if reasons else pl.lit(None, pl.String)
    )
    return resolved.select("id", at="resolved_at", team="team", segment="cause_segment", value=hours, reason=reason)
