"""The rebuild window by window (reports/derived.py `_rebuild_by_windows`) stores the same cube, shipping
verdicts and facts as a build of all the evidence at once.

The synthetic organisation of tests/reports/test_incremental_cube.py (~10 weeks, a repo that deploys rarely,
random writes of every kind: reverts, fixes, rollbacks, links from deployments to PRs, source-linked
incidents), rebuilt with windows of a week and a few PRs each; and three cases that need the window's bound
moved past its end by more than the look-back: a PR waiting to ship past a rollback, a PR its source names
as shipped by a much later deployment, a deployment an incident names weeks later. Run on SQLite and
PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from config import Config, WarehouseConfig
from pipeline import ingest
from reports.data import CUBE_COLUMNS, cube_fingerprint
from reports.derived import _window_starts, rebuild
from tests.reports.test_incremental_cube import (Org, _day, _frame, assert_cube_is_a_full_build, random_write,
                                                 seed)
from warehouse import open_warehouse
from warehouse.cube_store import read_state

WINDOW_PRS = 12  # merged PRs a window holds at most (a week holds ~12-17 here: windows of a week)


def _rebuild_by_weeks(wh, config: Config) -> int:
    """Rebuild the cube in windows of a week; returns how many windows."""
    starts = _window_starts(wh, WINDOW_PRS, "1w")
    rebuild(wh, config, cube_fingerprint(config), CUBE_COLUMNS, window_prs=WINDOW_PRS, unit="1w")
    state = read_state(wh)
    assert state.pending_from is None and not state.pending_full
    return len(starts) + 1


@pytest.mark.parametrize("seed_value", [1, 2, 3, 16])
def test_a_rebuild_by_windows_equals_a_build_of_everything(warehouse_url, seed_value):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        org = Org(random.Random(seed_value))
        ingest(wh, "csv", seed(org))
        done = []
        for _ in range(20):
            kind, frames = random_write(org)
            done.append(kind)
            ingest(wh, "csv", frames)
        assert _rebuild_by_weeks(wh, config) >= 8
        assert_cube_is_a_full_build(wh, config, "a rebuild by windows after " + " → ".join(done))
    finally:
        wh.engine.dispose()


def test_bounds_past_a_rollback_a_late_naming_deployment_and_a_late_incident(warehouse_url):
    """Three links that reach back further than the look-back (21 days) from a window's end:

    - P, merged in acme/rare on day 20. acme/rare deploys s1 (day 1), s2 (day 8), then s1 again on day 40
      (a rollback by the sha rule: it ships nothing) and s3 on day 55, which ships P. The first bound of P's
      window lies past day 40's deployment; built to it, P waits, and acme/rare deploys later: the window
      is built again to past day 55.
    - Q, merged in acme/api on day 3, shipped by the first deployment after its merge unless the source
      names one: it names D (day 30), which ships Q.
    - E, a deployment of acme/web on day 12, which an incident started on day 50 names as its cause: E failed.

    Each changes a day of its window (P's and Q's merge days: shipped deployment and rollback verdict; Q's
    first shipping day: its lead time; E's finish: change failure)."""
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        org = Org(random.Random(7))
        frames = seed(org)
        rare = [d for d in org.deployments.values() if d["repo"] == "acme/rare"]
        p = org.pr(_day(20), repo="acme/rare", ai=True)
        back = org.deployment(_day(40), "acme/rare", rare[0]["sha"])
        ships = org.deployment(_day(55), "acme/rare", "s-late")
        q = org.pr(_day(3), repo="acme/api", ai=True)
        named = org.deployment(_day(30), "acme/api", "s-named")
        e = org.deployment(_day(12), "acme/web", "s-failed")
        incident = {"id": "t:late", "source": "csv", "title": "x", "team": "web", "service": None, "severity": "sev1",
                    "started_at": _day(50), "resolved_at": _day(50.5), "ai_assisted": False,
                    "caused_by_deployment_id": e["id"]}
        ingest(wh, "csv", frames)
        ingest(wh, "csv", {"pull_requests": _frame([p, q], "pull_requests"),
                           "deployments": _frame([back, ships, named, e], "deployments"),
                           "deployment_prs": _frame([{"deployment_id": named["id"], "pr_id": q["id"], "source": "csv"}],
                                                    "deployment_prs"),
                           "incidents": _frame([incident], "incidents")})
        assert _rebuild_by_weeks(wh, config) >= 8
        assert_cube_is_a_full_build(wh, config, "a rebuild by windows with links past the look-back")
    finally:
        wh.engine.dispose()


def test_a_small_warehouse_is_built_at_once(warehouse_url):
    """At most `window_prs` merged PRs: no windows (one build of everything, as before)."""
    wh = open_warehouse(warehouse_url)
    try:
        frames = seed(Org(random.Random(3)))
        ingest(wh, "csv", frames)
        merged = frames["pull_requests"].height  # every seeded PR is merged
        assert _window_starts(wh, merged, "1w") == []
        assert len(_window_starts(wh, merged - 1, "1w")) >= 1
    finally:
        wh.engine.dispose()
