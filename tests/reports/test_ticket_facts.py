"""What the Support and Incidents & MTTR pages read for their range, worked out by hand on small warehouses
(SQLite and PostgreSQL):

- the resolved tickets' daily counts kept beside the cube (metrics.cube.ticket_facts, stored by
  reports/derived.py, read by warehouse.cube_store.read_facts): built whole, read from a day on, kept by
  the upkeep after a write (not rebuilt), and the Support views (app/views/support.py) made from them;
- the incidents resolved, or open and started, from a day on (reports/data.load_incidents_since): the rows
  of the slice the page read before that it shows, without the slice's deployments and PR ids.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from app.views.incidents import by_team as incidents_by_team
from app.views.incidents import incident_list, open_incidents
from app.views.support import by_channel, by_channel_over_time, by_team
from config import Config, WarehouseConfig
from config.model import TeamConfig
from metrics.cube import TICKET_FACTS_SCHEMA
from metrics.scorecard import prepare
from pipeline import ingest
from reports.data import load_cube, load_evidence_since, load_incidents_since, refresh_cube
from reports.filters import Filters
from warehouse import open_warehouse
from warehouse.cube_store import read_cube_parts, read_facts
from warehouse.schema import TABLES
from warehouse.types import polars_schema

UTC = dt.timezone.utc
WEEK = Filters(grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8))  # the week of Monday 2 March


def _at(day: int, hour: int, month: int = 3, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _frame(rows: list[dict], table: str) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(TABLES[table], list(rows[0])), orient="row")


def _ticket(key: str, team: str | None, resolved: dt.datetime | None, channel: str | None, csat: float | None) -> dict:
    return {"id": f"t:{key}", "source": "csv", "team": team, "created_at": _at(1, 0), "resolved_at": resolved,
            "channel": channel, "csat": csat}


TICKETS = [
    _ticket("k1", "web", _at(2, 10), "AI_BOT", 3.0),  # channels compared lower-case
    _ticket("k2", "web", _at(2, 23, minute=59), "ai_bot", 5.0),
    _ticket("k3", "web", _at(2, 12), "self_serve", None),
    _ticket("k4", None, _at(3, 0), "human", 4.0),  # no team: unassigned; midnight: 3 March
    _ticket("k5", "web", _at(3, 1), None, 2.0),  # no channel: unknown
    _ticket("k6", "web", None, None, None),  # unresolved: not counted
    _ticket("k7", "core", _at(1, 9, 4), "human", 1.0),
]


def _facts(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame([(dt.date(2026, m, d), *rest) for (m, d), *rest in rows], schema=TICKET_FACTS_SCHEMA,
                        orient="row")


# (month, day), team, channel, tickets, scored, Σ CSAT
MARCH_2 = [((3, 2), "web", "ai_bot", 2, 2, 8.0), ((3, 2), "web", "self_serve", 1, 0, 0.0)]
MARCH_3 = [((3, 3), "unassigned", "human", 1, 1, 4.0), ((3, 3), "web", "unknown", 1, 1, 2.0)]
APRIL_1 = [((4, 1), "core", "human", 1, 1, 1.0)]


def test_ticket_counts_by_hand_kept_by_the_upkeep_and_the_support_views_from_them(warehouse_url):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        ingest(wh, "csv", {"tickets": _frame(TICKETS, "tickets")})
        load_cube(wh, config)
        assert_frame_equal(read_facts(wh, "ticket_facts", dt.date(2026, 1, 1)), _facts([*MARCH_2, *MARCH_3, *APRIL_1]))
        assert_frame_equal(read_facts(wh, "ticket_facts", dt.date(2026, 3, 3)), _facts([*MARCH_3, *APRIL_1]))
        assert read_facts(wh, "ticket_facts", dt.date(2026, 4, 2)).height == 0
        assert "ticket_facts" not in read_cube_parts(wh)  # no reader of the cube sees them

        # A ticket resolved on 3 March (human, no CSAT) and k5's CSAT rescored 2 → 5: the upkeep, not a rebuild.
        ingest(wh, "csv", {"tickets": _frame([_ticket("k8", "web", _at(3, 15), "human", None),
                                              _ticket("k5", "web", _at(3, 1), None, 5.0)], "tickets")})
        assert refresh_cube(wh, config) == "updated"
        march_3 = [((3, 3), "unassigned", "human", 1, 1, 4.0), ((3, 3), "web", "human", 1, 0, 0.0),
                   ((3, 3), "web", "unknown", 1, 1, 5.0)]
        counts = read_facts(wh, "ticket_facts", dt.date(2026, 3, 1))
        assert_frame_equal(counts, _facts([*MARCH_2, *march_3, *APRIL_1]))
    finally:
        wh.engine.dispose()

    # The week of 2 March: web resolved k1, k2 (AI bot), k3 (self-serve), k5 (unknown), k8 (human): 5, 3
    # deflected; CSAT (3 + 5 + 5) / 3, the AI bot's (3 + 5) / 2 = 4, the others' 5 (k5; k3 and k8 unscored).
    # unassigned: k4 alone (human, CSAT 4). April's ticket lies outside the week.
    teams = by_team(counts, WEEK)
    assert teams.select("team", "resolved", "deflected", "scored", "csat", "csat_ai_bot", "csat_others").rows() == [
        ("web", 5, 3, 3, 13 / 3, 4.0, 5.0), ("unassigned", 1, 0, 1, 4.0, None, 4.0)]
    assert teams["deflection"].to_list() == [0.6, 0.0]
    assert by_channel(counts, WEEK).rows() == [
        ("ai_bot", 2, 2, 4.0), ("human", 2, 1, 4.0), ("self_serve", 1, 0, None), ("unknown", 1, 1, 5.0)]
    assert by_channel(counts, dataclasses.replace(WEEK, team="web")).rows() == [
        ("ai_bot", 2, 2, 4.0), ("human", 1, 0, None), ("self_serve", 1, 0, None), ("unknown", 1, 1, 5.0)]
    monday = dt.date(2026, 3, 2)
    assert by_channel_over_time(counts, WEEK).rows() == [
        (monday, "ai_bot", 2), (monday, "human", 2), (monday, "self_serve", 1), (monday, "unknown", 1)]
    # A week from Monday 9 March holds none of them.
    assert by_team(counts, Filters(grain="week", start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 15))).height == 0


def _incident(key: str, started: dt.datetime, resolved: dt.datetime | None, *, team: str | None = None,
              service: str | None = None) -> dict:
    return {"id": f"t:{key}", "source": "csv", "title": f"Incident {key}", "team": team, "service": service,
            "severity": "sev2", "started_at": started, "resolved_at": resolved, "ai_assisted": key == "i5",
            "caused_by_deployment_id": None, "url": None}


def test_the_incidents_of_a_range_by_hand_as_the_slice_gives_them(warehouse_url):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url),
                    teams={"payments": TeamConfig(services=("pay-*",))})
    incidents = [
        _incident("i1", _at(1, 20), _at(2, 2), service="pay-api"),  # resolved in the week: payments by its service
        _incident("i2", _at(3, 9), None),  # open, started in the week: unassigned
        _incident("i3", _at(20, 9, 2), None),  # open, started before the week
        _incident("i4", _at(27, 9, 2), _at(28, 9, 2), team="web"),  # resolved before the week
        _incident("i5", _at(25, 10, 2), _at(4, 10), team="web"),  # started before, resolved in the week: 168 h
        _incident("i6", _at(10, 9), _at(10, 11), team="web"),  # after the week (read: from its start on)
    ]
    wh = open_warehouse(warehouse_url)
    try:
        ingest(wh, "csv", {"incidents": _frame(incidents, "incidents")})
        load_cube(wh, config)
        read = load_incidents_since(wh, config, WEEK.start)
        assert sorted(read["id"].to_list()) == ["t:i1", "t:i2", "t:i5", "t:i6"]
        # each row exactly as the page's read before (the slice of the incidents table, teams assigned) gives it
        before = prepare(load_evidence_since(wh, config, WEEK.start, ("incidents",)), config).evidence.incidents
        assert_frame_equal(read.sort("id"), before.filter(pl.col("id").is_in(read["id"].implode())).sort("id"))
    finally:
        wh.engine.dispose()
    assert incident_list(read, WEEK).select("id", "team", "hours", "ai_assisted").rows() == [
        ("t:i5", "web", 168.0, True), ("t:i1", "payments", 6.0, False)]
    assert open_incidents(read, WEEK) == 1
    assert incidents_by_team(read, WEEK).select("team", "incidents", "mean_hours").rows() == [
        ("web", 1, 168.0), ("payments", 1, 6.0)]
