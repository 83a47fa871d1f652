"""The adoption panel beside the AI-assisted merge rate: seats, active and engaged users, acceptance rate
and agent PRs from `ai_usage` (GitHub Copilot metrics, or any source that fills the table), per team where
the source gives one. Adoption explains the merge rate: seats bought vs people actually using them."""
from __future__ import annotations

import datetime as dt

import polars as pl

USAGE_COLUMNS = ["date", "team", "tool", "seats", "active_users", "engaged_users", "suggestions", "acceptances",
                 "prs_created_by_agent"]


def adoption(usage: pl.DataFrame, start: dt.date, end: dt.date, team: str | None = None) -> pl.DataFrame:
    """One row per team (null: the source gives none) over [start, end]: `team, seats` (on the window's
    last day with data), `active_users`, `engaged_users` (mean per day with data, rounded),
    `active_share` (active ÷ seats), `acceptance_rate` (acceptances ÷ suggestions, null without
    suggestions), `agent_prs` (sum); the whole organisation first (team "All teams")."""
    rows = usage.filter(pl.col("date").is_between(start, end))
    if team is not None:
        rows = rows.filter(pl.col("team") == team)
    if rows.height == 0:
        return pl.DataFrame(schema={"team": pl.String, "seats": pl.Int64, "active_users": pl.Int64,
                                    "engaged_users": pl.Int64, "active_share": pl.Float64,
                                    "acceptance_rate": pl.Float64, "agent_prs": pl.Int64})
    daily = rows.group_by("date", "team").agg(
        pl.col(c).sum() for c in ("seats", "active_users", "engaged_users", "suggestions", "acceptances",
                                  "prs_created_by_agent"))

    def summarise(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        last = frame.sort("date").group_by(keys or pl.lit(1), maintain_order=True).agg(seats=pl.col("seats").last())
        agg = frame.group_by(keys or pl.lit(1)).agg(
            active_users=pl.col("active_users").mean().round(0).cast(pl.Int64),
            engaged_users=pl.col("engaged_users").mean().round(0).cast(pl.Int64),
            suggestions=pl.col("suggestions").sum(), acceptances=pl.col("acceptances").sum(),
            agent_prs=pl.col("prs_created_by_agent").sum().cast(pl.Int64))
        return agg.join(last, on=keys or "literal")

    org_daily = daily.group_by("date").agg(pl.all().exclude("team", "date").sum())
    org = summarise(org_daily, []).drop("literal").with_columns(team=pl.lit("All teams"))
    teams = summarise(daily, ["team"])
    out = pl.concat([org, teams.sort("team")], how="diagonal_relaxed") if team is None else teams
    return out.select(
        "team", pl.col("seats").cast(pl.Int64), "active_users", "engaged_users",
        active_share=pl.when(pl.col("seats") > 0).then(pl.col("active_users") / pl.col("seats")),
        acceptance_rate=pl.when(pl.col("suggestions") > 0).then(pl.col("acceptances") / pl.col("suggestions")),
        agent_prs="agent_prs",
    )
