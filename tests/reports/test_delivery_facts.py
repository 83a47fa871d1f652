"""The Delivery page's facts kept beside the cube (metrics.cube.delivery_facts, stored by reports/derived.py,
read by warehouse.cube_store.read_facts through app/state.delivery_rows): its two tables, "Incidents and the
changes that caused them" and "Failed deployments", worked out by hand on a small organisation, built whole
and then kept by the upkeep after a write, on SQLite and PostgreSQL; the same rows as from the change chain of
all the evidence; no reader of the cube sees them."""
from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from app.views.delivery import failed_deployments, linked_incidents
from config import Config, WarehouseConfig
from metrics.scorecard import prepare
from pipeline import ingest
from reports.data import load_cube, load_evidence, refresh_cube
from reports.filters import Filters
from warehouse import open_warehouse
from warehouse.cube_chunks import FACT_PARTS
from warehouse.cube_store import read_cube_parts, read_facts, read_state
from warehouse.schema import TABLES
from warehouse.types import polars_schema

UTC = dt.timezone.utc


def _at(day: int, hour: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def _pr(key: str, created: dt.datetime, merged: dt.datetime, **kw) -> dict:
    row = {"id": f"t:{key}", "source": "csv", "repo": "acme/api", "number": ord(key), "title": f"Change {key}",
           "author": "ann", "team": "core", "created_at": created, "merged_at": merged,
           "merge_commit_sha": f"sha-{key}", "ai_assisted": False, "is_revert": False, "reverts_pr_id": None,
           "revert_ref": None, "labels": "[]", "ai_tools": "[]", "ai_mode": None, "ai_signals": "[]",
           "ai_confidence": None}
    row.update(kw)
    return row


def _deployment(key: str, finished: dt.datetime, sha: str | None = None) -> dict:
    return {"id": f"t:{key}", "source": "csv", "repo": "acme/api", "team": "core", "environment": "production",
            "sha": sha or f"build-{key}", "finished_at": finished, "status": "success", "is_rollback": None}


def _incident(key: str, team: str, started: dt.datetime, resolved: dt.datetime | None, cause: str | None,
              url: str) -> dict:
    return {"id": f"t:{key}", "source": "csv", "title": f"Outage {key}", "team": team, "service": None,
            "severity": "sev2", "started_at": started, "resolved_at": resolved, "ai_assisted": False,
            "caused_by_deployment_id": cause, "url": url}


def _frame(rows: list[dict], table: str) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(TABLES[table], list(rows[0])), orient="row")


def _organisation() -> dict[str, pl.DataFrame]:
    """One repo (acme/api, team core), default rules (rollback window 7 days, incident link 24 h):

    - A (AI) merged 2 March 10:00, shipped by d1 at 12:00.
    - B merged 3 March 09:00, shipped by d2 on 4 March 09:00; C reverts B, merged 4 March 10:00: d2 failed,
      "reverted PR" (the revert merged within 7 days of B and after d2).
    - C and D (merged 5 March 09:00) shipped by d3 on 6 March 09:00; incident i1 (core) starts 6 March 11:00,
      no source cause: inferred d3 (2 h before), d3 failed, "caused incident".
    - E (AI) merged 9 March 09:00, shipped by d4 on 10 March 09:00; d5 on 11 March 09:00 deploys d3's build
      again (two deployments on: the sha rule), a rollback of d4: d4 failed, "rolled back". d5 is a rollback:
      not listed, never a cause.
    - i3 (web) starts 12 March 08:00: team web never deploys, not linked.
    - i2 (core) starts 20 March 10:00, the source names d3: d3's failure stays i1's (the earlier incident).
    - i4 (core) starts 25 March 08:00, not resolved, the source names d1 (which shipped A): d1 failed, "caused
      incident"."""
    prs = [
        _pr("A", _at(2, 8), _at(2, 10), ai_assisted=True),
        _pr("B", _at(3, 7), _at(3, 9)),
        _pr("C", _at(4, 9), _at(4, 10), title="Revert B", is_revert=True, reverts_pr_id="t:B"),
        _pr("D", _at(5, 8), _at(5, 9)),
        _pr("E", _at(9, 8), _at(9, 9), ai_assisted=True),
    ]
    deployments = [_deployment("d1", _at(2, 12)), _deployment("d2", _at(4, 9)), _deployment("d3", _at(6, 9)),
                   _deployment("d4", _at(10, 9)), _deployment("d5", _at(11, 9), sha="build-d3")]
    incidents = [
        _incident("i1", "core", _at(6, 11), _at(6, 15), None, "https://status.example/i1"),
        _incident("i2", "core", _at(20, 10), _at(20, 12), "t:d3", "https://status.example/i2"),
        _incident("i3", "web", _at(12, 8), _at(12, 9), None, "javascript:alert(1)"),  # not a link: shown as none
        _incident("i4", "core", _at(25, 8), None, "t:d1", "https://status.example/i4"),
    ]
    return {"pull_requests": _frame(prs, "pull_requests"), "deployments": _frame(deployments, "deployments"),
            "incidents": _frame(incidents, "incidents")}


INFERRED = "inferred: latest production deployment of team core finished within 24 h before the start ({} h before)"
# linked_incidents' rows: id, title, team, service, started_at, resolved_at, caused_by_deployment_id, cause_how,
# cause_change, cause_prs, cause_rule, url — latest start first
I4 = ("t:i4", "Outage i4", "core", None, _at(25, 8), None, "t:d1", "source", "AI-assisted change", "t:A",
      "named by the source", "https://status.example/i4")
I2 = ("t:i2", "Outage i2", "core", None, _at(20, 10), _at(20, 12), "t:d3", "source", "other change", "t:C, t:D",
      "named by the source", "https://status.example/i2")
I3 = ("t:i3", "Outage i3", "web", None, _at(12, 8), _at(12, 9), None, None, None, None,
      "not linked: no production deployment of team web within 24 h before the start", None)
I1 = ("t:i1", "Outage i1", "core", None, _at(6, 11), _at(6, 15), "t:d3", "inferred", "other change", "t:C, t:D",
      INFERRED.format("2.0"), "https://status.example/i1")
# failed_deployments' rows: id, repo, environment, team, finished_at, shipped_prs, ai_prs, failed_how, failed_by,
# failed_reason — latest finish first
D4 = ("t:d4", "acme/api", "production", "core", _at(10, 9), 1, 1, "rolled back", "t:d5",
      "failed: rolled back by t:d5 at 2026-03-11 09:00 UTC")
D3 = ("t:d3", "acme/api", "production", "core", _at(6, 9), 2, 0, "caused incident", "t:i1",
      "failed: caused incident t:i1 (inferred link)")
D2 = ("t:d2", "acme/api", "production", "core", _at(4, 9), 1, 0, "reverted PR", "t:C",
      "failed: t:B it shipped was reverted by t:C at 2026-03-04 10:00 UTC")
D1 = ("t:d1", "acme/api", "production", "core", _at(2, 12), 1, 1, "caused incident", "t:i4",
      "failed: caused incident t:i4 (source link)")


def _tables(wh, start: dt.date, end: dt.date, team: str | None = None) -> tuple[list[tuple], list[tuple]]:
    """The two tables as the Delivery page makes them from the stored facts (app/state.delivery_rows)."""
    filters = Filters(grain="week", start=start, end=end, team=team)
    incidents = linked_incidents(read_facts(wh, "incident_facts", start), filters)
    failed = failed_deployments(read_facts(wh, "failed_facts", start), filters)
    return incidents.rows(), failed.rows()


def _as_from_the_chain(wh, config: Config, start: dt.date, end: dt.date) -> None:
    """The stored facts give the frames the change chain of all the evidence gives (what the page showed)."""
    chain = prepare(load_evidence(wh), config).chain
    filters = Filters(grain="week", start=start, end=end)
    assert_frame_equal(linked_incidents(read_facts(wh, "incident_facts", start), filters),
                       linked_incidents(chain.incidents, filters))
    assert_frame_equal(failed_deployments(read_facts(wh, "failed_facts", start), filters),
                       failed_deployments(chain.deployments, filters))


def test_the_delivery_tables_of_a_full_build_by_hand(warehouse_url):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        ingest(wh, "csv", _organisation())
        load_cube(wh, config)
        incidents, failed = _tables(wh, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        assert incidents == [I4, I2, I3, I1]
        assert failed == [D4, D3, D2, D1]
        # Whole weeks (from Monday 2 March): from the 7th on, those from Monday the 9th; from the 13th, the 16th.
        assert _tables(wh, dt.date(2026, 3, 7), dt.date(2026, 3, 31)) == ([I4, I2, I3], [D4])
        assert _tables(wh, dt.date(2026, 3, 13), dt.date(2026, 3, 31)) == ([I4, I2], [])
        assert _tables(wh, dt.date(2026, 3, 1), dt.date(2026, 3, 31), team="web") == ([I3], [])
        # The range's last week ends it: the week of 2 March only.
        assert _tables(wh, dt.date(2026, 3, 1), dt.date(2026, 3, 8)) == ([I1], [D3, D2, D1])
        _as_from_the_chain(wh, config, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        # The cube's readers never see them.
        assert not set(read_cube_parts(wh)) & set(FACT_PARTS)
    finally:
        wh.engine.dispose()


def test_the_upkeep_keeps_the_delivery_tables_after_a_write(warehouse_url):
    """G (AI) merged 1 April 10:00, shipped by d6 at 12:00; i5 (core) starts 1 April 13:00: inferred d6 (1 h
    before), d6 failed. The upkeep recomputes from a cut weeks before (the look-back), after d2 and before
    i4's start: i4, not resolved, still names d1 with d1's segment and PRs (the slice reads the deployments the
    source names for the incidents started since the cut, resolved or not, with what they shipped)."""
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        ingest(wh, "csv", _organisation())
        load_cube(wh, config)
        ingest(wh, "csv", {
            "pull_requests": _frame([_pr("G", _at(1, 8, 4), _at(1, 10, 4), ai_assisted=True)], "pull_requests"),
            "deployments": _frame([_deployment("d6", _at(1, 12, 4))], "deployments"),
            "incidents": _frame([_incident("i5", "core", _at(1, 13, 4), _at(1, 15, 4), None,
                                           "https://status.example/i5")], "incidents")})
        cut = read_state(wh).pending_from
        assert _at(6, 9) < cut < _at(25, 8)
        assert refresh_cube(wh, config) == "updated"  # by time, not rebuilt
        i5 = ("t:i5", "Outage i5", "core", None, _at(1, 13, 4), _at(1, 15, 4), "t:d6", "inferred",
              "AI-assisted change", "t:G", INFERRED.format("1.0"), "https://status.example/i5")
        d6 = ("t:d6", "acme/api", "production", "core", _at(1, 12, 4), 1, 1, "caused incident", "t:i5",
              "failed: caused incident t:i5 (inferred link)")
        incidents, failed = _tables(wh, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
        assert incidents == [i5, I4, I2, I3, I1]
        assert failed == [d6, D4, D3, D2, D1]
        _as_from_the_chain(wh, config, dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    finally:
        wh.engine.dispose()
