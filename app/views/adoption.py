"""The Adoption page's tables (pure polars, no Streamlit): seats, active users and acceptance by team and
tool, per person, and the cohort comparison.

Who sees what is decided before these run: the page reads its rows through app/state.py, which narrows
them to the signed-in user (reports/scope.adoption_rows): admins and analysts every person; a team lead
their teams' people and their teams' aggregates; a viewer every team's aggregates and no person at all
(no names, no per-person download, not the unmatched vendor users, whose e-mails name people).
"""
from __future__ import annotations

import polars as pl

from metrics.cohorts import (COHORTS, cohort_comparison, cohort_segment_counts, lead_time_comparison, pr_cohorts,
                             usage_cohorts)
from metrics.events import rollback_share
from metrics.periods import period_of, period_starts
from metrics.stats import wilson
from reports.filters import Filters


def _cost() -> pl.Expr:
    # Seats-only tools (Copilot) report no cost per person: empty, not $0.
    return pl.when(pl.col("cost_usd").is_not_null().any()).then(pl.col("cost_usd").sum())


def usage_in_range(usage: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Usage rows dated in the selected periods (and of the selected team)."""
    periods = filters.periods
    if not periods:
        return usage.clear()
    rows = usage.filter(period_of(pl.col("date"), filters.grain).is_between(periods[0], periods[-1]))
    return rows.filter(pl.col("team") == filters.team) if filters.team else rows


def tiles(usage: pl.DataFrame, seats: pl.DataFrame, filters: Filters) -> dict:
    """`seats` (the latest day's seat count in range, all tools that report seats), `seat_tools` (those tools,
    sorted) and `seats_day` (that day), `active_users` (distinct vendor users with an active day, on any tool:
    a tool without seats, billed per person, has users and no seats, so they can outnumber the seats),
    `acceptance_rate` (acceptances ÷ suggestions), `cost_usd` (per-person cost)."""
    rows = usage_in_range(usage, filters)
    seat_rows = usage_in_range(seats, filters).filter(pl.col("seats").is_not_null())
    latest = seat_rows.filter(pl.col("date") == pl.col("date").max())
    suggestions = rows["suggestions"].sum()
    return {
        "seats": int(latest["seats"].sum()) if latest.height else None,
        "seat_tools": sorted(latest["tool"].unique().to_list()),
        "seats_day": latest["date"].max() if latest.height else None,
        "active_users": rows.filter(pl.col("active").fill_null(False)).select("tool", "vendor_user").unique().height,
        "acceptance_rate": rows["acceptances"].sum() / suggestions if suggestions else None,
        "cost_usd": float(rows["cost_usd"].sum()) if rows["cost_usd"].is_not_null().any() else None,
    }


def _users_with(flag: str) -> pl.Expr:
    # A tool that reports no such flag (all null) shows none, not 0.
    return (pl.when(pl.col(flag).is_not_null().any())
            .then(pl.col("vendor_user").filter(pl.col(flag).fill_null(False)).n_unique()))


def by_team_and_tool(usage: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Columns: team, tool, active_users, engaged_users, chat_users, agent_users, cli_users (distinct users
    with the vendor's chat / agent / CLI flag; null for a tool without it), suggestions, acceptances,
    acceptance_rate, lines_added, cost_usd."""
    rows = usage_in_range(usage, filters)
    out = rows.group_by("team", "tool").agg(
        active_users=pl.col("vendor_user").filter(pl.col("active").fill_null(False)).n_unique(),
        engaged_users=pl.col("vendor_user").filter(pl.col("engaged").fill_null(False)).n_unique(),
        chat_users=_users_with("used_chat"), agent_users=_users_with("used_agent"), cli_users=_users_with("used_cli"),
        suggestions=pl.col("suggestions").sum(), acceptances=pl.col("acceptances").sum(),
        lines_added=pl.col("lines_added").sum(), cost_usd=_cost(),
    )
    return out.with_columns(acceptance_rate=pl.when(pl.col("suggestions") > 0)
                            .then(pl.col("acceptances") / pl.col("suggestions"))).select(
        "team", "tool", "active_users", "engaged_users", "chat_users", "agent_users", "cli_users", "suggestions",
        "acceptances", "acceptance_rate", "lines_added", "cost_usd").sort("team", "tool")


def by_api_key(usage: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Use and cost per API key (OpenAI keys, Claude Code API actors): columns team, tool, api_key, users
    (distinct vendor users on it), requests, tokens, cost_usd (OpenAI: the key's share of its projects'
    cost by tokens). A key used by two teams' people is a row per team. A key names who used it: give
    the rows of the people the user may list (`people_usage`)."""
    rows = usage_in_range(usage, filters).filter(pl.col("api_key").is_not_null())
    return rows.group_by("team", "tool", "api_key").agg(
        users=pl.col("vendor_user").n_unique(), requests=pl.col("requests").sum(), tokens=pl.col("tokens").sum(),
        cost_usd=_cost(),
    ).sort(["cost_usd", "team", "api_key"], descending=[True, False, False], nulls_last=True)


def per_person(usage: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Columns: person, team, tool, active_days, suggestions, acceptances, acceptance_rate, lines_added,
    cost_usd, of the matched people in `usage` (give `people_usage`). No e-mail addresses."""
    rows = usage_in_range(usage, filters).filter(pl.col("person").is_not_null())
    out = rows.group_by("person", "team", "tool").agg(
        active_days=pl.col("date").filter(pl.col("active").fill_null(False)).n_unique(),
        suggestions=pl.col("suggestions").sum(), acceptances=pl.col("acceptances").sum(),
        lines_added=pl.col("lines_added").sum(), cost_usd=_cost(),
    )
    return out.with_columns(acceptance_rate=pl.when(pl.col("suggestions") > 0)
                            .then(pl.col("acceptances") / pl.col("suggestions"))).select(
        "person", "team", "tool", "active_days", "suggestions", "acceptances", "acceptance_rate", "lines_added",
        "cost_usd").sort("team", "person", "tool")


def cohorts_compared(outcomes: pl.DataFrame, lead_time: pl.DataFrame, usage: pl.DataFrame, filters: Filters, *,
                     basis: str, min_sample: int, rework: pl.DataFrame | None = None
                     ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """(rollback share, lead time) by cohort, before and after each author's adoption week
    (metrics.cohorts), over the weeks of the selected range; `basis` is "prs" (share of AI-assisted PRs)
    or "usage" (active days with a vendor tool); the pooled rollback share per PR segment, the
    `cohort:<name>` segments beside `ai` / `non_ai` (`segment_shares`); and the rework rate compared the
    same way when `rework` (rework_rate's events: id, at, team, hit) is given, else None. `lead_time`:
    lead_time_hours' events (id, at, team, value: shipped PRs; empty without deployments); with an `author`
    column their authors are its (a PR shipped in the range may have merged before `outcomes`' PRs), else
    `outcomes`'. `rework` likewise. Every frame holds one row per PR (the facts kept beside the cube do), so
    an event's own author is the one a join by id would give it."""
    periods = period_starts(filters.start, filters.end, "week")
    if basis == "usage":
        cohorts = usage_cohorts(usage.filter(pl.col("person").is_not_null()), periods, "week")
    else:
        cohorts = pr_cohorts(outcomes, periods, "week")

    def in_range(frame: pl.DataFrame, at: str) -> pl.DataFrame:
        frame = frame.filter(pl.col("team") == filters.team) if filters.team else frame
        return frame.filter(period_of(pl.col(at), "week").is_between(periods[0], periods[-1]) if periods else pl.lit(False))

    scoped = in_range(outcomes, "merged_at")
    # Each event row carries its PR's author (`outcomes` has one row per PR): the same rows as joining the
    # authors by id, without a join of every PR by its id.
    events = rollback_share(scoped, reasons=False)
    authored = events.with_columns(scoped["author"])
    rollbacks = cohort_comparison(authored, None, cohorts, min_sample=min_sample)

    def authors_of(frame: pl.DataFrame) -> pl.DataFrame | None:
        """None when `frame`'s events carry their own `author`; else `outcomes`' authors, joined by id."""
        return None if "author" in frame.columns else outcomes.select("id", "author")

    lead = lead_time_comparison(in_range(lead_time, "at"), authors_of(lead_time), cohorts, min_sample=min_sample)
    by_segment = segment_share_table(cohort_segment_counts(authored, cohorts, "week"), min_sample=min_sample)
    reworked = None if rework is None else cohort_comparison(in_range(rework, "at"), authors_of(rework), cohorts,
                                                              min_sample=min_sample)
    return rollbacks, lead, by_segment, reworked


def segment_shares(events: pl.DataFrame, *, min_sample: int) -> pl.DataFrame:
    """Pooled rollback share per segment (`ai`, `non_ai`, `cohort:<name>`): columns segment, n, value,
    ci_low, ci_high (Wilson 95 %; null below `min_sample`)."""
    return segment_share_table(events.group_by("segment").agg(n=pl.len().cast(pl.Int64),
                                                              hits=pl.col("hit").fill_null(False).sum()),
                               min_sample=min_sample)


def segment_share_table(counts: pl.DataFrame, *, min_sample: int) -> pl.DataFrame:
    """`segment_shares` from the events counted per segment (segment, n, hits; one row per segment)."""
    out = counts
    order = {s: i for i, s in enumerate(["ai", "non_ai"] + [f"cohort:{c}" for c in COHORTS])}
    out = out.with_columns(_o=pl.col("segment").replace_strict(order, default=99, return_dtype=pl.Int32)).sort("_o")
    low, high = wilson(out["hits"].to_numpy().astype(float), out["n"].to_numpy().astype(float))
    enough = out["n"] >= max(min_sample, 1)
    return out.with_columns(
        value=pl.when(enough).then(pl.col("hits") / pl.col("n")),
        ci_low=pl.when(enough).then(pl.Series(low)), ci_high=pl.when(enough).then(pl.Series(high)),
    ).select("segment", "n", "value", "ci_low", "ci_high")
