"""Rollbacks (for team leads): rollback share by team, then by repo, AI vs non-AI, the trend against
the baseline, and the rolled-back PRs with why each counted as AI-assisted. The team (sidebar) and
repository selections live in the URL, so a link shows the same view."""
import polars as pl
import streamlit as st

from app import components as ui
from app import change_chain_panel, sidebar, state
from app.url_state import apply_url, remember
from app.views.charts import grouped_interval_bars, interval_bars, trend_figure
from app.views.pr import pr_link_column
from app.views.rollbacks import (
    PREVIEW_ROWS, ratio_sentence, rolled_back_prs, scoped, segment_summary, share_columns, share_table, trend,
)
from reports.filters import ALL_TEAMS
from reports.format import fmt_day, fmt_interval, fmt_value
from metrics.registry import subject_of

ALL_REPOS = "All repositories"
PERCENT = ui.PERCENT
SHARE_COLUMNS = {
    "ai_pct": st.column_config.NumberColumn("AI-assisted", format=PERCENT, help="Rollback share of AI-assisted merged PRs"),
    "ai_interval": st.column_config.TextColumn("95% interval"),
    "non_ai_pct": st.column_config.NumberColumn("Other PRs", format=PERCENT, help="Rollback share of the other merged PRs"),
    "non_ai_interval": st.column_config.TextColumn("95% interval "),
    "all_pct": st.column_config.NumberColumn("All", format=PERCENT),
    "baseline_pct": st.column_config.NumberColumn("Baseline", format=PERCENT, help="All PRs, over the baseline window"),
    "all_merged_prs": st.column_config.NumberColumn("Merged PRs", format="%d"),
    "ai_merged_prs": st.column_config.NumberColumn("AI PRs", format="%d"),
}

# The rolled-back PRs' grid: its columns after the single-PR view's link, and how each is shown.
GRID_COLUMNS = ("title", "repo", "number", "merged_at", "rolled_back_how", "rolled_back_at", "ai_tools", "ai_mode",
                "ai_signals", "url", "author", "team", "ai_assisted", "shipped_deployment_id", "rolled_back_by")
GRID_CONFIG = {
    "view": st.column_config.LinkColumn("PR", display_text="view", help="The single-PR view: why it counted, "
                                        "what shipped it, what rolled it back"),
    "title": st.column_config.TextColumn("Title", width="large"),
    "repo": "Repository", "number": st.column_config.NumberColumn("#", format="%d"),
    "merged_at": st.column_config.DatetimeColumn("Merged (UTC)", format="YYYY-MM-DD HH:mm"),
    "rolled_back_how": "Rolled back by a…",
    "rolled_back_at": st.column_config.DatetimeColumn("Rolled back (UTC)", format="YYYY-MM-DD HH:mm"),
    "ai_tools": st.column_config.TextColumn("AI tool", width="small"),
    "ai_mode": st.column_config.TextColumn("How", width="small"),
    "ai_signals": st.column_config.TextColumn("Why AI-assisted", width="medium"),
    "url": st.column_config.LinkColumn("Link", display_text="open"),
    "author": "Author", "team": "Team", "ai_assisted": st.column_config.CheckboxColumn("AI"),
    "shipped_deployment_id": "Shipped in", "rolled_back_by": "Rollback / revert",
}
# The latest rolled-back PRs shown at first (static): the grid's first columns, under its labels.
PREVIEW_COLUMNS = {
    "view": ("PR", ("link", "view")), "title": ("Title", "wide"), "repo": ("Repository", "short"),
    "number": ("#", "int"), "merged_at": ("Merged (UTC)", "datetime"), "rolled_back_how": ("Rolled back by a…", "text"),
    "rolled_back_at": ("Rolled back (UTC)", "datetime"), "ai_tools": ("AI tool", "text"), "ai_mode": ("How", "text"),
    "ai_signals": ("Why AI-assisted", "text"),
}


filters = sidebar.current()
version = state.current_version()
config = state.config()
ui.header("Rollbacks", filters)
ui.stale_banner("pull_requests", "deployments")

window = state.baselines(version).window(subject_of("rollbacks").id)
periods = filters.periods
if not state.synced(version, "pull_requests"):
    ui.empty("No merged PRs synced yet: configure [github] in scorecard.toml and press Sync now, or import "
             "pull_requests.csv and deployments.csv with: scorecard import")
    st.stop()
if not periods:
    ui.empty("No whole period starts in the selected date range: widen it in the sidebar.")
    st.stop()
if filters.team is not None:
    # the team drill-down's reads, begun now: they run while the table by team is built and drawn
    state.begin_team_reads(version, window, filters.start, filters.team)
st.caption(f"A PR is rolled back when the deployment that shipped it is rolled back, or it is reverted, within "
           f"{config.rules.rollback_window_days:g} days. Baseline: {fmt_day(window.first_day)} – {fmt_day(window.last_day)}.")

# --- by team: select a row to focus everything below (and every page) on that team ---------------
# By team, the range's shares and the baseline's: the cube's daily counts, no PR read.
teams = state.rollback_teams(version, filters, window)
st.subheader("By team")
if teams.height == 0:
    ui.empty("No PRs were merged in the selected periods: widen the date range.")
    st.stop()
left, right = st.columns([5, 3])
with left:
    team_rows = teams["team"].to_list()

    def pick_team() -> None:
        rows = st.session_state["rollback_teams"].selection.rows
        st.session_state["team"] = team_rows[rows[0]] if rows else ALL_TEAMS

    selected = [team_rows.index(filters.team)] if filters.team in team_rows else []
    ui.table(share_columns(teams, "team"), column_config={"team": "Team", **SHARE_COLUMNS}, key="rollback_teams",
             on_select=pick_team, selection_mode="single-row",
             selection_default={"selection": {"rows": selected, "columns": []}})
    st.caption("Highest AI-assisted rollback share first. Select a team to drill into its repositories and PRs.")
    ui.download(teams, "rollback_share_by_team", filters, key="dl_teams")
with right:
    shown = teams.head(12)
    title = "Rollback share by team, 95% intervals" + (f" (top {shown.height})" if teams.height > shown.height else "")
    ui.interval_bars(grouped_interval_bars(shown, "team", ("ai", "non_ai"), "share", height=320, title=title))

if filters.team is None:
    st.info("Select a team above (or in the sidebar) to see its repositories and rolled-back PRs.", icon=":material/touch_app:")
    st.stop()

# --- by repository within the team ----------------------------------------------------------------
# The baseline window's counts per repo (read once, kept as counts; first, so that its read's transient
# memory is reused by the next), then the range's PR outcomes with what the change-chain panel shows (one
# read for both, kept as the team's rows and first follow-up fixes: state.team_rows), from the range's start
# on: each of the repos that hold the team's PRs only.
team_base = state.rollback_baseline(version, window, filters.team)
since = filters.start
team_outcomes = state.team_rows(version, since, filters.team).outcomes
repos = share_table(team_outcomes, "repo", filters, window, base=team_base.drop("team"))
st.subheader("By repository")
if repos.height == 0:
    ui.empty(f"Team {filters.team} merged no PRs in the selected periods: widen the date range or pick another team.")
    st.stop()
ui.text(f"Repositories of team {filters.team}.")
repo_names = repos["repo"].to_list()
apply_url({"repo": lambda values: values[-1] if values and values[-1] in repo_names else ALL_REPOS})
repo = st.selectbox("Repository", [ALL_REPOS, *repo_names], key="repo", bind="query-params")
remember(("repo",))
repo = None if repo == ALL_REPOS else repo


def pick_repo() -> None:
    rows = st.session_state["rollback_repos"].selection.rows
    st.session_state["repo"] = repo_names[rows[0]] if rows else ALL_REPOS


ui.table(share_columns(repos, "repo"), column_config={"repo": "Repository", **SHARE_COLUMNS}, key="rollback_repos",
         on_select=pick_repo, selection_mode="single-row",
         selection_default={"selection": {"rows": [repo_names.index(repo)] if repo in repo_names else [], "columns": []}})
ui.download(repos, "rollback_share_by_repo", filters, key="dl_repos")

# --- the selection: AI vs non-AI, trend, rolled-back PRs --------------------------------------------
selection = scoped(team_outcomes, repo=repo)
scope = f"{filters.team} / {repo}" if repo else filters.team
st.subheader("AI-assisted vs not")
ui.text(f"Scope: {scope}.")
summary = segment_summary(selection, filters)
labels = {"all": "All PRs", "ai": "AI-assisted", "non_ai": "Not AI-assisted"}
cols = st.columns(4)
for column, segment in zip(cols, ("ai", "non_ai", "all")):
    row = summary.filter(pl.col("segment") == segment)
    with column, st.container(border=True, height="stretch"):
        if row.height == 0:
            st.metric(labels[segment], "—")
            st.caption("No merged PRs.")
            continue
        r = row.row(0, named=True)
        st.metric(labels[segment], fmt_value(r["share"], "share"),
                  help="Rolled-back merged PRs ÷ merged PRs in the selected periods")
        st.caption(f"{r['rolled_back']:,} of {r['merged_prs']:,} PRs rolled back · 95% interval "
                   f"{fmt_interval(r['ci_low'], r['ci_high'], 'share')}")
with cols[3], st.container(border=True, height="stretch"):
    st.markdown(ratio_sentence(summary) or "Not enough PRs in both groups to compare.")
bars = summary.with_columns(label=pl.col("segment").replace(labels), value="share")
left, right = st.columns(2)
with left:
    ui.interval_bars(interval_bars(bars, "label", "share", title="Rollback share with 95% intervals", height=260,
                                   colours={"AI-assisted": "#7b3fc4", "Not AI-assisted": "#8a94a6", "All PRs": "#2f6fdf"}))
with right:
    over_time = trend(selection, filters, window, base=team_base if repo is None else team_base.filter(pl.col("repo") == repo))
    ui.trend(trend_figure(over_time, "share", segments=("ai", "non_ai"), intervals=("ai",), height=260,
                          title="Over time, against the baseline of all PRs"))
    ui.download(over_time, "rollback_share_trend", filters, key="dl_trend")

st.subheader("Rolled-back PRs")
ai_only = st.toggle("Only AI-assisted PRs", value=True, key="ai_only")
prs = rolled_back_prs(selection, filters, ai_only=ai_only)
if prs.height == 0:
    ui.empty("No PR in this selection was rolled back in the selected periods.")
else:
    # The latest few as a static table, every one in the grid behind a click and in the CSV: an open grid of every
    # row cost the browser its set-up and its rows on every visit (docs/performance-log.md, session 16, rb16).
    ui.static_rows(prs.head(PREVIEW_ROWS).with_columns(pr_link_column()), PREVIEW_COLUMNS)
    latest = f"the latest {PREVIEW_ROWS} above; " if prs.height > PREVIEW_ROWS else ""
    st.caption(f"{prs.height:,} rolled-back PRs, latest rollback first: {latest}every one, with all its columns, in "
               "the list below and in the CSV download.")
    ui.on_open(f"Show all {prs.height:,} rolled-back PRs", lambda: ui.table(prs.select(
        pr_link_column(), *GRID_COLUMNS), column_config=GRID_CONFIG), key="rows_rolled_back")
    ui.download(prs, "rolled_back_prs", filters, key="dl_prs")

change_chain_panel.render(filters, version, selection, scope, since)
