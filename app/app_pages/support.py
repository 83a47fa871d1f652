"""Support: deflection and CSAT over time, by channel and by team, with the CSAT guardrail visible
(deflection only counts as better while CSAT holds)."""
import streamlit as st

from app import components as ui
from app import sidebar, state
from app.views.charts import stacked_bars
from app.views.support import by_channel, by_channel_over_time, by_team, guardrail_sentence
from app.views.trends import series
from metrics.registry import METRICS, subject_of
from reports.tiles import COMPANIONS, TileSpec, scorecard_tiles, tile_for

CHANNEL_COLOURS = {"ai_bot": "#7b3fc4", "self_serve": "#13a89e", "human": "#8a94a6"}

filters = sidebar.current()
version = state.current_version()
config = state.config()
ui.header("Support", filters)
ui.stale_banner("tickets")

# The range's resolved tickets counted per day, team and channel (kept beside the cube), not the tickets.
tickets = state.ticket_counts(version, filters.start)
records = state.records(version, filters.grain, filters.start, filters.end, None)
if tickets.height == 0 and not state.synced(version, "tickets"):
    ui.empty("No support tickets synced yet: configure [jira] support tickets (Jira Service Management) in "
             "scorecard.toml and press Sync now, or import tickets.csv with: scorecard import tickets FILE.csv")
    st.stop()
deflected = subject_of("support")  # support deflection, guarded by CSAT
csat = METRICS[deflected.guardrail.metric]
if series(records, deflected.id, filters.team).height == 0:
    ui.empty("No ticket was resolved in the selected periods: widen the date range or pick another team.")
    st.stop()

# Tiles: the review window's range records, as on the Scorecard; sparklines: every period of the range.
review = state.review(version, filters.grain, filters.start, filters.end, None)
tile_records, when = (review.records, f"the last {review.describe()}") if review.window else (records, None)
tile_grain = "range" if review.window else filters.grain
deflection = next(t for t in scorecard_tiles(tile_records, filters.team, trend=records)
                  if t.spec.metric == deflected.id)
csat_all = tile_for(tile_records, COMPANIONS[deflected.id], filters.team, trend=records)
csat_bot = tile_for(tile_records, TileSpec(csat.id, "ai", f"{csat.short_title}, AI bot", "scored tickets"), filters.team,
                    trend=records)
csat_other = tile_for(tile_records, TileSpec(csat.id, "non_ai", f"{csat.short_title}, other channels", "scored tickets"),
                      filters.team, trend=records)
cols = st.columns(4)
for column, t in zip(cols, (deflection, csat_all, csat_bot, csat_other)):
    with column:
        ui.tile(t, tile_grain, empty_hint="No scored tickets in the review window.", when=when)

companion = deflection.companion
guard = guardrail_sentence(
    companion.value if companion else None, companion.baseline if companion else None,
    getattr(config.rules, deflected.guardrail.rule), companion.status if companion else None,
)
(st.warning if guard.startswith("Guardrail breached") else st.info)(guard, icon=":material/shield:")

left, right = st.columns(2)
for column, metric in zip((left, right), (deflected.id, csat.id)):
    with column:
        ui.trend(state.trend_figure(version, filters.grain, filters.start, filters.end, filters.team, metric))
        ui.download(series(records, metric, filters.team), f"{metric}_trend", filters, key=f"dl_{metric}")

st.subheader("By channel")
left, right = st.columns([3, 2])
with left:
    over_time = by_channel_over_time(tickets, filters)
    ui.stacked_bars(stacked_bars(over_time, "period", "tickets", "channel", "count", palette=CHANNEL_COLOURS,
                                 title="Resolved tickets by channel"))
    ui.download(over_time, "tickets_by_channel", filters, key="dl_channels")
with right:
    channels = by_channel(tickets, filters)
    ui.table(channels, column_config={
        "channel": "Channel", "resolved": st.column_config.NumberColumn("Resolved", format="%d"),
        "scored": st.column_config.NumberColumn("With CSAT", format="%d"),
        "csat": st.column_config.NumberColumn("CSAT", format="%.2f"),
    })
    st.caption("self_serve and ai_bot count as deflected; human does not.")
    ui.download(channels, "support_by_channel", filters, key="dl_by_channel")

if filters.team is None:
    st.subheader("By team")
    teams = by_team(tickets, filters)
    ui.table(teams.select(
        "team", "resolved", "deflection", "deflection_ci_low", "deflection_ci_high", "scored", "csat", "csat_ai_bot",
        "csat_others",
    ), column_config={
        "team": "Team", "resolved": st.column_config.NumberColumn("Resolved", format="%d"),
        "deflection": ui.percent("Deflection"),
        "deflection_ci_low": ui.percent("95% low"),
        "deflection_ci_high": ui.percent("95% high"),
        "scored": st.column_config.NumberColumn("With CSAT", format="%d"),
        "csat": st.column_config.NumberColumn("CSAT", format="%.2f"),
        "csat_ai_bot": st.column_config.NumberColumn("CSAT, AI bot", format="%.2f"),
        "csat_others": st.column_config.NumberColumn("CSAT, others", format="%.2f"),
    }, percent=("deflection", "deflection_ci_low", "deflection_ci_high"))
    st.caption("Pooled over the selected periods. A team whose CSAT slips below its baseline by more than "
               f"{config.rules.csat_tolerance:g} gets a red deflection tile, however high its deflection.")
    ui.download(teams, "support_by_team", filters, key="dl_teams")
