"""The drill-downs read the slice of their range (reports/data.load_evidence_since), not every row: what
they show must be exactly what the same view computed from all the evidence shows for that range.

On the small demo (both warehouses), for range starts across its history (the first week, the middle,
the default range's start, the last weeks): the rollbacks tables by team (with the baseline window's
shares beside them, read from the earlier of the two starts as the page does), the rolled-back PRs, the
Delivery drill-down's incidents with their causing deployments and its failed deployments, the reworked
PRs and senior reviews, the incident list, the spend totals, computed once from the slice and once from
all the evidence, are equal frame for frame; and each single-item view (PR, deployment, incident), read
around its own time (reports/data.item_day), equals the view from all the evidence.

Each page reads only the tables it shows (app/state.py's `CHANGES`, `OUTCOMES`, `CHAIN`, one table for
Incidents, Support and AI spend): every table such a read returns equals the same table of the read of
every table, frame for frame, the others are empty, and the page's views from it equal those from all
the evidence.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from app.views.chain_views import deployment_view, incident_view
from app.views.delivery import failed_deployments, linked_incidents, reviews_by_senior, reworked_prs, senior_reviews
from app.views.incidents import incident_list, open_incidents
from app.views.pr import pr_view
from app.views.rollbacks import rolled_back_prs, segment_summary, share_table, trend
from app import state
from app.views.spend import totals
from app.views.support import by_channel, by_channel_over_time, by_team
from connectors.demo.generator import generate
from metrics.baseline import baselines
from metrics.registry import METRICS, subject_of
from metrics.scorecard import metric_events, prepare
from pipeline import ingest
from metrics.evidence import SCHEMAS
from reports.data import item_day, load_cube, load_evidence, load_evidence_since, refresh_cube
from reports.filters import Filters
from tests.app.conftest import DEMO_END
from warehouse.slice import read_files_of_repos

SENIOR_REVIEWS = next(m.id for m in METRICS.values() if m.event_kind == "review")


@pytest.fixture
def demo(warehouse, config_for, warehouse_url):
    config = config_for(warehouse_url)
    ingest(warehouse, "demo", generate("small", end=DEMO_END), action="demo")
    refresh_cube(warehouse, config)
    return warehouse, config


def _range_starts(full) -> list[dt.date]:
    """Mondays across the demo: its first week, a third and two thirds in, and its last three weeks."""
    first = full.outcomes.get_column("merged_at").min().date()
    first -= dt.timedelta(days=first.weekday())
    last = DEMO_END - dt.timedelta(days=DEMO_END.weekday())
    span = (last - first).days // 7
    return sorted({first, first + dt.timedelta(weeks=span // 3), first + dt.timedelta(weeks=2 * span // 3),
                   last - dt.timedelta(weeks=2)})


def _range_views(prepared, filters: Filters, window, names=None, files=None) -> dict[str, pl.DataFrame]:
    """The views `names` (every view when None) of a page's range, from `prepared`; `files(repos)`: the PR
    files of those repos, for a read without them (the Rollbacks page's team panel)."""
    team = "payments" if "payments" in prepared.outcomes.get_column("team").to_list() else None

    def reworked():
        if files is None:
            return reworked_prs(prepared.outcomes, prepared.chain, filters, ai_only=False)
        # as app/change_chain_panel.py: the selection's (here every) repo, in every spelling
        repos = prepared.evidence.pull_requests.get_column("repo").unique().to_list()
        return reworked_prs(prepared.outcomes, prepared.chain, filters, ai_only=False, files=files(repos))

    def reviews():
        return metric_events(prepared, SENIOR_REVIEWS)

    views = {
        "rollbacks by team": lambda: share_table(prepared.outcomes, "team", filters, window),
        "rollbacks by repo": lambda: share_table(prepared.outcomes.filter(pl.col("team") == team), "repo", filters, window),
        "rollback trend": lambda: trend(prepared.outcomes, filters, window),
        "segments": lambda: segment_summary(prepared.outcomes, filters),
        "rolled-back PRs": lambda: rolled_back_prs(prepared.outcomes, filters),
        "incidents with causes": lambda: linked_incidents(prepared.chain.incidents, filters),
        "failed deployments": lambda: failed_deployments(prepared.chain.deployments, filters),
        "reworked PRs": reworked,
        "senior reviews": lambda: senior_reviews(reviews(), filters),
        "reviews by senior": lambda: reviews_by_senior(reviews(), filters),
        "incident list": lambda: incident_list(prepared.evidence.incidents, filters),
        "open incidents": lambda: pl.DataFrame({"n": [open_incidents(prepared.evidence.incidents, filters)]}),
        "spend": lambda: pl.DataFrame([totals(prepared.evidence.ai_spend, filters)]),
        "tickets by team": lambda: by_team(prepared.evidence.tickets, filters),
        "tickets by channel": lambda: by_channel(prepared.evidence.tickets, filters),
        "tickets over time": lambda: by_channel_over_time(prepared.evidence.tickets, filters),
    }
    return {name: view() for name, view in views.items() if names is None or name in names}


ROLLBACK_VIEWS = ("rollbacks by team", "rollbacks by repo", "rollback trend", "segments", "rolled-back PRs")
# Each page's tables (as app/state.py names them) and the views it shows from them.
PAGE_TABLES = {
    "Delivery": (state.CHANGES, ("incidents with causes", "failed deployments")),
    "Rollbacks": (state.OUTCOMES, ROLLBACK_VIEWS),
    "Rollbacks, a team picked": (state.TEAM, (*ROLLBACK_VIEWS, "reworked PRs", "senior reviews", "reviews by senior")),
    "Incidents": (("incidents",), ("incident list", "open incidents")),
    "Support": (("tickets",), ("tickets by team", "tickets by channel", "tickets over time")),
    "AI spend": (("ai_spend",), ("spend",)),
}


def _equal(got: pl.DataFrame, expected: pl.DataFrame, what: str) -> None:
    try:
        assert_frame_equal(got, expected)
    except AssertionError as error:
        raise AssertionError(f"{what}: {error}") from None


def _assert_same_view(sliced, full, what: str) -> None:
    assert (sliced is None) == (full is None), what
    if full is None:
        return
    for field in dataclasses.fields(full):
        a, b = getattr(sliced, field.name), getattr(full, field.name)
        if isinstance(b, pl.DataFrame):
            _equal(a, b, f"{what}: {field.name}")
        else:
            assert a == b, f"{what}: {field.name}"


def test_every_range_view_of_the_slice_equals_the_view_of_all_evidence(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    window = baselines(load_cube(warehouse, config), config).window(subject_of("rollbacks").id)
    starts = _range_starts(full)
    assert len(starts) == 4
    compared = 0
    for start in starts:
        filters = Filters(grain="week", start=start, end=DEMO_END)
        since = min(start, window.first_day)  # as the Rollbacks page reads: its range and the baseline window
        sliced = prepare(load_evidence_since(warehouse, config, since), config)
        # a later start reads fewer rows: the slice is the range's, not the warehouse's
        if since > starts[0]:
            assert sliced.outcomes.height < full.outcomes.height
        expected, got = _range_views(full, filters, window), _range_views(sliced, filters, window)
        for name, frame in expected.items():
            _equal(got[name], frame, f"{name} from {start}")
            compared += frame.height
    # the comparison covers rows, not only empty tables
    assert compared > 1000


@pytest.mark.parametrize("page", list(PAGE_TABLES))
def test_a_page_reads_only_its_tables_and_shows_what_all_the_evidence_shows(demo, page):
    warehouse, config = demo
    tables, names = PAGE_TABLES[page]
    full = prepare(load_evidence(warehouse), config)
    window = baselines(load_cube(warehouse, config), config).window(subject_of("rollbacks").id)
    compared = 0
    for start in _range_starts(full):
        filters = Filters(grain="week", start=start, end=DEMO_END)
        since = min(start, window.first_day) if page.startswith("Rollbacks") else start
        every = load_evidence_since(warehouse, config, since).tables()
        read = load_evidence_since(warehouse, config, since, tables)
        for name, frame in read.tables().items():
            if name in tables:  # exactly the rows of the read of every table (context rows come in no set order)
                _equal(frame.sort(frame.columns), every[name].sort(frame.columns), f"{page}: table {name} from {since}")
                compared += frame.height
            else:
                assert frame.height == 0 and frame.columns == list(SCHEMAS[name]), f"{page}: {name} read"
        expected = _range_views(full, filters, window, names)
        cut = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
        files = ((lambda repos: read_files_of_repos(warehouse, cut, repos, list(SCHEMAS["pull_request_files"])))
                 if "pull_request_files" not in tables else None)
        got = _range_views(prepare(read, config), filters, window, names, files)
        assert set(got) == set(names)
        for name, frame in expected.items():
            _equal(got[name], frame, f"{page}: {name} from {start}")
            compared += frame.height
    assert compared > 100


def _sample(frame: pl.DataFrame, condition: pl.Expr, n: int) -> list[str]:
    rows = frame.filter(condition).sort("id")
    return rows.gather_every(max(1, rows.height // n)).get_column("id").to_list()


def test_every_single_item_view_read_around_its_time_equals_the_view_of_all_evidence(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    envs = config.rules.production_environments
    outcomes, chain = full.outcomes, full.chain
    prs = (_sample(outcomes, pl.col("rolled_back").fill_null(False), 6)
           + _sample(outcomes, pl.col("reverts_pr_id").is_not_null(), 4)
           + _sample(outcomes, pl.col("shipped_deployment_id").is_not_null(), 6))
    deployments = (_sample(chain.deployments, pl.col("failed"), 5)
                   + _sample(full.evidence.deployments, pl.col("id").is_not_null(), 5))
    incidents = (_sample(chain.incidents, pl.col("cause_how") == "source", 4)
                 + _sample(chain.incidents, pl.col("cause_how") == "inferred", 4)
                 + _sample(chain.incidents, pl.col("cause_how").is_null(), 2))
    assert len(prs) >= 10 and len(deployments) >= 8 and len(incidents) >= 6
    for pr_id in prs:  # the item pages read `state.CHANGES`
        sliced = prepare(load_evidence_since(warehouse, config, item_day(warehouse, "pr", pr_id), state.CHANGES), config)
        _assert_same_view(pr_view(sliced.outcomes, sliced.evidence.deployments, pr_id),
                          pr_view(outcomes, full.evidence.deployments, pr_id), f"PR {pr_id}")
    for dep_id in deployments:
        sliced = prepare(load_evidence_since(warehouse, config, item_day(warehouse, "deployment", dep_id), state.CHANGES),
                         config)
        _assert_same_view(deployment_view(sliced.evidence.deployments, sliced.outcomes, sliced.chain, envs, dep_id),
                          deployment_view(full.evidence.deployments, outcomes, chain, envs, dep_id), f"deployment {dep_id}")
    for incident_id in incidents:
        sliced = prepare(load_evidence_since(warehouse, config, item_day(warehouse, "incident", incident_id), state.CHANGES),
                         config)
        _assert_same_view(incident_view(sliced.evidence.deployments, sliced.outcomes, sliced.chain, incident_id),
                          incident_view(full.evidence.deployments, outcomes, chain, incident_id), f"incident {incident_id}")


def test_an_id_that_names_nothing_has_no_day(demo):
    warehouse, _ = demo
    assert item_day(warehouse, "pr", "demo:nowhere#0") is None
    assert item_day(warehouse, "deployment", "nothing") is None
    assert item_day(warehouse, "incident", "nothing") is None


def test_every_single_item_page_read_of_its_repo_equals_the_view_of_all_evidence(demo, tmp_path, monkeypatch):
    """The item pages' reads (app/state.prepared_for_item): of the item's repo only where that shows the item
    exactly (`_item_prepared`), checked against the views of all the evidence for PRs rolled back, reverts,
    shipped PRs, failed deployments, every kind of incident cause; most items take the repo's read."""
    from tests.app.conftest import clear_streamlit_caches

    warehouse, config = demo
    path = tmp_path / "scorecard.toml"
    path.write_text(f'[warehouse]\nurl = "{warehouse.url}"\n', encoding="utf-8")
    monkeypatch.setenv("SCORECARD_CONFIG", str(path))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    monkeypatch.setattr(state, "row_scope", lambda: None)  # an admin, as in the benchmark (no sign-in here)
    clear_streamlit_caches()
    full = prepare(load_evidence(warehouse), config)
    envs = config.rules.production_environments
    outcomes, chain = full.outcomes, full.chain
    items = {
        "pr": (_sample(outcomes, pl.col("rolled_back").fill_null(False), 6)
               + _sample(outcomes, pl.col("reverts_pr_id").is_not_null(), 4)
               + _sample(outcomes, pl.col("shipped_deployment_id").is_not_null(), 6)),
        "deployment": (_sample(chain.deployments, pl.col("failed_how") == "caused incident", 5)
                       + _sample(chain.deployments, pl.col("failed"), 5)
                       + _sample(full.evidence.deployments, pl.col("id").is_not_null(), 5)),
        "incident": (_sample(chain.incidents, pl.col("cause_how") == "source", 4)
                     + _sample(chain.incidents, pl.col("cause_how") == "inferred", 6)
                     + _sample(chain.incidents, pl.col("cause_how").is_null(), 3)),
    }
    views = {
        "pr": lambda p, i: pr_view(p.outcomes, p.evidence.deployments, i),
        "deployment": lambda p, i: deployment_view(p.evidence.deployments, p.outcomes, p.chain, envs, i),
        "incident": lambda p, i: incident_view(p.evidence.deployments, p.outcomes, p.chain, i),
    }
    try:
        version = state.current_version()
        by_repo = 0
        for kind, ids in items.items():
            assert len(ids) >= 8, kind
            for item_id in ids:
                got = state.prepared_for_item(version, kind, item_id)
                day = item_day(warehouse, kind, item_id)
                by_repo += state._item_prepared(version, kind, item_id, day) is not None
                _assert_same_view(views[kind](got, item_id), views[kind](full, item_id), f"{kind} {item_id}")
        assert by_repo >= 0.7 * sum(len(ids) for ids in items.values())
    finally:
        clear_streamlit_caches()
