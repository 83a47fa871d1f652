"""Senior review load (DESIGN.md "Senior review load"): who is senior, and the reviews they submitted.

`senior_people` decides who is senior; `senior_review_events` are the metric's events; the scorecard
divides their count by the seniors' weeks as seniors in the period (`senior_weeks`).
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from config.model import Config
from metrics.evidence import UTC, Evidence
from metrics.teams import UNASSIGNED

SENIORS_SCHEMA = {"login": pl.String, "team": pl.String, "since": UTC, "why": pl.String}


def senior_people(people: pl.DataFrame, config: Config) -> pl.DataFrame:
    """One row per senior: `login` (lower-case), `team` (people.team, else `unassigned`), `since` (when
    they became senior; null: always were), `why` ("[people] senior" or "level <level>").

    Senior = listed in `[people] senior`, or a `people` row whose level (trimmed, case-insensitive) is in
    `[rules] senior_levels`. Logins compare case-insensitively."""
    levels = [level.strip().lower() for level in config.rules.senior_levels]
    listed = sorted({login.strip().lower() for login in config.people.senior if login.strip()})
    rows = people.select(
        login=pl.col("login").str.strip_chars().str.to_lowercase(), team="team", since="since",
        level=pl.col("level").str.strip_chars().str.to_lowercase(),
    ).unique("login", keep="last", maintain_order=True)
    by_level = rows.filter(pl.col("level").is_in(levels)).select(
        "login", "team", "since", why=pl.format("level {}", "level")
    )
    by_list = (
        pl.DataFrame({"login": listed}, schema={"login": pl.String})
        .join(rows.select("login", "team", "since"), on="login", how="left")
        .with_columns(why=pl.lit("[people] senior"))
    )
    return (
        pl.concat([by_list, by_level.filter(~pl.col("login").is_in(listed))], how="vertical_relaxed")
        .with_columns(team=pl.col("team").fill_null(UNASSIGNED))
        .cast(SENIORS_SCHEMA)
        .sort("login")
    )


def senior_review_events(evidence: Evidence, seniors: pl.DataFrame, reasons: bool = True) -> pl.DataFrame:
    """One row per review a senior submitted as a senior: `id, at` (submitted_at), `team` (the
    reviewer's), `segment` ("ai": on an AI-assisted PR in the warehouse; else "non_ai": the `all`
    segment counts both), `hit` (true), `reason`, `pr_id`, `reviewer`. Every review with a
    `submitted_at` and a state other than PENDING counts once (comment-only and dismissed included)."""
    ai = evidence.pull_requests.select(pr_id="id", pr_ai=pl.col("ai_assisted").fill_null(False))
    reviews = (
        evidence.reviews.filter(
            pl.col("submitted_at").is_not_null() & (pl.col("state").str.to_uppercase().str.strip_chars() != "PENDING")
        )
        .with_columns(login=pl.col("reviewer").str.strip_chars().str.to_lowercase())
        .join(seniors.select("login", "team", "since"), on="login", how="inner")
        .filter(pl.col("since").is_null() | (pl.col("submitted_at") >= pl.col("since")))
        .join(ai, on="pr_id", how="left")
    )
    reason = (
        pl.format("{} review by senior {} on {}{}", pl.col("state").str.to_lowercase(), "reviewer", "pr_id",
                  pl.when(pl.col("pr_ai").fill_null(False)).then(pl.lit(" (AI-assisted)")).otherwise(pl.lit("")))
        if reasons else pl.lit(None, pl.String)
    )
    return reviews.select(
        "id", at="submitted_at", team="team",
        segment=pl.when(pl.col("pr_ai").fill_null(False)).then(pl.lit("ai")).otherwise(pl.lit("non_ai")),
        hit=pl.lit(True), reason=reason, pr_id="pr_id", reviewer="reviewer",
    )


def senior_weeks(seniors: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """Per span × team: the seniors' weeks as seniors in [first, after), to the second.

    `spans` has `key` (a period's first day, say), `first` and `after` (UTC datetimes). Columns: `key,
    team, weeks`. A senior without `since` counts the whole span (people × days ÷ 7)."""
    if seniors.height == 0 or spans.height == 0:
        return pl.DataFrame(schema={"key": spans.schema.get("key", pl.Date), "team": pl.String, "weeks": pl.Float64})
    start = pl.max_horizontal(pl.col("since").fill_null(pl.col("first")), pl.col("first"))
    seconds = (pl.col("after") - start).dt.total_seconds().clip(lower_bound=0)
    return (
        spans.join(seniors.select("team", "since"), how="cross")
        .with_columns(weeks=seconds.cast(pl.Float64) / (7 * 86_400))
        .group_by("key", "team")
        .agg(pl.col("weeks").sum())
    )
