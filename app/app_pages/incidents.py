"""Incidents & MTTR: mean, median and p90 time to restore against the baseline, AI-assisted response
vs not, and the incidents behind the numbers."""
import polars as pl
import streamlit as st

from app import components as ui
from app import sidebar, state
from app.views.chain_views import link_to
from app.views.charts import trend_figure
from app.views.incidents import by_team, incident_list, mttr_statistics, open_incidents
from app.views.trends import series
from metrics.registry import subject_of
from reports.format import fmt_value
from reports.tiles import TileSpec, tile_for, tile_spec

filters = sidebar.current()
version = state.current_version()
ui.header("Incidents & MTTR", filters)
ui.stale_banner("incidents", "deployments")

# The incidents resolved, or open and started, from the range's start on: no deployments or PRs.
incidents = state.incidents_since(version, filters.start)
records = state.records(version, filters.grain, filters.start, filters.end, None)
metric = subject_of("incidents")  # mean time to restore
mttr = series(records, metric.id, filters.team)
if incidents.height == 0 and not state.synced(version, "incidents"):
    ui.empty("No incidents synced yet: configure [pagerduty] or [jira] incidents in scorecard.toml and press "
             "Sync now, or import incidents.csv with: scorecard import incidents FILE.csv")
    st.stop()
if mttr.height == 0:
    ui.empty("No incident was resolved in the selected periods: widen the date range or pick another team.")
    st.stop()

# Tiles: the review window's range records, as on the Scorecard; sparklines: every period of the range.
review = state.review(version, filters.grain, filters.start, filters.end, None)
tile_records, when = (review.records, f"the last {review.describe()}") if review.window else (records, None)
tile_grain = "range" if review.window else filters.grain
mean_tile = tile_for(tile_records, tile_spec(metric), filters.team, trend=records)
ai_tile = tile_for(tile_records, TileSpec(metric.id, "ai", f"{metric.short_title}, AI-assisted response", "incidents"),
                   filters.team, trend=records)
other_tile = tile_for(tile_records, TileSpec(metric.id, "non_ai", f"{metric.short_title}, without AI tooling", "incidents"),
                      filters.team, trend=records)
latest = series(tile_records, metric.id, filters.team).filter(
    (pl.col("segment") == "all") & (pl.col("period") == mean_tile.period))
cols = st.columns(4)
with cols[0]:
    ui.tile(mean_tile, tile_grain, empty_hint="No incident resolved in the review window.", when=when)
with cols[1]:
    with st.container(border=True, height="stretch"):
        row = latest.row(0, named=True) if latest.height else {"median": None, "p90": None}
        st.metric("Median / p90", f"{fmt_value(row['median'], 'hours')} / {fmt_value(row['p90'], 'hours')}",
                  help="Median and 90th percentile (linear interpolation) of the same incidents")
        st.caption("Half of the incidents were resolved within the median; nine in ten within the p90.")
for column, t in zip(cols[2:], (ai_tile, other_tile)):
    with column:
        ui.tile(t, tile_grain, empty_hint="No such incidents resolved in the review window.", when=when)

left, right = st.columns(2)
with left:
    stats = mttr_statistics(records, filters.team, metric.id)
    ui.trend(trend_figure(stats, "hours", segments=("mean", "median", "p90"), baseline_segment="mean",
                          title="Mean, median and p90 (hours), mean against its baseline"))
    ui.download(stats, "mttr_statistics", filters, key="dl_stats")
with right:
    ui.trend(state.trend_figure(version, filters.grain, filters.start, filters.end, filters.team, metric.id))
    ui.download(mttr, f"{metric.id}_trend", filters, key="dl_mttr")

if filters.team is None:
    st.subheader("By team")
    teams = by_team(incidents, filters)
    ui.table(teams, column_config={
        "team": "Team", "incidents": st.column_config.NumberColumn("Incidents", format="%d"),
        "ai_assisted_share": ui.percent("AI-assisted response"),
        "mean_hours": st.column_config.NumberColumn("Mean (h)", format="%.1f"),
        "median_hours": st.column_config.NumberColumn("Median (h)", format="%.1f"),
        "p90_hours": st.column_config.NumberColumn("p90 (h)", format="%.1f"),
    }, percent=("ai_assisted_share",))
    ui.download(teams, "mttr_by_team", filters, key="dl_teams")

st.subheader("Incidents")
rows = incident_list(incidents, filters)
still_open = open_incidents(incidents, filters)
st.caption(f"{rows.height:,} incidents resolved in the selected periods, latest first"
           + (f"; {still_open:,} started in them are still open and not yet counted." if still_open else "."))
ui.table(rows.with_columns(link_to("incident", "id", "view")), column_config={
    "title": st.column_config.TextColumn("Title", width="large"), "team": "Team", "service": "Service",
    "severity": "Severity",
    "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
    "resolved_at": st.column_config.DatetimeColumn("Resolved (UTC)", format="YYYY-MM-DD HH:mm"),
    "hours": st.column_config.NumberColumn("Hours", format="%.1f"),
    "ai_assisted": st.column_config.CheckboxColumn("AI-assisted response"),
    "url": st.column_config.LinkColumn("Link", display_text="open"),
    "id": "Incident", "view": st.column_config.LinkColumn("View", display_text="open"),
})
ui.download(rows, "incidents", filters, key="dl_incidents")
