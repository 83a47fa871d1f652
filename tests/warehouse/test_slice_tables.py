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


def test_a_spans_repo_team_pairs_and_reverts_are_read_from_the_indexes(warehouse):
    """`span_pairs`: the (repo, team) pairs as stored of the PRs merged in [start, until) and the ids of those
    naming what they revert (by source id or by a reference read from their text), worked out by hand below;
    on SQLite each from an index over the span (migration 0012): the pairs from the merged_at index's entries,
    the reverts from the partial index, no other PR's row read."""
    import sqlalchemy as sa

    from warehouse.schema import TABLES
    from warehouse.slice import span_pairs

    t0 = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)

    def pr(pr_id, repo, team, merged_at, **more):
        return {"id": pr_id, "source": "test", "repo": repo, "number": int(pr_id[1:]), "title": pr_id, "team": team,
                "merged_at": merged_at, "ai_assisted": False, "is_revert": False, "reverts_pr_id": None,
                "revert_ref": None, **more}

    ref = '{"repo": null, "number": 1, "sha": null, "title": null}'
    rows = [
        pr("p1", "acme/a", "pay", t0),
        pr("p2", "ACME/a", None, t0 + dt.timedelta(hours=1)),  # another spelling, no team of its own
        pr("p3", "acme/a", "pay", t0 + dt.timedelta(hours=2)),  # the same pair again
        pr("p4", "acme/b", "web", t0 + dt.timedelta(hours=3), reverts_pr_id="p1"),  # a revert by the source's id
        pr("p5", "acme/b", "web", t0 + dt.timedelta(hours=4), revert_ref=ref),  # one by a reference in its text
        pr("p6", "acme/c", "ops", t0 - dt.timedelta(microseconds=1), reverts_pr_id="p1"),  # merged before the span
        pr("p7", "acme/d", "ops", t0 + dt.timedelta(days=7)),  # merged at `until`: not in the span
        pr("p8", "acme/e", "ops", None, reverts_pr_id="p1"),  # never merged
    ]
    with warehouse.engine.begin() as conn:
        conn.execute(sa.insert(TABLES["pull_requests"]), rows)
    sent = []
    sa.event.listen(warehouse.engine, "before_cursor_execute", lambda conn, cursor, statement, *args: sent.append(statement))
    pairs, reverts = span_pairs(warehouse, t0, t0 + dt.timedelta(days=7))
    assert sorted(pairs.rows(), key=str) == sorted([("acme/a", "pay"), ("ACME/a", None), ("acme/b", "web")], key=str)
    assert reverts == ["p4", "p5"]
    pairs, reverts = span_pairs(warehouse, t0 - dt.timedelta(days=1))  # to the present
    assert len(pairs.rows()) == 5 and reverts == ["p4", "p5", "p6"]
    if warehouse.dialect == "sqlite":  # the statements span_pairs sent, as SQLite plans them
        queries = [q for q in sent if q.startswith("SELECT") and "pull_requests" in q][:2]
        with warehouse.engine.connect() as conn:
            plans = [" ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + q)) for q in queries]
        assert "COVERING INDEX ix_pull_requests_merged_at" in plans[0] and "DISTINCT repo, team" in queries[0]
        assert "INDEX ix_pull_requests_reverts_merged_at" in plans[1] and "id FROM" in queries[1]


def test_reviews_by_some_people_are_read_by_their_spellings_through_the_index(warehouse):
    """`read_reviews_by`: the reviews submitted from the cut on whose reviewer, trimmed and lower-cased as
    metrics.senior_review compares them, is one of the logins: worked out by hand below. On SQLite the
    range's reviewers come from the (submitted_at, reviewer) index's entries alone (migration 0012)."""
    import sqlalchemy as sa

    from warehouse.schema import TABLES
    from warehouse.slice import read_reviews_by

    cut = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)
    spelled = {"r1": "ann", "r2": " Ann\t", "r3": "ANN", "r4": "bob", "r5": "annie", "r6": "\u212aim", "r7": "ann"}
    at = {"r7": cut - dt.timedelta(microseconds=1)}  # before the cut
    with warehouse.engine.begin() as conn:
        conn.execute(sa.insert(TABLES["reviews"]), [
            {"id": rid, "source": "test", "pr_id": "p1", "reviewer": name, "state": "APPROVED",
             "submitted_at": at.get(rid, cut + dt.timedelta(hours=int(rid[1:])))} for rid, name in spelled.items()])
    read = read_reviews_by(warehouse, cut, ["ann", "kim"], ["id", "reviewer"]).sort("id")
    assert read.rows() == [("r1", "ann"), ("r2", " Ann\t"), ("r3", "ANN"), ("r6", "\u212aim")]
    assert read_reviews_by(warehouse, cut, ["carol"], ["id"]).height == 0
    if warehouse.dialect == "sqlite":  # the reviewers' statement read_reviews_by sent, as SQLite plans it
        sent = []
        sa.event.listen(warehouse.engine, "before_cursor_execute", lambda conn, cursor, statement, *args: sent.append(statement))
        read_reviews_by(warehouse, cut, ["ann"], ["id"])
        query = next(q for q in sent if "DISTINCT reviewer" in q)
        with warehouse.engine.connect() as conn:
            plan = " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query))
        assert "COVERING INDEX ix_reviews_submitted_at" in plan
