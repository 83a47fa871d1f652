"""The slice reader's table-selective reads (warehouse/slice.read_slice's `tables`): every table a read of
some tables returns is exactly that table of the read of every table, row for row, and the slice starts
where it does then (moved back alike when an earlier deployment names a PR of the slice).

The synthetic organisation of tests/reports/test_incremental_cube.py, after seeded random writes (links
from old and new deployments to PRs, reverts by number and title, redeploys, source-linked incidents,
reviews at any time, also of PRs merged long before), plus two rows a slice reads only for another
table's sake: a PR merged on day 2 and reviewed on day 66 (a PR of the slice by its review), and a PR
merged on day 67 that a deployment of day 4 names (the slice's changes start at that deployment). Cut at
several days, each page's set of tables and each table alone, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from config import Config, WarehouseConfig
from metrics.evidence import SCHEMAS
from pipeline import ingest
from reports.data import CUBE_COLUMNS, load_cube
from reports.derived import slice_starts
from tests.reports.test_incremental_cube import Org, _day, _frame, random_write, seed
from warehouse import open_warehouse
from warehouse.slice import read_slice

EVERY_COLUMN = {name: list(schema) for name, schema in SCHEMAS.items()}
TABLE_SETS = [
    ("pull_requests", "deployments", "deployment_prs", "incidents"),  # Delivery, the single items
    ("pull_requests", "deployments", "deployment_prs"),  # Rollbacks
    ("pull_requests", "deployments", "deployment_prs", "incidents", "pull_request_files", "reviews", "people"),
    ("pull_requests", "deployments", "deployment_prs", "incidents", "pull_request_files"),  # Adoption
    *[(name,) for name in SCHEMAS],
]


@pytest.fixture
def org_warehouse(warehouse_url):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    org = Org(random.Random(7))
    ingest(wh, "csv", seed(org))
    for _ in range(30):
        ingest(wh, "csv", random_write(org)[1])
    reviewed = org.pr(_day(2), repo="acme/web")
    named = org.pr(_day(67), repo="acme/api")
    old = org.deployment(_day(4), "acme/api", "named-early")
    ingest(wh, "csv", {
        "pull_requests": _frame([reviewed, named], "pull_requests"),
        "deployments": _frame([old], "deployments"),
        "deployment_prs": _frame([{"deployment_id": old["id"], "pr_id": named["id"], "source": "csv"}], "deployment_prs"),
        "reviews": _frame([{"id": "t:late-review", "source": "csv", "pr_id": reviewed["id"], "reviewer": "ann",
                            "state": "APPROVED", "submitted_at": _day(66)}], "reviews"),
    })
    load_cube(wh, config)  # the slice reads the cube's shipping table
    try:
        yield wh, config, reviewed["id"], old
    finally:
        wh.engine.dispose()


def _sorted(frame):
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.parametrize("columns", [EVERY_COLUMN, CUBE_COLUMNS], ids=["every column", "the cube's columns"])
def test_a_read_of_some_tables_gives_each_as_the_read_of_every_table(org_warehouse, columns):
    wh, config, reviewed_id, old = org_warehouse
    columns = {name: columns.get(name, list(schema)) for name, schema in SCHEMAS.items()}
    envs = list(config.rules.production_environments)
    moved = 0
    for day in (20, 45, 60, 68):
        cut = dt.datetime.combine(_day(day).date(), dt.time(), dt.timezone.utc)
        every, starts = read_slice(wh, cut, slice_starts(wh, config, cut), envs, columns)
        assert set(every) == set(SCHEMAS)
        if day >= 60:  # the late review makes the early PR a PR of the slice; the old link moves it back
            assert reviewed_id in every["pull_requests"].get_column("id").to_list()
            assert starts.changes == old["finished_at"]
            moved += 1
        for tables in TABLE_SETS:
            some, their_starts = read_slice(wh, cut, slice_starts(wh, config, cut), envs, columns, tables)
            assert set(some) == set(tables), tables
            if set(tables) & {"pull_requests", "deployments", "deployment_prs", "incidents"}:
                assert their_starts == starts, tables
            for name, frame in some.items():
                assert frame.columns == every[name].columns
                try:
                    assert_frame_equal(_sorted(frame), _sorted(every[name]))
                except AssertionError as error:
                    raise AssertionError(f"{name} of {tables} cut on day {day}: {error}") from None
    assert moved == 2


def test_a_read_without_the_prs_only_a_review_brings_in_decides_every_change_since_the_cut_alike(org_warehouse):
    """`reviewed_prs=False` (the Delivery page, Adoption's cohorts, the Rollbacks baseline counts) leaves out
    the PRs only a review from the cut on brings in (merged before the slice, or never): every PR merged from
    the cut on has the same outcome, rework and lead time as from the read of every table, and every
    deployment and incident from the cut on the same verdict and cause."""
    from app.views.delivery import failed_deployments, linked_incidents
    from metrics.evidence import Evidence
    from metrics.lead_time import lead_time_events
    from metrics.rework import rework_events
    from metrics.scorecard import prepare
    from reports.filters import Filters

    wh, config, _, _ = org_warehouse
    envs = list(config.rules.production_environments)
    left_out = 0
    for day in (20, 45, 60, 68):
        cut = dt.datetime.combine(_day(day).date(), dt.time(), dt.timezone.utc)
        every, _ = read_slice(wh, cut, slice_starts(wh, config, cut), envs, EVERY_COLUMN)
        full = prepare(Evidence.of(**every), config)
        filters = Filters(grain="week", start=cut.date(), end=_day(200).date())
        for tables in TABLE_SETS[:4]:
            some, _ = read_slice(wh, cut, slice_starts(wh, config, cut), envs, EVERY_COLUMN, tables, reviewed_prs=False)
            if "reviews" not in tables:
                left_out += every["pull_requests"].height - some["pull_requests"].height
            narrow = prepare(Evidence.of(**some), config)
            since = pl.col("merged_at") >= cut
            assert_frame_equal(_sorted(narrow.outcomes.filter(since)), _sorted(full.outcomes.filter(since)))
            for view, rows in ((linked_incidents, "incidents"), (failed_deployments, "deployments")):
                if "incidents" in tables or view is failed_deployments:
                    assert_frame_equal(view(getattr(narrow.chain, rows), filters), view(getattr(full.chain, rows), filters))
            if "pull_request_files" in tables:
                at = pl.col("at") >= cut
                assert_frame_equal(_sorted(rework_events(narrow.outcomes, narrow.chain).filter(at)),
                                   _sorted(rework_events(full.outcomes, full.chain).filter(at)))
                assert_frame_equal(_sorted(lead_time_events(narrow.evidence, narrow.outcomes).filter(at)),
                                   _sorted(lead_time_events(full.evidence, full.outcomes).filter(at)))
    assert left_out > 0  # PRs reviewed from the cut on but merged before the slice, or never, were left out


def test_the_earliest_naming_deployment_is_looked_up_only_when_some_deployment_names_a_pr(warehouse_url):
    """`_earliest_naming_before` sends the slice's PR ids (millions at 10M PRs) only when `deployment_prs`
    holds a link: without one no deployment names a PR, and the answer is None without the lookup."""
    import sqlalchemy as sa

    from warehouse.slice import _earliest_naming_before

    wh = open_warehouse(warehouse_url)
    org = Org(random.Random(3))
    pr = org.pr(_day(10), repo="acme/api")
    early = org.deployment(_day(4), "acme/api", "named-early")
    ingest(wh, "csv", {"pull_requests": _frame([pr], "pull_requests"), "deployments": _frame([early], "deployments")})
    lookups = []

    @sa.event.listens_for(wh.engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args):
        if "deployment_prs o" in statement:
            lookups.append(statement)

    since = _day(8)
    try:
        assert _earliest_naming_before(wh, since, pl.Series([pr["id"]]), ["production"]) is None
        assert lookups == []  # no link: the ids were not sent
        ingest(wh, "csv", {"deployment_prs": _frame([{"deployment_id": early["id"], "pr_id": pr["id"], "source": "csv"}],
                                                    "deployment_prs")})
        found = _earliest_naming_before(wh, since, pl.Series([pr["id"]]), ["production"])
        assert found is not None and found.astimezone(dt.timezone.utc) == early["finished_at"].astimezone(dt.timezone.utc)
        assert len(lookups) == 1
    finally:
        wh.engine.dispose()
