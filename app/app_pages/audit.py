"""Audit log (admins): every sync, import, export, sign-in, page view and config change with its actor
and time, filterable and downloadable; the change history of the config and the metric definitions,
and the config that was in force at any moment (to explain a number on an old screenshot)."""
import datetime as dt
import json

import polars as pl
import streamlit as st

from app import components as ui
from app import sidebar, state
from governance.changes import config_hash, config_in_force, config_versions, effective_config, metrics_version

filters = sidebar.current()
ui.header("Audit log", filters, what="Who did what, and which configuration was in force when")
st.caption("The sidebar's filters do not apply here: the log is shown whole, latest first.")

rows = state.audit_rows().sort("id", descending=True)
left, middle, right = st.columns([2, 2, 1])
with left:
    actions = st.multiselect("Actions", sorted(rows["action"].unique().to_list()), key="audit_actions",
                             placeholder="Every action")
with middle:
    actors = st.multiselect("Actors", sorted(rows["actor"].unique().to_list()), key="audit_actors",
                            placeholder="Everyone")
with right:
    days = st.number_input("Last days", min_value=1, max_value=3650, value=90, key="audit_days")
shown = rows.filter(pl.col("ts") >= ui.utc_now() - dt.timedelta(days=int(days)))
if actions:
    shown = shown.filter(pl.col("action").is_in(actions))
if actors:
    shown = shown.filter(pl.col("actor").is_in(actors))
st.caption(f"{shown.height:,} of {rows.height:,} entries.")
ui.table(shown.head(1000), column_config={
    "ts": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "detail": st.column_config.TextColumn("Detail", width="large")})
if shown.height > 1000:
    st.caption("The first 1,000 are shown; the download holds all of them.")
ui.download(shown, "audit_log", filters, key="dl_audit", label="Download the audit log (CSV)")

st.subheader("Change history")
config = state.config()
st.caption(f"In force now: config {config_hash(config)} · metric definitions {metrics_version()} · "
           f"from {config.source_path or 'defaults (no scorecard.toml)'}. A new version is recorded the first "
           "time the CLI or the dashboard runs with it.")
history = config_versions(rows)
ui.table(history, column_config={"ts": st.column_config.DatetimeColumn("Recorded (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                                 "changed": st.column_config.TextColumn("Changed keys", width="large")})

st.markdown("**The configuration in force at a moment**")
c1, c2 = st.columns(2)
with c1:
    day = st.date_input("Day (UTC)", value=ui.utc_now().date(), key="audit_at_day")
with c2:
    moment = st.time_input("Time (UTC)", value=dt.time(23, 59), key="audit_at_time")
at = dt.datetime.combine(day, moment, dt.timezone.utc)
version = config_in_force(rows, at)
if version is None:
    ui.empty("No configuration was recorded by then.")
else:
    ui.text(f"Config {version['config_hash']} with metric definitions {version['metrics_version']}, from {version['source']}.")
    with st.expander("The whole effective configuration (secrets excluded)"):
        st.json(version.get("config", {}), expanded=2)

with st.expander("The effective configuration now (secrets excluded)"):
    st.json(json.loads(json.dumps(effective_config(config))), expanded=2)
