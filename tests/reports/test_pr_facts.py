"""The per-PR facts kept beside the cube (metrics.cube.pr_facts, stored by reports/derived.py, read by
warehouse.cube_store.read_facts): what the Adoption page counts over a range. Worked out by hand on a small
organisation, built whole and then kept by the upkeep after a write, on SQLite and PostgreSQL; no reader
of the cube sees them."""
from __future__ import annotations

import datetime as dt
import json

import polars as pl
from polars.testing import assert_frame_equal

from config import Config, WarehouseConfig
from pipeline import ingest
from reports.data import load_cube, refresh_cube
from warehouse import open_warehouse
from warehouse.cube_chunks import FACT_PARTS
from warehouse.cube_store import read_cube_parts, read_facts, read_state
from warehouse.schema import TABLES
from warehouse.types import polars_schema

UTC = dt.timezone.utc


def _at(day: int, hour: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def _pr(key: str, author: str, created: dt.datetime, merged: dt.datetime | None, **kw) -> dict:
    row = {"id": f"t:{key}", "source": "csv", "repo": "acme/api", "number": ord(key), "title": f"Change {key}",
           "author": author, "team": "core", "created_at": created, "merged_at": merged,
           "merge_commit_sha": f"sha-{key}", "ai_assisted": False, "is_revert": False, "reverts_pr_id": None,
           "revert_ref": None, "labels": "[]", "ai_tools": "[]", "ai_mode": None, "ai_signals": "[]",
           "ai_confidence": None}
    row.update(kw)
    return row


def _deployment(key: str, finished: dt.datetime) -> dict:
    return {"id": f"t:{key}", "source": "csv", "repo": "acme/api", "team": "core", "environment": "production",
            "sha": f"build-{key}", "finished_at": finished, "status": "success", "is_rollback": None}


def _frame(rows: list[dict], table: str) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(TABLES[table], list(rows[0])), orient="row")


def _organisation() -> dict[str, pl.DataFrame]:
    """A (AI, ann) merged 2 March 10:00, shipped by d1 at 12:00 (created 08:00: 4 h), reworked by D; B (bob)
    merged 3 March 09:00, shipped by d2 on 4 March 09:00 (created 3 March 07:00: 26 h), reverted by C on 4 March
    10:00 (rolled back, and reworked: a revert is a follow-up fix); C and D (a fix of A's file on 5 March) merged after the last deployment: not shipped;
    E never merged; F (cy) merged 1 April, not shipped."""
    prs = [
        _pr("A", "ann", _at(2, 8), _at(2, 10), ai_assisted=True, ai_tools=json.dumps(["Claude Code"])),
        _pr("B", "bob", _at(3, 7), _at(3, 9)),
        _pr("C", "ann", _at(4, 9), _at(4, 10), title="Revert B", is_revert=True, reverts_pr_id="t:B"),
        _pr("D", "bob", _at(5, 8), _at(5, 9), title="fix: the parser A broke"),
        _pr("E", "cy", _at(5, 11), None),
        _pr("F", "cy", _at(1, 8, 4), _at(1, 9, 4)),
    ]
    files = [{"pr_id": "t:A", "path": "a.py", "source": "csv"},
             {"pr_id": "t:D", "path": "a.py", "source": "csv"}]
    return {"pull_requests": _frame(prs, "pull_requests"),
            "deployments": _frame([_deployment("d1", _at(2, 12)), _deployment("d2", _at(4, 9))], "deployments"),
            "pull_request_files": _frame(files, "pull_request_files")}


MERGED_SCHEMA = {"day": pl.Date, "id": pl.String, "author": pl.String, "team": pl.String,
                 "merged_at": pl.Datetime("us", "UTC"), "ai_assisted": pl.Boolean, "rolled_back": pl.Boolean,
                 "shipped_deployment_id": pl.String, "reworked": pl.Boolean}
SHIPPED_SCHEMA = {"day": pl.Date, "id": pl.String, "author": pl.String, "team": pl.String,
                  "at": pl.Datetime("us", "UTC"), "value": pl.Float64}


def _merged(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame([(r[0].date(), *r[1:3], "core", r[0], *r[3:]) for r in rows], schema=MERGED_SCHEMA,
                        orient="row")


def _shipped(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame([(r[0].date(), r[1], r[2], "core", r[0], r[3]) for r in rows], schema=SHIPPED_SCHEMA,
                        orient="row")


# (merged_at, id, author, ai_assisted, rolled_back, shipped_deployment_id, reworked)
A = (_at(2, 10), "t:A", "ann", True, False, "t:d1", True)
B = (_at(3, 9), "t:B", "bob", False, True, "t:d2", True)  # rolled back and reworked: C reverts it
C = (_at(4, 10), "t:C", "ann", False, False, None, False)
D = (_at(5, 9), "t:D", "bob", False, False, None, False)
F = (_at(1, 9, 4), "t:F", "cy", False, False, None, False)


def test_the_facts_of_a_full_build_by_hand_and_read_from_a_day_on(warehouse_url):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        ingest(wh, "csv", _organisation())
        load_cube(wh, config)
        assert_frame_equal(read_facts(wh, "pr_facts", dt.date(2026, 1, 1)), _merged([A, B, C, D, F]))
        # (shipped at, id, author, hours from created)
        assert_frame_equal(read_facts(wh, "ship_facts", dt.date(2026, 1, 1)),
                           _shipped([(_at(2, 12), "t:A", "ann", 4.0), (_at(4, 9), "t:B", "bob", 26.0)]))
        # From a day on: that day's month's chunk is read, its earlier days left out.
        assert_frame_equal(read_facts(wh, "pr_facts", dt.date(2026, 3, 3)), _merged([B, C, D, F]))
        assert_frame_equal(read_facts(wh, "pr_facts", dt.date(2026, 4, 1)), _merged([F]))
        assert_frame_equal(read_facts(wh, "ship_facts", dt.date(2026, 3, 3)),
                           _shipped([(_at(4, 9), "t:B", "bob", 26.0)]))
        assert read_facts(wh, "ship_facts", dt.date(2026, 4, 1)).height == 0
        # The cube's readers never see them.
        assert not set(read_cube_parts(wh)) & set(FACT_PARTS)
    finally:
        wh.engine.dispose()


def test_the_upkeep_keeps_the_facts_after_a_write(warehouse_url):
    """A deployment on 2 April ships C, D and F (created 4 March 09:00, 5 March 08:00, 1 April 08:00); a revert
    of F by G (dee) on 3 April rolls F back."""
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        ingest(wh, "csv", _organisation())
        load_cube(wh, config)
        ingest(wh, "csv", {
            "deployments": _frame([_deployment("d3", _at(2, 9, 4))], "deployments"),
            "pull_requests": _frame([_pr("G", "dee", _at(3, 8, 4), _at(3, 9, 4), title="Revert F", is_revert=True,
                                         reverts_pr_id="t:F")], "pull_requests")})
        assert read_state(wh).pending_from is not None
        assert refresh_cube(wh, config) == "updated"  # by time, not rebuilt
        shipped_c, shipped_d = (*C[:5], "t:d3", C[6]), (*D[:5], "t:d3", D[6])
        rolled_f = (*F[:4], True, "t:d3", True)  # G reverts it: rolled back and reworked
        G = (_at(3, 9, 4), "t:G", "dee", False, False, None, False)
        assert_frame_equal(read_facts(wh, "pr_facts", dt.date(2026, 1, 1)), _merged([A, B, shipped_c, shipped_d, rolled_f, G]))
        assert_frame_equal(read_facts(wh, "ship_facts", dt.date(2026, 1, 1)), _shipped([
            (_at(2, 12), "t:A", "ann", 4.0), (_at(4, 9), "t:B", "bob", 26.0),
            (_at(2, 9, 4), "t:C", "ann", 29 * 24.0), (_at(2, 9, 4), "t:D", "bob", 28 * 24.0 + 1),
            (_at(2, 9, 4), "t:F", "cy", 25.0)]))
    finally:
        wh.engine.dispose()
