"""Adoption: who uses which AI tool, how much it is accepted, which cohorts ship better or worse, and what
each tool costs per merged PR. Per-person rows only for the roles that may see them: app/state.py gives the
page only those (reports/scope.adoption_rows)."""
import polars as pl
import streamlit as st

from app import sidebar, state
from app import components as ui
from app.views.adoption import by_api_key, by_team_and_tool, per_person, tiles
from app.views.charts import interval_bars
from metrics.tool_economics import spend_by_tool_model
from reports.format import fmt_count, fmt_day, fmt_usd, fmt_value

COLUMNS = {
    "team": "Team", "tool": "Tool", "person": "Person", "active_users": "Active users",
    "engaged_users": "Engaged users", "chat_users": "Chat users", "agent_users": "Agent users",
    "cli_users": "CLI users", "api_key": "API key", "users": "Users", "requests": "Requests", "tokens": "Tokens",
    "active_days": "Active days", "suggestions": "Suggestions",
    "acceptances": "Accepted", "acceptance_rate": ui.percent("Acceptance"), "lines_added": "Lines added",
    "cost_usd": st.column_config.NumberColumn("Cost", format="dollar"),
}

filters = sidebar.current()
version = state.current_version()
data = state.adoption(version)
ui.header("Adoption", filters)

if data.aggregate_usage.height == 0 and data.seats.height == 0:
    ui.empty("No AI tool usage yet: configure [vendors.claude_code], [vendors.cursor], [vendors.openai_usage] or "
             "[github.copilot] user_metrics in scorecard.toml and run `scorecard sync`.")
else:
    numbers = tiles(data.aggregate_usage, data.seats, filters)
    # One caption under the tiles says what the two counts count: seats come only from the tools that report them
    # (Copilot), active users from every tool, so "83 active users" beside "60 seats" is not an error. (One
    # element, not one per tile: each costs the browser its own rendering.)
    seat_tools = ", ".join(numbers["seat_tools"])
    cols = st.columns(4)
    for col, (label, value, help_text) in zip(cols, [
        ("Seats", fmt_count(numbers["seats"]), "Seats on the last day in range with a seat count (ai_usage), of the "
         "tools that report seats"),
        ("Active users", fmt_count(numbers["active_users"]), "Vendor users with at least one active day, per tool"),
        ("Acceptance", fmt_value(numbers["acceptance_rate"], "share"), "Suggestions accepted ÷ suggestions shown, all tools"),
        ("Per-person cost", fmt_usd(numbers["cost_usd"]),
         "Cost the vendors attribute to people (Cursor, Claude Code) and OpenAI's daily project cost shared out "
         "to its users and keys by tokens"),
    ]):
        with col:
            with st.container(border=True, height="stretch"):
                st.metric(label, value, help=help_text)
    seats_are = (f"Seats: those of {seat_tools} on {fmt_day(numbers['seats_day'])}" if seat_tools
                 else "Seats: no tool reports seats in range")
    st.caption(f"{seats_are}. Active users: on any tool, with a seat or not.")

    st.subheader("By team and tool")
    teams = by_team_and_tool(data.team_usage, filters)
    ui.table(teams, column_config=COLUMNS, percent=("acceptance_rate",))
    ui.download(teams, "adoption_by_team_and_tool", filters, key="dl_adoption_teams")

    if data.sees_people:
        st.subheader("People")
        people = per_person(data.people_usage, filters)
        ui.table(people, column_config=COLUMNS, percent=("acceptance_rate",))
        ui.download(people, "adoption_by_person", filters, key="dl_adoption_people")
        keys = by_api_key(data.people_usage, filters)
        if keys.height:
            st.subheader("By API key")
            st.caption("OpenAI: each day's project cost shared out to the project's users and keys by tokens, "
                       "model first (docs/vendors.md).")
            ui.table(keys, column_config=COLUMNS)
            ui.download(keys, "adoption_by_api_key", filters, key="dl_adoption_keys")
    unallocated = data.unallocated.filter(pl.col("date").is_between(filters.start, filters.end))
    if unallocated.height:
        st.caption(f"{fmt_usd(unallocated['cost_usd'].sum())} of OpenAI cost in range is on days and projects "
                   "without usage rows, so it is not shared out to people or keys (sync [vendors.openai_usage]).")
    if data.unmatched.height:
        st.subheader("Vendor users matched to no person")
        st.caption("Add their e-mail or login to the people table: until then their usage counts as unassigned.")
        ui.table(data.unmatched)

st.subheader("Cohorts: before and after adoption")
basis = st.segmented_control("Cohort from", ["prs", "usage"], default=state.DEFAULT_COHORT_BASIS, required=True,
                             key="cohort_basis",
                             format_func={"prs": "Share of AI-assisted PRs", "usage": "Active days with AI tools"}.get)
st.caption("An author's cohort: none (0), light (< 25 %), moderate (25–60 %), heavy (> 60 %) over the trailing "
           "28 days; their adoption week is the first week out of `none`. 95 % intervals (Wilson for shares, "
           "the distribution-free interval of the median for lead time).")
# Kept per range, team and basis (app/state.py): the default view's made at the server's start.
rollbacks, lead_time, by_segment, rework = state.cohort_comparison(version, filters, basis)
ui.interval_bars(interval_bars(by_segment, "segment", "share",
                               title="Rollback share by PR segment (cohort of the author that week)"))
left, right = st.columns(2)
with left:
    st.markdown("**Rollback share**")
    ui.table(rollbacks, column_config={"share": ui.percent("Rollback share"), "low": ui.percent("Low"),
                                       "high": ui.percent("High")}, percent=("share", "low", "high"))
with right:
    st.markdown("**Lead time** (created → the deployment that shipped it)")
    if lead_time["n"].sum() == 0:
        st.caption("No shipped PRs in range: lead time needs production deployments that ship the PRs.")
    ui.table(lead_time, column_config={
        "median_hours": st.column_config.NumberColumn("Median", format="%.1f h"),
        "low": st.column_config.NumberColumn("Low", format="%.1f h"),
        "high": st.column_config.NumberColumn("High", format="%.1f h")})
st.markdown("**Rework rate** (merged PRs that needed a follow-up fix)")
ui.table(rework, column_config={"share": ui.percent("Rework rate"), "low": ui.percent("Low"),
                                "high": ui.percent("High")}, percent=("share", "low", "high"))

st.subheader("Per-tool economics")
spend_tools = spend_by_tool_model(data.spend, start=filters.start, end=filters.end)
economics = state.tool_economics(version, filters.start, filters.end)
if economics is None:
    ui.empty("PRs do not name their AI tools in this warehouse yet, so cost per merged PR by tool cannot be "
             "computed; spend by tool and model is below.")
else:
    st.caption("Tools as the AI tool registry names them. Spend from billing (`ai_spend`); for a tool with none, "
               "the vendor's per-person cost estimate (spend from: vendor usage); no spend: no cost per PR.")
    ui.table(economics, column_config={
        "spend_usd": st.column_config.NumberColumn("Spend", format="dollar"), "spend_from": "Spend from",
        "cost_per_merged_pr": st.column_config.NumberColumn("$ / merged PR", format="$%.2f"),
        "rollback_share": ui.percent("Rollback share"), "merge_rate": ui.percent("Merge rate"),
        "rollback_low": ui.percent("Low"), "rollback_high": ui.percent("High")},
        percent=("rollback_share", "rollback_low", "rollback_high", "merge_rate"))
ui.table(spend_tools, column_config={"cost_usd": st.column_config.NumberColumn("Spend", format="dollar")})
ui.download(spend_tools, "spend_by_tool_and_model", filters, key="dl_tool_spend")
