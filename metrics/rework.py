"""`rework_rate`'s events: one row per merged PR.

Columns: `id, at` (merged_at), `team` (the PR's), `segment` ("ai" / "non_ai", the PR's flag), `hit`
(reworked: it has a follow-up fix), `reason` (the first fix and how it was linked).
"""
from __future__ import annotations

import polars as pl

from metrics.change_chain import ChainFacts, rework_of_first


def rework_events(outcomes: pl.DataFrame, chain: ChainFacts, reasons: bool = True) -> pl.DataFrame:
    """From each PR's first follow-up fix (`ChainFacts.first_fixes`), not from every (PR, fix) pair."""
    rework = rework_of_first(outcomes, chain.first_fixes)
    reason = (
        pl.when(pl.col("reworked"))
        .then(pl.format("reworked: {} by {} at {} ({} follow-up fix(es))", "fix_how", "fixed_by",
                        pl.col("fixed_at").dt.strftime("%Y-%m-%d %H:%M UTC"), "follow_ups"))
        .otherwise(pl.lit("no follow-up fix"))
        if reasons else pl.lit(None, pl.String)
    )
    return rework.select(
        "id", at="merged_at", team="team",
        segment=pl.when(pl.col("ai_assisted").fill_null(False)).then(pl.lit("ai")).otherwise(pl.lit("non_ai")),
        hit="reworked", reason=reason,
    )
