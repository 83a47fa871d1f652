"""Scorecard (for VPs): the five numbers of the latest period, each against its baseline."""
import datetime as dt

import polars as pl
import streamlit as st

from app import state
from metrics.registry import METRICS

TILES = [
    ("ai_merge_rate", "all"), ("rollback_share", "ai"), ("mttr_hours", "all"),
    ("deflection_rate", "all"), ("ai_cost_per_unit", "all"),
]
STATUS_WORDS = {
    "better": "🟢 better", "worse": "🔴 worse", "at_baseline": "⚪ at baseline",
    "info": "🔵 info", "insufficient_data": "⚫ not enough data",
}


def fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    return {"share": f"{value:.1%}", "usd": f"${value:,.2f}", "hours": f"{value:,.1f} h"}.get(unit, f"{value:,.2f}")


st.title("AI impact scorecard")
version = state.current_version()
today = dt.datetime.now(dt.timezone.utc).date()
grain = st.sidebar.radio("Period", ["week", "month"], horizontal=True)
start, end = st.sidebar.date_input("Date range", value=(today - dt.timedelta(weeks=26), today))
records = state.records(version, grain, start, end, None)
if records.height == 0:
    st.info("No data yet: run `scorecard demo` for a demo organisation, or import CSVs with `scorecard import`.")
    st.stop()
org = records.filter(pl.col("team").is_null())
cols = st.columns(len(TILES))
for col, (metric_id, segment) in zip(cols, TILES):
    spec = METRICS[metric_id]
    rows = org.filter((pl.col("metric") == metric_id) & (pl.col("segment") == segment)).sort("period")
    with col:
        if rows.height == 0:
            st.metric(spec.title, "—")
            st.caption("nothing counted in this range")
            continue
        last = rows.row(-1, named=True)
        st.metric(spec.title + (" (AI PRs)" if segment == "ai" else ""), fmt(last["value"], spec.unit),
                  delta=None if last["delta"] is None else fmt(last["delta"], spec.unit),
                  delta_color="off" if spec.better == "info" else ("inverse" if spec.better == "lower" else "normal"))
        st.caption(f"{STATUS_WORDS[last['status']]} · baseline {fmt(last['baseline'], spec.unit)} · n = {last['n']}")
