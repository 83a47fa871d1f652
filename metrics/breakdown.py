"""Rollback share broken down by any column of the PR outcomes (team, repo, author, period).

Not a DESIGN.md scorecard record: a pooled share over a time range, for the drill-down. It counts the
same rows the `rollback_share` records count (`pr_outcomes`, by `merged_at`) and gives the same
Wilson 95% interval, so a repo's share and its team's tile are computed alike.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.events import is_ai_segment
from metrics.periods import period_of
from metrics.stats import wilson

SEGMENTS = ("all", "ai", "non_ai")


def rollback_share_by(
    outcomes: pl.DataFrame,
    keys: list[str],
    *,
    since: dt.datetime,
    until: dt.datetime,
    grain: str | None = None,
) -> pl.DataFrame:
    """Rollback share of the PRs merged in [since, until), per `keys` × segment.

    `keys` are columns of `outcomes`, or "period" (needs `grain`: the period of `merged_at`).
    Columns: `*keys, segment` ("all", "ai", "non_ai"), `merged_prs` (n), `rolled_back` (x),
    `share` (x / n), `ci_low`, `ci_high` (Wilson 95%). Segments without PRs have no row.
    """
    frame = outcomes.filter(pl.col("merged_at").is_not_null() & (pl.col("merged_at") >= since) & (pl.col("merged_at") < until))
    if "period" in keys:
        if grain is None:
            raise ValueError("grouping by period needs a grain (week or month)")
        frame = frame.with_columns(period=period_of(pl.col("merged_at"), grain))
    frame = frame.with_columns(
        segment=pl.when(pl.col("ai_assisted").fill_null(False)).then(pl.lit("ai")).otherwise(pl.lit("non_ai"))
    )
    aggs = [pl.len().cast(pl.Int64).alias("merged_prs"), pl.col("rolled_back").fill_null(False).sum().cast(pl.Int64).alias("rolled_back")]
    by_segment = frame.group_by([*keys, "segment"]).agg(aggs)
    overall = (frame.group_by(keys).agg(aggs) if keys else frame.select(aggs)).with_columns(segment=pl.lit("all"))
    out = pl.concat([overall.select(by_segment.columns), by_segment], how="vertical_relaxed")
    low, high = wilson(out["rolled_back"].to_numpy(), out["merged_prs"].to_numpy())
    order = {s: i for i, s in enumerate(SEGMENTS)}
    return (
        out.with_columns(
            share=pl.col("rolled_back") / pl.col("merged_prs"),
            ci_low=pl.Series(low, dtype=pl.Float64),
            ci_high=pl.Series(high, dtype=pl.Float64),
            _s=pl.col("segment").replace_strict(order, return_dtype=pl.Int32),
        )
        .sort([*keys, "_s"])
        .drop("_s")
    )


def by_segment_columns(shares: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per `keys` (at least one) with the segments side by side: `{segment}_share`,
    `{segment}_ci_low`, `{segment}_ci_high`, `{segment}_merged_prs`, `{segment}_rolled_back` for
    all, ai and non_ai (null where a segment had no PRs)."""
    if not keys:
        raise ValueError("by_segment_columns needs at least one key column")
    values = ["share", "ci_low", "ci_high", "merged_prs", "rolled_back"]
    wide = shares.select(keys).unique(maintain_order=True)
    for segment in SEGMENTS:
        part = shares.filter(pl.col("segment") == segment).select(
            *keys, *[pl.col(v).alias(f"{segment}_{v}") for v in values]
        )
        wide = wide.join(part, on=keys, how="left")
    return wide


def pooled_shares_from_cube(ratio: pl.DataFrame, metric: str, *, first_day: dt.date, last_day: dt.date) -> pl.DataFrame:
    """A ratio metric pooled over the days [first_day, last_day] per team × segment, from the daily
    cube (`metrics.cube.Cube.ratio`): the same counts `rollback_share_by` gives from the PR outcomes,
    without reading them. Columns: `team, segment, n, x, share, ci_low, ci_high` (Wilson 95%)."""
    rows = ratio.filter((pl.col("metric") == metric) & pl.col("day").is_between(first_day, last_day)
                        & ~is_ai_segment(pl.col("segment")))  # tool:/mode: rows repeat AI-assisted PRs
    out = rows.group_by(pl.col("team", "segment").cast(pl.String)).agg(n=pl.col("n").sum().cast(pl.Int64), x=pl.col("x").sum())
    low, high = wilson(out["x"].to_numpy(), out["n"].to_numpy())
    return out.with_columns(
        share=pl.col("x") / pl.col("n"),
        ci_low=pl.Series(low, dtype=pl.Float64),
        ci_high=pl.Series(high, dtype=pl.Float64),
    ).sort("team", "segment")
