"""The Delivery page and the team drill-down's rework and senior review load, through AppTest over the
small demo warehouse: the tiles show the metrics package's numbers, the incidents show their causes."""
from __future__ import annotations

import polars as pl
import pytest

from app.views.delivery import AI_SPLIT_TILES, DORA_TILES, TEAM_TILES, linked_incidents
from metrics.registry import METRICS
from reports.filters import Filters
from reports.format import fmt_value
from tests.app.conftest import run_app
from tests.app.test_pages import computed, latest, records, review_records  # noqa: F401  (the module's shared fixture)


def test_delivery_tiles_show_the_metrics_numbers(computed):  # noqa: F811
    at = run_app("delivery")
    # The tiles read the review window's range records, as on the Scorecard (the last 13 weeks).
    recs = review_records(computed).records
    tiles = [*DORA_TILES, *[spec for pair in AI_SPLIT_TILES for spec in pair]]
    shown = {m.label: m.value for m in at.metric}
    for spec in tiles:
        expect = latest(recs, spec.metric, spec.segment, None)
        assert expect["grain"] == "range"
        assert shown[spec.title] == fmt_value(expect["value"], METRICS[spec.metric].unit), spec
    # The demo's deployments: about 2.6 a day over the org, never red or green.
    assert shown["Deployment frequency"].endswith(" / day")
    headers = [h.value for h in at.subheader]
    assert "Incidents and the changes that caused them" in headers and "Failed deployments" in headers


def test_delivery_incidents_table_shows_each_cause_and_how_it_was_linked(computed):  # noqa: F811
    at = run_app("delivery")
    table = next(df for df in (d.value for d in at.dataframe) if "caused_by_deployment_id" in df.columns)
    start, end = computed["start"], computed["end"]
    expected = linked_incidents(computed["prepared"].chain.incidents, Filters(grain="week", start=start, end=end, team=None))
    assert len(table) == expected.height > 0
    # A missing link is shown as "—" (never None on screen).
    unlinked = table["caused_by_deployment_id"].isna() | (table["caused_by_deployment_id"] == "—")
    linked = table[~unlinked]
    assert set(linked["cause_how"]) == {"inferred"}  # the demo's source names no cause
    assert linked["cause_rule"].str.startswith("inferred: latest production deployment of team").all()
    assert (table[unlinked]["cause_rule"].str.startswith("not linked")).all()
    assert any(c.value.startswith(f"{expected.height:,} incidents started") for c in at.caption)


def test_team_drill_down_shows_rework_and_senior_review_load_with_rows(computed):  # noqa: F811
    at = run_app("rollbacks", team="payments")
    recs = records(computed, team="payments")
    shown = {m.label: m.value for m in at.metric}
    for spec in TEAM_TILES:
        expect = latest(recs, spec.metric, spec.segment, "payments")
        assert shown[spec.title] == fmt_value(expect["value"], METRICS[spec.metric].unit), spec
    frames = [d.value for d in at.dataframe]
    reworked = next(df for df in frames if "fixed_by" in df.columns)
    assert len(reworked) > 0 and reworked["ai_assisted"].all()  # the toggle starts on AI-assisted PRs
    seniors = next(df for df in frames if "on_ai_prs" in df.columns)
    # payments' seniors are its dev0 and dev1 (the demo's levels); their reviews lean on AI PRs.
    assert set(seniors["reviewer"]) == {"payments-dev0", "payments-dev1"}
    assert (seniors["ai_share"] > 0.5).all()
    behind = next(df for df in frames if "reason" in df.columns and "on_ai_pr" in df.columns)
    assert len(behind) == seniors["reviews"].sum()
