"""The team drill-down's change chain, beside its rollback share: rework (reworked PRs and the fixes
that followed them) and the load on the team's senior reviewers, each down to its rows. Rendering only
(app/views/delivery.py and metrics/ compute); the Rollbacks page calls `render(...)` once a team is picked."""
from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from app import components as ui
from app import state
from app.views.charts import trend_figure
from app.views.delivery import (
    DELIVERY_TRENDS, TEAM_TILES, TEAM_TRENDS, reviews_by_senior, reworked_rows, senior_reviews, trend_rows,
)
from metrics.registry import METRICS
from reports.tiles import tile_for


def render(filters, version: str, outcomes: pl.DataFrame, scope: str, since: dt.date) -> None:
    """`outcomes` are the PR outcomes of the selection (team, maybe one repo), `scope` its name, `since` the
    first day the page's team rows cover (state.team_rows; on or before the range's start)."""
    records = state.records(version, filters.grain, filters.start, filters.end, None)
    rules = state.config().rules
    st.subheader("Rework and senior review load")
    ui.text(f"Team {filters.team}: a PR is reworked when a later PR of its repo reverts it, or fixes a file it "
            f"touched, within {rules.rework_window_days:g} days. Senior review load: reviews by the team's senior "
            f"people per senior per week.")
    for column, spec in zip(st.columns(len(TEAM_TILES)), TEAM_TILES):
        with column:
            ui.tile(tile_for(records, spec, filters.team), filters.grain, empty_hint="Nothing counted in this range.")
    left, right = st.columns(2)
    for column, metric in zip((left, right), TEAM_TRENDS):
        segments, title = DELIVERY_TRENDS[metric]
        rows, band = trend_rows(records, metric, filters.team)
        with column:
            ui.trend(trend_figure(rows, METRICS[metric].unit, segments=segments, band=band, title=title, height=260))
            ui.download(rows, f"{metric}_trend", filters, key=f"dl_team_{metric}")

    st.subheader("Reworked PRs")
    ui.text(f"Scope: {scope}.")
    ai_only = st.toggle("Only AI-assisted PRs", value=True, key="rework_ai_only")
    # each PR's first follow-up fix, matched among the PRs of the team's repos (state.team_rows)
    prs = reworked_rows(outcomes, state.team_rows(version, since, filters.team).first_fixes, filters, ai_only=ai_only)
    if prs.height == 0:
        ui.empty("No PR in this selection needed a follow-up fix in the selected periods.")
    else:
        st.caption(f"{prs.height:,} reworked PRs, latest merge first.")
        # A secondary row-level table: open on a click (a data grid costs the browser ~0.35 CPU-s to set up on the
        # first visit; a closed one's rows are not even sent: `ui.on_open`). The rolled-back PRs above stay open.
        ui.on_open(f"Show the {prs.height:,} reworked PRs, each with its first follow-up fix", lambda: ui.table(
            prs, column_config={
                "title": st.column_config.TextColumn("Title", width="large"), "repo": "Repository",
                "number": st.column_config.NumberColumn("#", format="%d"),
                "merged_at": st.column_config.DatetimeColumn("Merged (UTC)", format="YYYY-MM-DD HH:mm"),
                "fixed_by": "First follow-up fix",
                "fixed_at": st.column_config.DatetimeColumn("Fixed (UTC)", format="YYYY-MM-DD HH:mm"),
                "fix_how": "How linked", "follow_ups": st.column_config.NumberColumn("Fixes", format="%d"),
                "ai_assisted": st.column_config.CheckboxColumn("AI"),
                "ai_signals": st.column_config.TextColumn("Why AI-assisted", width="medium"),
                "url": st.column_config.LinkColumn("Link", display_text="open"), "team": "Team",
            }), key="rows_reworked")
        ui.download(prs, "reworked_prs", filters, key="dl_reworked")

    st.subheader("Senior reviews")
    reviews = state.senior_reviews(version, since, filters.team)
    per_senior = reviews_by_senior(reviews, filters)
    if per_senior.height == 0:
        ui.empty(f"No review by a senior person of team {filters.team} in the selected periods (seniors come from "
                 "[people] senior or an imported people table).")
        return
    # one row per senior of the team (a handful): static, not the data grid
    ui.small_table(per_senior, {"reviewer": ("Senior", "text"), "team": ("Team", "text"), "reviews": ("Reviews", "int"),
                                "on_ai_prs": ("On AI-assisted PRs", "int"), "ai_share": ("AI share", "percent")})
    rows = senior_reviews(reviews, filters)

    def behind_the_load() -> None:
        ui.table(rows, column_config={
            "submitted_at": st.column_config.DatetimeColumn("Submitted (UTC)", format="YYYY-MM-DD HH:mm"),
            "reviewer": "Senior", "pr_id": "PR", "on_ai_pr": st.column_config.CheckboxColumn("AI PR"),
            "team": "Team", "reason": st.column_config.TextColumn("Why it counted", width="large"),
        })
        ui.download(rows, "senior_reviews", filters, key="dl_senior_reviews")

    # the rows and their download inside, as before: built and sent once opened (`ui.on_open`)
    ui.on_open(f"The {rows.height:,} reviews behind the load", behind_the_load, key="rows_senior_reviews", icon=None)
