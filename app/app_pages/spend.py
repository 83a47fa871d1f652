"""AI spend: where the money goes (team, tool, model, workflow), what it buys per resolved unit, and
budgets and alerts. Tokens and requests appear as denominators (cost per 1k tokens, per request)."""
import streamlit as st

from app import components as ui
from app import sidebar, spend_panel, state
from app.url_state import apply_url, remember
from app.views.charts import stacked_bars
from app.views.spend import DIMENSIONS, spend_by, spend_over_time, totals, with_seats
from app.views.trends import series
from metrics.registry import subject_of
from reports.format import fmt_count, fmt_rate, fmt_usd
from reports.tiles import scorecard_tiles


def budgets_and_alerts(filters) -> None:
    """Budgets vs actual and spend anomalies: the spend issue's panel (app/spend_panel.py), the same
    alerts as `scorecard alerts`."""
    spend_panel.render(filters)


filters = sidebar.current()
version = state.current_version()
ui.header("AI spend", filters)
ui.stale_banner("ai_spend", "ai_usage")

# The budgets and alerts (shown last) read the spend rows of the days they add up (reports/alerts.load_alert_spend),
# kept as a small result: read before the range's spend rows, which the page keeps, so the two reads' transient
# memory is not held at once.
state.spend_alerts(version)
spend = state.spend_since(version, filters.start)
records = state.records(version, filters.grain, filters.start, filters.end, None)
if spend.height == 0 and not state.synced(version, "ai_spend"):
    ui.empty("No AI spend imported yet: import ai_spend.csv (or a FinOps FOCUS billing export) with "
             "the command scorecard import ai_spend FILE.csv, or configure a provider's cost API in scorecard.toml.")
    budgets_and_alerts(filters)
    st.stop()

total = totals(spend, filters)
# The cost tile: the review window's range record, as on the Scorecard (the other numbers: the whole range).
review = state.review(version, filters.grain, filters.start, filters.end, None)
tile_records, when = (review.records, f"the last {review.describe()}") if review.window else (records, None)
cost = subject_of("spend")  # AI cost per unit
cost_tile = next(t for t in scorecard_tiles(tile_records, filters.team, trend=records) if t.spec.metric == cost.id)
cols = st.columns(4)
with cols[0]:
    ui.tile(cost_tile, "range" if review.window else filters.grain,
            empty_hint="No spend, or no resolved units, in the review window.", when=when)
with cols[1]:
    with st.container(border=True, height="stretch"):
        st.metric("AI spend in range", fmt_usd(total["cost_usd"]), help="Sum of cost_usd of the spend rows dated in the selected periods")
        st.caption(f"{fmt_count(total['rows'])} spend rows")
with cols[2]:
    with st.container(border=True, height="stretch"):
        per_k = total["cost_usd"] / total["tokens"] * 1000 if total["tokens"] else None
        st.metric("Cost per 1k tokens", fmt_rate(per_k), help="Spend ÷ tokens, where the source reports tokens")
        st.caption(f"{fmt_count(total['tokens'])} tokens")
with cols[3]:
    with st.container(border=True, height="stretch"):
        per_request = total["cost_usd"] / total["requests"] if total["requests"] else None
        st.metric("Cost per request", fmt_rate(per_request), help="Spend ÷ requests, where the source reports them")
        st.caption(f"{fmt_count(total['requests'])} requests")

st.subheader("Where the money goes")
by_label = {label: key for key, label in DIMENSIONS.items()}
apply_url({"spend_dimension": lambda values: by_label.get(values[-1], values[-1]) if values and
           (values[-1] in by_label or values[-1] in DIMENSIONS) else "tool"})
dimension = st.segmented_control("Break down by", list(DIMENSIONS), format_func=DIMENSIONS.get,
                                 default=None if "spend_dimension" in st.session_state else "tool", required=True,
                                 key="spend_dimension", bind="query-params") or "tool"
remember(("spend_dimension",))
over_time = spend_over_time(spend, dimension, filters)
ui.stacked_bars(stacked_bars(over_time, "period", "cost_usd", dimension, "usd", title=f"Spend by {dimension}"))
ui.download(over_time, f"spend_by_{dimension}_over_time", filters, key="dl_time")
breakdown = with_seats(spend_by(spend, dimension, filters), spend, state.usage_rows(version), dimension, filters)
ui.table(breakdown, column_config={
    dimension: DIMENSIONS[dimension], "cost_usd": st.column_config.NumberColumn("Spend", format="dollar"),
    "share": ui.percent("Share of spend"),
    "seats": st.column_config.NumberColumn("Seats", format="%d", help="Seat-priced tools (billed per seat, no "
                                           "tokens): seats on the last day of the range, from the usage data"),
    "tokens": st.column_config.NumberColumn("Tokens", format="compact"),
    "requests": st.column_config.NumberColumn("Requests", format="compact"),
    "usd_per_1k_tokens": st.column_config.NumberColumn("$ per 1k tokens", format="$%.4f"),
    "usd_per_request": st.column_config.NumberColumn("$ per request", format="$%.4f"),
}, percent=("share",))
ui.download(breakdown, f"spend_by_{dimension}", filters, key="dl_breakdown")

st.subheader("Cost per resolved unit")
st.caption("AI spend ÷ (merged PRs + resolved tickets + resolved incidents) of the same team.")
left, right = st.columns([3, 2])
with left:
    if series(records, cost.id, filters.team).height:
        ui.trend(state.trend_figure(version, filters.grain, filters.start, filters.end, filters.team, cost.id))
        ui.download(series(records, cost.id, filters.team), f"{cost.id}_trend", filters, key="dl_cost")
    else:
        ui.empty("No period in range has both spend and resolved units.")
with right:
    per_team = state.cost_per_unit_by_team(version, filters.grain, filters.start, filters.end, filters.team)
    ui.table(per_team, column_config={
        "team": "Team", "cost_usd": st.column_config.NumberColumn("Spend", format="dollar"),
        "units": st.column_config.NumberColumn("Resolved units", format="%d"),
        "usd_per_unit": st.column_config.NumberColumn("$ / unit", format="$%.2f"),
    })
    st.caption("Pooled over the selected periods.")
    ui.download(per_team, "cost_per_unit_by_team", filters, key="dl_team_cost")

budgets_and_alerts(filters)
