"""Governance: what AI runs here, who owns it, is any of it past its stop condition, and (for admins)
who looked at or exported what. Everything is computed in governance/ and reports/governance_data.py;
the verdicts are judged on the same scorecard records as the tiles."""
import datetime as dt

import polars as pl
import streamlit as st

from app import access, sidebar, state
from app import components as ui
from app.url_state import link_params
from app.views.governance import (
    DRILL_DOWN, activity, evidence_table, found_table, inventory_table, verdict_table,
)
from governance.inventory import found_in_data, inventory, unowned
from governance.policies import PAUSE
from reports.format import escape_markdown, period_label

filters = sidebar.current()
version = state.current_version()


def _rows_link(row: dict) -> dict:
    """The drill-down of a verdict: its team (or the whole org), grain and the range it was judged on."""
    start, end = status.ranges.get(row["grain"], (filters.start, filters.end))
    return link_params(filters, team=row["team"], grain=row["grain"], range=[start.isoformat(), end.isoformat()])


config = state.config()
user = access.current()
ui.header("Governance", filters, what="What AI runs, who owns it, and what would stop it")
ui.stale_banner("pull_requests", "ai_spend", "ai_usage")

identities = state.identities(version)
found = found_in_data(identities.partials, config.governance, user.row_teams)
# Spend summed per tool × model × workflow (each row once, as inventory reads the rows), not every row.
items = inventory(config.governance, identities.prs, found, state.spend_by_kind(version))
ghosts = unowned(found)
models = state.unapproved_models(version, user.row_teams)
status = state.policy_status(version, ui.utc_now().date())
pauses = status.pauses
paused_flows = sorted(set(pauses["workflow"].to_list()))

cols = st.columns(4)
with cols[0], st.container(border=True, height="stretch"):
    st.metric("Declared AI", f"{items.height:,}",
              help="[governance.tools] and [governance.workflows] in scorecard.toml")
    st.caption(f"{(items['kind'] == 'tool').sum()} tools · {(items['kind'] == 'workflow').sum()} workflows")
with cols[1], st.container(border=True, height="stretch"):
    st.metric("Unowned AI in the data", f"{ghosts.height:,}",
              help="Bot authors, tools named in PR signals, spend tools/models/workflows and adoption tools that no "
                   "inventory entry recognises")
    st.caption("ghost contributors: AI at work nobody declared")
with cols[2], st.container(border=True, height="stretch"):
    st.metric("Pause recommended", f"{len(paused_flows):,}", help="Workflows with a stop condition that fired")
    st.caption(f"of {sum(1 for f in config.governance.workflows.values() if f.stop)} workflows with stop conditions")
with cols[3], st.container(border=True, height="stretch"):
    if user.can("admin"):
        recent = activity(state.audit_rows(), ("export",)).filter(
            pl.col("ts") >= ui.utc_now() - dt.timedelta(days=30))
        st.metric("Exports, last 30 days", f"{recent.height:,}", help="Dashboard downloads and CLI exports (audit log)")
        people = recent["actor"].n_unique() if recent.height else 0
        st.caption(f"by {people} {'person' if people == 1 else 'people'}" if people else "none")
    else:
        st.metric("Your access", user.role.replace("_", " "))
        st.caption(escape_markdown(user.describe()))

# --- stop conditions ----------------------------------------------------------------------------------
st.subheader("Workflow stop conditions")
ranges = ", ".join(f"{g}s {fmt[0]} – {fmt[1]}" for g, fmt in sorted(status.ranges.items()))
st.caption("Judged on the scorecard's records (the tiles' numbers) over the dashboard's default range"
           + (f" ({ranges})" if ranges else "") + ": a period fires only with enough data (n and the baseline's n "
           f"at least {config.rules.min_sample}); a pause needs every one of the condition's latest periods to fire.")
if status.verdicts.height == 0:
    ui.empty("No stop conditions declared. Give each AI workflow the metric that would pause it: "
             "[[governance.workflows.<id>.stop]] in scorecard.toml (see scorecard.toml.example).")
for row in pauses.iter_rows(named=True):
    flow = config.governance.workflows[row["workflow"]]
    where = f"team {row['team']}" if row["team"] else "the whole org"
    with st.container(border=True):
        st.markdown(f":red[:material/pause_circle:] **Pause recommended: {escape_markdown(flow.name or row['workflow'])}** "
                    f"({escape_markdown(where)})")
        ui.text(f"Stop condition: {row['rule']}. Owner: {flow.technical_owner or flow.business_owner or 'nobody declared'}"
                f" · risk tier {flow.risk_tier} · review gate: {flow.review_gate or 'none declared'}.")
        ui.table(evidence_table(status.evidence, row), column_config={
            "period": st.column_config.DateColumn("Period", format="YYYY-MM-DD"),
            "p_value": st.column_config.NumberColumn("p", format="%.4f"),
            "fired": st.column_config.CheckboxColumn("Fired")})
        target = DRILL_DOWN.get(row["metric"])
        if target and user.can("drill_down") and user.sees_rows_of(row["team"]) and row["team"]:
            st.page_link(target, label=escape_markdown(f"The rows behind it: {row['team']}, "
                                                       f"{period_label(row['period'], row['grain'])}"),
                         icon=":material/arrow_forward:", query_params=_rows_link(row))
        elif target and user.can("drill_down") and row["team"] is None:
            st.page_link(target, label="The rows behind it", icon=":material/arrow_forward:",
                         query_params=_rows_link(row))
if status.verdicts.height:
    ui.table(verdict_table(status.verdicts), column_config={
        "period": st.column_config.DateColumn("Latest period", format="YYYY-MM-DD"),
        "rule": st.column_config.TextColumn("Stop condition", width="large"), "against": "Baseline / budget"})
    ui.download(verdict_table(status.verdicts), "stop_conditions", filters, key="dl_verdicts")

# --- inventory ----------------------------------------------------------------------------------------
st.subheader("AI inventory")
if items.height == 0:
    ui.empty("Nothing is declared yet, so everything the data shows below is unowned. Declare each AI tool and "
             "workflow with its business, technical and security owner, risk tier, data and models in "
             "[governance.tools.<id>] / [governance.workflows.<id>] (see scorecard.toml.example).")
else:
    ui.table(inventory_table(items), column_config={
        "spend_usd": st.column_config.NumberColumn("Spend", format="dollar"),
        "prs": st.column_config.NumberColumn("PRs", format="%d"),
        "last_seen": st.column_config.DateColumn("Last seen", format="YYYY-MM-DD"),
        "gaps": st.column_config.TextColumn("Gaps", width="medium")})
    ui.download(items, "ai_inventory", filters, key="dl_inventory")

# --- ghosts -------------------------------------------------------------------------------------------
st.subheader("Unowned: ghost contributors")
st.caption("AI the data names that no inventory entry recognises (counts over all the data; example ids from the "
           "teams you may see). Declare it, with its owners, or stop it.")
if ghosts.height == 0:
    st.success("Every AI identity in the data belongs to a declared tool or workflow.", icon=":material/check_circle:")
else:
    ui.table(found_table(ghosts), column_config={
        "cost_usd": st.column_config.NumberColumn("Spend", format="dollar"),
        "first_seen": st.column_config.DateColumn("First seen", format="YYYY-MM-DD"),
        "last_seen": st.column_config.DateColumn("Last seen", format="YYYY-MM-DD")})
    ui.download(found_table(ghosts), "unowned_ai", filters, key="dl_ghosts")
if models.height:
    st.markdown("**Spend on models their owner did not approve**")
    ui.table(models.with_columns(teams=pl.col("teams").list.join(", "), examples=pl.col("examples").list.join(", ")),
             column_config={"cost_usd": st.column_config.NumberColumn("Spend", format="dollar")})

# --- who looked at or exported what (admins) ----------------------------------------------------------
if user.can("admin"):
    st.subheader("Who looked at or exported what")
    recent = activity(state.audit_rows())
    st.caption("Sign-ins, page views and exports from the audit log, latest first (the last 200).")
    if recent.height == 0:
        st.caption("Nothing recorded yet.")
    else:
        ui.table(recent.head(200), column_config={"ts": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm")})
    st.page_link("app_pages/audit.py", label="The whole audit log and the change history", icon=":material/history:")
