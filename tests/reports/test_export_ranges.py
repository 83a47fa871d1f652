"""Exports read what their range holds (reports/export.py): a metric's records from the stored cube, a table's
rows of the range in SQL, the PR facts from the slice of the range. The same rows as from every row, on the
demo warehouse, for a range at the end of the data and one in its middle."""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics.scorecard import compute, prepare, select_output
from metrics.teams import assign_team_column
from reports import export
from reports.data import load_evidence
from reports.export import ExportFilters, export_frame
from tests.app.conftest import DEMO_END, seed_demo
from warehouse import open_warehouse, read_table

RANGES = [(DEMO_END - dt.timedelta(weeks=13) + dt.timedelta(days=1), DEMO_END),
          (DEMO_END - dt.timedelta(weeks=30) + dt.timedelta(days=1), DEMO_END - dt.timedelta(weeks=17))]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    seeded = seed_demo(tmp_path_factory.mktemp("export"))
    wh = open_warehouse(seeded.url)
    yield wh, seeded.config, prepare(load_evidence(wh), seeded.config)
    wh.engine.dispose()


@pytest.mark.parametrize("start,end", RANGES)
def test_metric_export_from_the_cube_equals_every_row(demo, start, end):
    wh, config, full = demo
    for grain, team in (("week", None), ("month", "payments")):
        filters = ExportFilters(grain=grain, start=start, end=end, team=team)
        got = export_frame(wh, config, "scorecard", filters)
        want = select_output(compute(full, config, grain=grain, start=start, end=end, team=team))
        assert got.height > 0
        assert_frame_equal(got, want)


@pytest.mark.parametrize("start,end", RANGES)
def test_table_exports_read_their_range_and_pr_facts_equal_every_row(demo, start, end, monkeypatch):
    wh, config, _ = demo
    filters = ExportFilters(start=start, end=end)
    for name in ("deployments", "incidents", "tickets", "ai_spend", "reviews"):
        got = export_frame(wh, config, name, filters)
        column = export.COUNTING_TIME[name]
        whole = assign_team_column(read_table(wh, name), name, config.teams)
        day = pl.col(column).cast(pl.Date) if whole.schema[column] != pl.Date else pl.col(column)
        want = whole.filter(day.is_between(start, end))
        assert got.height == want.height > 0, name
        assert_frame_equal(got.sort("id"), want.sort("id"), check_row_order=False)
    prs = export_frame(wh, config, "pull_requests", filters)
    # The facts decided on every row (since=None), for the same PRs.
    everything = export.with_pr_facts(assign_team_column(read_table(wh, "pull_requests"), "pull_requests", config.teams),
                                      wh, config)
    want = everything.filter(pl.col("merged_at").cast(pl.Date).is_between(start, end))
    assert prs.height == want.height > 0
    assert prs.get_column("rolled_back").sum() > 0 and prs.get_column("shipped_by_deployment_id").is_not_null().sum() > 0
    assert_frame_equal(prs.sort("id"), want.sort("id"))
    # The PR facts came from the slice of the range, not from every row.
    monkeypatch.setattr(export, "load_evidence", lambda *a, **k: pytest.fail("read every row"))
    export_frame(wh, config, "pull_requests", filters)
