"""Delivery: DORA's keys (deployment frequency, lead time, change failure, time to restore, rework), each
split by AI-assisted change and drawn against its baseline, and the incidents with the deployment that
caused them, the PRs it shipped and how the link was made."""
import polars as pl
import streamlit as st

from app import components as ui
from app import sidebar, state
from app.views.chain_views import link_to
from app.views.charts import trend_figure
from app.views.delivery import (
    AI_SPLIT_TILES, DELIVERY_TRENDS, DORA_TILES, PAGE_TRENDS, failed_deployments, linked_incidents, trend_rows,
)
from metrics.registry import METRICS
from reports.review import settling_days
from reports.tiles import tile_for

filters = sidebar.current()
version = state.current_version()
config = state.config()
ui.header("Delivery", filters)

if not state.synced(version, "deployments"):
    ui.empty("No deployments synced yet: configure [github] deployments in scorecard.toml and press Sync now, or "
             "import deployments.csv with `scorecard import deployments FILE.csv`.")
    st.stop()
records = state.records(version, filters.grain, filters.start, filters.end, None)
rules = config.rules
st.caption(
    f"A deployment failed when a rollback undid it within {rules.rollback_window_days:g} days, a PR it shipped was "
    f"reverted, or it caused an incident (the source's link, else the latest production deployment of the "
    f"incident's team or service repos within {rules.incident_link_hours:g} h before it started). AI-assisted "
    f"change: the deployment shipped at least one AI-assisted PR."
)

# Tiles: the review window's range records, as on the Scorecard; sparklines: every period of the range.
review = state.review(version, filters.grain, filters.start, filters.end, None)
tile_records, when = (review.records, f"the last {review.describe()}") if review.window else (records, None)
tile_grain = "range" if review.window else filters.grain


def delivery_tile(spec, empty_hint: str) -> None:
    tile = tile_for(tile_records, spec, filters.team, trend=records)
    who = pl.col("team").is_null() if filters.team is None else pl.col("team") == filters.team
    row = tile_records.filter((pl.col("metric") == spec.metric) & (pl.col("segment") == spec.segment) & who)
    settling = (settling_days(row.row(0, named=True), config, review.as_of, review.window[1])
                if row.height and review.window else None)
    ui.tile(tile, tile_grain, empty_hint=empty_hint, when=when, settling=settling)


for column, spec in zip(st.columns(len(DORA_TILES)), DORA_TILES):
    with column:
        delivery_tile(spec, "Nothing counted in the review window.")
st.subheader("AI-assisted changes vs others")
for column, pair in zip(st.columns(len(AI_SPLIT_TILES)), AI_SPLIT_TILES):
    with column:
        for spec in pair:
            delivery_tile(spec, "None in the review window.")

st.subheader("Over time, against the baseline")
metrics = list(PAGE_TRENDS)
trend_files = []
for left, right in zip(metrics[0::2], metrics[1::2] + [None]):
    cols = st.columns(2)
    for column, metric in zip(cols, (left, right)):
        if metric is None:
            continue
        segments, title = DELIVERY_TRENDS[metric]
        rows, band = trend_rows(records, metric, filters.team)
        with column:
            ui.trend(trend_figure(rows, METRICS[metric].unit, segments=segments, band=band, title=title))
        trend_files.append((f"{title} (CSV)", rows, f"{metric}_trend", f"dl_{metric}"))
ui.downloads(trend_files, filters, label=f"Download the rows of the {len(trend_files)} charts (CSV)", key="dl_trends")

# The two tables' rows from the facts kept beside the cube: the range's incidents and failed deployments only.
incident_rows, deployment_rows = state.delivery_rows(version, filters.start)
st.subheader("Incidents and the changes that caused them")
incidents = linked_incidents(incident_rows, filters)
if incidents.height == 0:
    ui.empty("No incident started in the selected periods.")
else:
    linked = incidents.filter(pl.col("caused_by_deployment_id").is_not_null())
    st.caption(f"{incidents.height:,} incidents started in the selected periods; {linked.height:,} linked to the "
               f"deployment that caused them ({linked.filter(pl.col('cause_how') == 'source').height:,} by the source, "
               f"the rest inferred).")
    # The row-level tables open on a click: each data grid costs the browser ~0.35 CPU-s to set up on the first
    # visit, drawn or not (docs/performance-log.md, draw10 and draw11); a closed one's rows are not even sent
    # (`ui.on_open`: built when opened). The download stays beside it: it works without opening.
    ui.on_open(f"Show the {incidents.height:,} incidents, each with its cause", lambda: ui.table(
        incidents.with_columns(link_to("incident", "id", "view"), link_to("deployment", "caused_by_deployment_id", "cause_view")),
        column_config={
            "view": st.column_config.LinkColumn("Incident view", display_text="open"),
            "cause_view": st.column_config.LinkColumn("Deployment view", display_text="open"),
            "id": "Incident", "title": st.column_config.TextColumn("Title", width="medium"), "team": "Team",
            "service": "Service",
            "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
            "resolved_at": st.column_config.DatetimeColumn("Resolved (UTC)", format="YYYY-MM-DD HH:mm"),
            "caused_by_deployment_id": "Caused by deployment", "cause_how": "Linked by",
            "cause_change": "Change", "cause_prs": st.column_config.TextColumn("PRs it shipped", width="medium"),
            "cause_rule": st.column_config.TextColumn("How the link was made", width="large"),
            "url": st.column_config.LinkColumn("Link", display_text="open"),
        }), key="rows_incidents")
    ui.download(incidents, "incidents_with_causes", filters, key="dl_incidents")

st.subheader("Failed deployments")
failed = failed_deployments(deployment_rows, filters)
if failed.height == 0:
    ui.empty("No production deployment in the selected periods failed.")
else:
    st.caption(f"{failed.height:,} failed deployments, latest first.")
    ui.on_open(f"Show the {failed.height:,} failed deployments, each with why it failed", lambda: ui.table(
        failed.with_columns(link_to("deployment", "id", "view")), column_config={
            "view": st.column_config.LinkColumn("View", display_text="open"),
            "id": "Deployment", "repo": "Repository", "environment": "Environment", "team": "Team",
            "finished_at": st.column_config.DatetimeColumn("Finished (UTC)", format="YYYY-MM-DD HH:mm"),
            "shipped_prs": st.column_config.NumberColumn("PRs", format="%d"),
            "ai_prs": st.column_config.NumberColumn("AI PRs", format="%d"),
            "failed_how": "Failed by", "failed_by": "Rollback / revert / incident",
            "failed_reason": st.column_config.TextColumn("Why", width="large"),
        }), key="rows_failed")
    ui.download(failed, "failed_deployments", filters, key="dl_failed")
