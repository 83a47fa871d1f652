"""`deployment_frequency`'s events: one row per production deployment that is not a rollback.

Columns: `id, at` (finished_at), `team` (the deployment's), `segment` (null: no segments), `hit` (true:
every row counts), `reason`. The scorecard divides their count by the days of the period.
"""
from __future__ import annotations

import polars as pl

from metrics.change_chain import ChainFacts


def deployment_frequency_events(chain: ChainFacts, reasons: bool = True) -> pl.DataFrame:
    reason = pl.format("production deployment of {} to {}", "repo", "environment") if reasons else pl.lit(None, pl.String)
    return chain.deployments.select(
        "id", at="finished_at", team="team", segment=pl.lit(None, pl.String), hit=pl.lit(True), reason=reason,
    )
