"""The AI spend page's budgets-and-alerts panel: the same open alerts as `scorecard alerts`, and each
team's month against its budget with the month's pace. Rendering only (reports/alerts.py and
metrics/spend.py compute); the page calls `render(filters)`."""
from __future__ import annotations

import polars as pl
import streamlit as st

from app import components as ui
from app import state

STATUS_WORDS = {"over_budget": "🔴 over budget", "over_pace": "🟠 pacing over", "on_track": "🟢 on track",
                "no_budget": "⚪ no budget"}


def _md(text: str) -> str:
    """Data (team names, tool names) shown literally, never as Markdown or as a `$…$` formula."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|$<>~" else c for c in text)


def render(filters) -> None:
    """Budgets vs actual for the month of the last spend day, and the open alerts; `filters.team`
    narrows both to one team; a team lead sees their own teams' (app/state.spend_alerts)."""
    result = state.spend_alerts(state.current_version())
    st.subheader("Budgets and alerts")
    if result.as_of is None:
        st.info("No AI spend yet: import a FOCUS export or sync a provider (README, Track AI spend).")
        return
    team = getattr(filters, "team", None)
    alerts = result.alerts if team is None else result.alerts.filter(pl.col("team") == team)
    budgets = result.budgets if team is None else result.budgets.filter(pl.col("team") == team)
    st.caption(f"As of {result.as_of}, the last day with spend data · the same alerts as `scorecard alerts`")
    if alerts.height == 0:
        st.success("No open spend alerts.", icon=":material/check_circle:")
    for row in alerts.iter_rows(named=True):
        owner = f" · owner {_md(row['owner'])}" if row["owner"] else ""
        box = st.error if row["kind"] == "spend_anomaly" else st.warning
        box(f"{_md(row['message'])}{owner}  \n`{row['id']}`",
            icon=":material/trending_up:" if row["kind"] == "spend_anomaly" else ":material/savings:")
    if budgets.height == 0:
        st.caption("No budgets configured: add `[budgets.TEAM] monthly_usd = …, owner = \"…\"` to scorecard.toml.")
        return
    month = budgets.get_column("month")[0].strftime("%B %Y")
    elapsed, days = budgets.get_column("days_elapsed")[0], budgets.get_column("days_in_month")[0]
    st.markdown(f"**{month}**: {elapsed} of {days} days")
    no_budget = budgets.filter(pl.col("budget_usd").is_null())
    budgets = budgets.filter(pl.col("budget_usd").is_not_null())  # a bar each; the rest named below
    shown = budgets.select(
        "team", "owner", budget="budget_usd", spent="actual_usd", expected_by_now="expected_usd",
        projected="projected_usd", pace=pl.col("pace") * 100,
        status=pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")),
    )
    money = st.column_config.NumberColumn(format="dollar")
    ui.table(shown, column_config={
        "budget": money, "spent": money, "expected_by_now": st.column_config.NumberColumn("expected by now", format="dollar"),
        "projected": st.column_config.NumberColumn("projected month", format="dollar"),
        "pace": st.column_config.ProgressColumn("pace (projected ÷ budget)", format="%.0f%%", min_value=0,
                                                max_value=max(150.0, float(shown["pace"].max() or 0))),
    })
    if no_budget.height:
        spent = ", ".join(f"{t} (${a:,.0f})" for t, a in no_budget.select("team", "actual_usd").iter_rows())
        st.caption(_md(f"No budget: {spent} spent this month."))
