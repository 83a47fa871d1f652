"""GitHub Copilot seat cost as daily `ai_spend` rows (source `copilot`, workflow `seats`).

A seat costs `price_per_seat_month`, prorated per day: on a day of a 30-day month a seat costs 1/30 of
the monthly price, so a month of constant seats sums to exactly seats × price. The seat counts come from
`ai_usage` (filled by the GitHub connector from the billing API, or imported), so this knows nothing of
GitHub's API.

Counting seats once: rows from several sources for the same team and day describe the same seats (the
largest count is taken); where a source reports both an org-wide row (no team) and team rows for a day,
the org row is the total, and only the seats no team accounts for are billed as `unassigned`.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from config.spend import CopilotSeatsConfig
from connectors.spend.costs import SPEND_SCHEMA

SOURCE = "copilot"
STREAM = "seats"


def seat_spend(usage: pl.DataFrame, cfg: CopilotSeatsConfig, *, since: dt.date | None = None) -> pl.DataFrame:
    """`ai_spend` rows from `ai_usage` rows (source, date, team, tool, seats) of the configured tool."""
    seats = usage.filter(
        (pl.col("tool").str.to_lowercase() == cfg.tool.lower()) & pl.col("seats").is_not_null()
        & (pl.col("date") >= since if since else pl.lit(True))
    )
    per_source = seats.group_by("source", "date", "team").agg(pl.col("seats").sum())
    teams = per_source.filter(pl.col("team").is_not_null())
    org = per_source.filter(pl.col("team").is_null()).join(
        teams.group_by("source", "date").agg(assigned=pl.col("seats").sum()), on=["source", "date"], how="left"
    ).with_columns(seats=(pl.col("seats") - pl.col("assigned").fill_null(0)).clip(lower_bound=0)).drop("assigned")
    billed = pl.concat([teams, org]).group_by("date", "team").agg(pl.col("seats").max())
    days_in_month = pl.col("date").dt.month_end().dt.day()
    return billed.sort("date", "team", nulls_last=True).select(
        id=pl.format("copilot:seats:{}:{}", pl.col("date").dt.strftime("%Y-%m-%d"), pl.col("team").fill_null("-")),
        source=pl.lit(SOURCE), date="date", team="team", tool=pl.lit(cfg.tool), model=pl.lit(None, pl.String),
        workflow=pl.lit("seats"),
        cost_usd=pl.col("seats").cast(pl.Float64) * cfg.price_per_seat_month / days_in_month,
        tokens=pl.lit(None, pl.Int64), requests=pl.lit(None, pl.Int64),
    ).cast(SPEND_SCHEMA)
