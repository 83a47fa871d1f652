"""Scorecard (for VPs): a one-line verdict, five numbers of the review window (the last 13 complete weeks,
or 3 months, of the range) each against the fixed baseline, what changed most, and the trends."""
import polars as pl
import streamlit as st

from app import access, sidebar, state
from app import components as ui
from app.url_state import link_params
from app.views.adoption_panel import adoption
from app.views.freshness import freshness
from app.views.trends import TRENDS, series
from metrics.registry import METRICS
from reports.format import STATUS, escape_markdown
from reports.review import settling_days
from reports.tiles import STATUS_SUFFIX, TILES, headline, scorecard_tiles, team_glance, verdict

filters = sidebar.current()
version = state.current_version()
user = access.current()

ui.header("AI impact scorecard", filters)
ui.stale_banner("pull_requests", "deployments", "incidents", "tickets", "ai_spend")
line, demo = freshness(state.runs(version), ui.utc_now())
with st.container(horizontal=True, vertical_alignment="center"):
    if demo:
        st.badge("Demo data", icon=":material/science:", color="orange")
    st.caption(escape_markdown(f"Data freshness: {line}"))

records = state.records(version, filters.grain, filters.start, filters.end, None)
if records.height == 0:
    ui.empty("No data in this range yet. Seed a demo organisation with: scorecard demo. Import CSV files with: "
             "scorecard import ENTITY FILE.csv. Or configure a source in scorecard.toml and press Sync now. "
             "If data exists, widen the date range.")
    st.stop()

team = filters.team
review = state.review(version, filters.grain, filters.start, filters.end, None)
span = f"the last {review.describe()}"
who = pl.col("team").is_null() if team is None else pl.col("team") == team
pauses = state.policy_status(version, ui.utc_now().date()).pauses
flows = sorted(set(pauses["workflow"].to_list())) if pauses.height else []
if review.window is None:
    st.warning("Not enough data for the tiles: no whole week (or month) of the selected range has ended. "
               "Widen the date range.", icon=":material/hourglass_empty:")
else:
    scoped_review = review.records if team is None else review.records.filter(pl.col("team") == team)
    st.markdown(f":material/flag: **{escape_markdown(verdict(scoped_review, flows, span))}**")
    st.caption(escape_markdown(f"Tiles, headline and teams table: {span} of the selected range, against the fixed "
                               "baseline (sidebar). Charts: every period of the range."))

changes = headline(review.records, team, "range", span=span)
with st.container(border=True):
    st.markdown("**What changed most against the baseline**")
    if not changes:
        st.caption("Nothing settled has enough data to compare with its baseline in the review window.")
    for change in changes:
        style = STATUS[change.status]
        st.markdown(f":{style.colour}[{style.icon}] {escape_markdown(change.sentence)}")
    for watch in state.teams_to_watch(version, filters.grain, filters.start, filters.end, team)[:2]:
        st.markdown(f":violet[:material/group:] {escape_markdown(watch.sentence)}")
        if user.can("drill_down") and user.sees_rows_of(watch.team):
            st.page_link("app_pages/rollbacks.py", label=f"See the rolled-back PRs of {escape_markdown(watch.team)}",
                         icon=":material/arrow_forward:", query_params=link_params(filters, team=watch.team))
    if flows:
        st.markdown(f":red[:material/pause_circle:] **Pause recommended** for {len(flows)} AI workflow"
                    f"{'s' if len(flows) != 1 else ''} past a stop condition: {escape_markdown(', '.join(flows))}.")
        st.page_link("app_pages/governance.py", label="See the evidence on the Governance page",
                     icon=":material/arrow_forward:", query_params=link_params(filters))

columns = st.columns(len(TILES))
for column, tile in zip(columns, scorecard_tiles(review.records, team, trend=records)):
    row = review.records.filter((pl.col("metric") == tile.spec.metric) & (pl.col("segment") == tile.spec.segment) & who)
    settling = (settling_days(row.row(0, named=True), state.config(), review.as_of, review.window[1])
                if row.height and review.window else None)
    with column:
        ui.tile(tile, "range", empty_hint=METRICS[tile.spec.metric].empty_hint, when=span, settling=settling)

usage = state.usage_rows(version)
if usage.height and review.window is not None:
    panel = adoption(usage, *review.window, team=team)
    if panel.height:
        st.subheader("AI adoption")
        st.caption(escape_markdown(f"From ai_usage over {span}: seats bought vs people using them, beside the "
                                   "AI-assisted merge rate above. Active and engaged users: mean per day."))
        whole = panel.row(0, named=True)
        cells = st.columns(4)
        cells[0].metric("Seats", f"{whole['seats']:,}")
        cells[1].metric("Active users", f"{whole['active_users']:,}",
                        delta=f"{whole['active_share']:.0%} of seats" if whole["active_share"] is not None else None,
                        delta_color="off", delta_arrow="off")
        cells[2].metric("Acceptance rate", "—" if whole["acceptance_rate"] is None else f"{whole['acceptance_rate']:.1%}")
        cells[3].metric("PRs opened by agents", f"{whole['agent_prs']:,}")
        if team is None and panel.height > 1:
            # Per team, one click away: a data grid costs the browser ~0.35 CPU-s to set up on the first visit,
            # and a closed expander's is not set up (docs/performance-log.md, draw11).
            with st.expander(f"Show the {panel.height - 1:,} teams' seats, users and agent PRs", icon=":material/table_rows:"):
                ui.table(panel.slice(1), percent=("active_share", "acceptance_rate"), column_config={
                    "team": "Team", "seats": "Seats", "active_users": "Active users", "engaged_users": "Engaged users",
                    "active_share": ui.percent("Active ÷ seats"), "acceptance_rate": ui.percent("Acceptance rate"),
                    "agent_prs": "Agent PRs"}, key="adoption_teams")

st.subheader("Trends against the baseline")
st.caption("Shaded: 95% intervals. Dashed: the baseline. Grey band: the baseline's own interval (or the CSAT guardrail). "
           "Orange, dashed outline, hollow points: provisional periods, whose last days can still change. Dotted lines: changes "
           "([[markers]] in the configuration) and the AI adoption week.")
trend_files = []
for left, right in zip(TRENDS[::2], TRENDS[1::2]):
    for column, trend in zip(st.columns(2), (left, right)):
        with column:
            rows = series(records, trend.metric, team)
            if rows.height == 0:
                ui.empty(f"{trend.title}: nothing counted in this range.")
                continue
            ui.trend(state.trend_figure(version, filters.grain, filters.start, filters.end, team, trend.metric))
            trend_files.append((f"{trend.title} (CSV)", rows, f"{trend.metric}_trend", f"dl_{trend.metric}"))
if trend_files:
    ui.downloads(trend_files, filters, label=f"Download the rows of the {len(trend_files)} charts (CSV)", key="dl_trends")

if team is None:
    glance = team_glance(review.records)
    if glance.height:
        st.subheader("Teams")
        st.caption(escape_markdown(f"Each team over {span}. Select a row to focus every page on that team."))

        def focus_team() -> None:
            rows = st.session_state["team_glance"].selection.rows
            # A team lead's picker holds only their teams: another team's row stays an aggregate here.
            if rows and glance["team"][rows[0]] in access.selectable_teams(state.teams(version)):
                st.session_state["team"] = glance["team"][rows[0]]

        ui.status_table(glance.drop("worse"), status_suffix=STATUS_SUFFIX, key="team_glance", on_select=focus_team,
                        selection_mode="single-row")
        st.caption("Green: better than baseline · red: worse · blue: for information · grey text: not enough data.")
        ui.download(glance, "teams_at_a_glance", filters, key="dl_glance")

if user.can("drill_down"):
    st.page_link("app_pages/rollbacks.py", label="Which PRs were rolled back, and why they counted as AI-assisted",
                 icon=":material/arrow_forward:", query_params=link_params(filters))
st.caption("Status follows the Definitions page: grey when n is below the minimum sample.")
