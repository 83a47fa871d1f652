"""The Rollbacks and Delivery pages read only their range and the columns they show.

The Rollbacks page: the table by team comes from the cube's daily rollback counts
(no PR read), and once a team is picked its range's outcomes come from the slice of the range and the
baseline window's shares from counts per team × repo read with only the columns a verdict needs
(app/state.rollback_teams, rollback_baseline). Every table must equal the one computed from all the
evidence, as the page computed it before: by team, by repo, the trend with its baseline, for ranges across
the small demo (both warehouses).

The Delivery page lists its range's incidents with their causes and its failed deployments from the facts kept
beside the cube (app/state.delivery_rows: metrics.cube.delivery_facts); for a user with a row scope it reads its
range's changes with only the PR columns a verdict needs (app/state.VERDICT_COLUMNS), without the PRs only a review
brings in (as the baseline counts and Adoption's cohorts). Both equal those from all the evidence."""
from __future__ import annotations

import datetime as dt

import polars as pl
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from app import state
from app.views.delivery import failed_deployments, linked_incidents
from app.views.rollbacks import baseline_counts, share_table, team_share_table, trend
from metrics.baseline import baselines
from metrics.periods import Window
from metrics.registry import subject_of
from metrics.scorecard import prepare
from reports.data import load_cube, load_evidence, load_evidence_since, refresh_cube
from reports.filters import Filters
from warehouse.cube_store import read_facts
from warehouse.schema import TABLES
from warehouse.slice import read_pr_columns, settled_by
from tests.app.conftest import DEMO_END
from tests.app.test_range_slices import _range_starts, demo  # noqa: F401  (the fixture)


def _windows(cube, config, full) -> list[Window]:
    """The page's baseline window, and one inside the data: a window at the start of the demo."""
    window = baselines(cube, config).window(subject_of("rollbacks").id)
    first = full.outcomes.get_column("merged_at").min().replace(hour=0, minute=0, second=0, microsecond=0)
    early = Window(start=first, end=first + (window.end - window.start), label="early")
    return [window, early]


def test_the_table_by_team_from_the_cube_equals_the_one_from_every_pr(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    cube = load_cube(warehouse, config)
    compared = 0
    for window in _windows(cube, config, full):
        for start in _range_starts(full):
            filters = Filters(grain="week", start=start, end=DEMO_END)
            expected = share_table(full.outcomes, "team", filters, window)
            assert_frame_equal(team_share_table(cube, filters, window), expected)
            compared += expected.height
        month = Filters(grain="month", start=_range_starts(full)[1], end=DEMO_END)
        assert_frame_equal(team_share_table(cube, month, window), share_table(full.outcomes, "team", month, window))
    assert compared > 20


def test_a_picked_team_reads_its_range_and_the_baselines_counts_and_shows_the_same(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    cube = load_cube(warehouse, config)
    compared, bounded = 0, 0
    for window in _windows(cube, config, full):
        # as app/state._rollback_baseline reads it: the verdict's columns of the slice from the window's first day
        # up to where the window's verdicts are settled
        until = _settled(warehouse, config, window)
        narrow = load_evidence_since(warehouse, config, window.first_day, state.OUTCOMES,
                                     state._columns(state.VERDICT_COLUMNS), reviewed_prs=False, until=until)
        if until is not None:  # the read stops there: PRs merged later are not read
            bounded += 1
            assert narrow.pull_requests.get_column("merged_at").max() < until
            assert full.outcomes.get_column("merged_at").max() >= until
        counts = baseline_counts(prepare(narrow, config).outcomes, ["team", "repo"], window)
        assert_frame_equal(counts.sort("team", "repo"),
                           baseline_counts(full.outcomes, ["team", "repo"], window).sort("team", "repo"))
        for start in _range_starts(full):
            filters = Filters(grain="week", start=start, end=DEMO_END)
            ranged = prepare(load_evidence_since(warehouse, config, start, state.CHAIN), config).outcomes
            for team in ("payments", "platform"):
                base = counts.filter(pl.col("team") == team)
                mine, every = ranged.filter(pl.col("team") == team), full.outcomes.filter(pl.col("team") == team)
                expected = share_table(every, "repo", filters, window)
                assert_frame_equal(share_table(mine, "repo", filters, window, base=base.drop("team")), expected)
                assert_frame_equal(trend(mine, filters, window, base=base), trend(every, filters, window))
                repo = every.get_column("repo").sort()[0]
                assert_frame_equal(trend(mine.filter(pl.col("repo") == repo), filters, window,
                                         base=base.filter(pl.col("repo") == repo)),
                                   trend(every.filter(pl.col("repo") == repo), filters, window))
                compared += expected.height
    assert compared > 20 and bounded >= 1


def _settled(warehouse, config, window: Window):
    rules = config.rules
    return settled_by(warehouse, dt.datetime.combine(window.first_day, dt.time(), dt.timezone.utc),
                      window.end + dt.timedelta(microseconds=1), dt.timedelta(days=rules.rollback_window_days),
                      list(rules.production_environments))


def test_the_baseline_is_read_to_where_its_verdicts_are_settled(demo):
    """For windows across the small demo, the PRs merged in each are decided from the slice read up to
    `settled_by` as from all the evidence: every verdict column, not only the counts; a window whose repos
    deploy no more after it (at the end of the data) has no bound."""
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    first = full.outcomes.get_column("merged_at").min().replace(hour=0, minute=0, second=0, microsecond=0)
    last = full.outcomes.get_column("merged_at").max()
    columns = ["id", "team", "shipped_deployment_id", "shipped_at", "rolled_back", "rolled_back_how", "rolled_back_by",
               "rolled_back_at", "ai_assisted"]
    checked = 0
    for weeks_in, length in ((0, 4), (3, 13), (10, 2), (20, 8)):
        start = first + dt.timedelta(weeks=weeks_in)
        window = Window(start=start, end=start + dt.timedelta(weeks=length) - dt.timedelta(microseconds=1), label="w")
        if window.end >= last:
            continue
        until = _settled(warehouse, config, window)
        assert until is not None and until < last
        narrow = prepare(load_evidence_since(warehouse, config, window.first_day, state.OUTCOMES,
                                             state._columns(state.VERDICT_COLUMNS), reviewed_prs=False, until=until),
                         config).outcomes
        in_window = pl.col("merged_at").is_between(window.start, window.end)
        expected = full.outcomes.filter(in_window).select(columns).sort("id")
        assert_frame_equal(narrow.filter(in_window).select(columns).sort("id"), expected)
        checked += expected.height
    assert checked > 500
    end = Window(start=last - dt.timedelta(days=3), end=last + dt.timedelta(days=1), label="end")
    assert _settled(warehouse, config, end) is None


def test_a_later_deployment_naming_a_windows_pr_moves_the_bound(demo):
    """A production deployment that names a PR of the window (the source's link wins over the first deployment
    after the merge) ships it whenever it comes: the bound reaches past it, and the window's verdicts stay
    those of all the evidence. Without a link the bound is the repos' first shipping deployments'."""
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    first = full.outcomes.get_column("merged_at").min().replace(hour=0, minute=0, second=0, microsecond=0)
    window = Window(start=first + dt.timedelta(weeks=2), end=first + dt.timedelta(weeks=6, microseconds=-1), label="w")
    before = _settled(warehouse, config, window)
    assert before is not None
    envs = [e.lower() for e in config.rules.production_environments]
    late = full.evidence.deployments.filter(
        (pl.col("status").str.to_lowercase() == "success") & pl.col("environment").str.to_lowercase().is_in(envs)
        & (pl.col("finished_at") > before + dt.timedelta(weeks=4))).sort("finished_at").row(0, named=True)
    pr = full.outcomes.filter(pl.col("merged_at").is_between(window.start, window.end)).sort("id").row(0, named=True)
    with warehouse.engine.begin() as conn:
        conn.execute(sa.insert(TABLES["deployment_prs"]), [{"deployment_id": late["id"], "pr_id": pr["id"], "source": "demo"}])
    refresh_cube(warehouse, config)
    full = prepare(load_evidence(warehouse), config)
    assert full.outcomes.filter(pl.col("id") == pr["id"]).get_column("shipped_deployment_id").item() == late["id"]
    until = _settled(warehouse, config, window)
    assert until > late["finished_at"] + dt.timedelta(days=config.rules.rollback_window_days)
    narrow = prepare(load_evidence_since(warehouse, config, window.first_day, state.OUTCOMES,
                                         state._columns(state.VERDICT_COLUMNS), reviewed_prs=False, until=until),
                     config).outcomes
    in_window = pl.col("merged_at").is_between(window.start, window.end)
    columns = ["id", "shipped_deployment_id", "shipped_at", "shipped_how", "rolled_back", "rolled_back_how",
               "rolled_back_by", "rolled_back_at"]
    assert_frame_equal(narrow.filter(in_window).select(columns).sort("id"),
                       full.outcomes.filter(in_window).select(columns).sort("id"))


def test_a_picked_teams_prs_read_narrow_then_their_details_equal_those_of_every_column(demo):
    """The team panel reads the organisation's range with the verdict and rework columns only
    (state.TEAM_COLUMNS) and the columns it lists PRs with for the picked team's PRs (state.with_details,
    through warehouse.slice.read_pr_columns): every outcome column of the team's PRs equals the read of every
    column's."""
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    compared = 0
    for start in _range_starts(full)[1:3]:
        narrow = prepare(load_evidence_since(warehouse, config, start, state.TEAM, state._columns(state.TEAM_COLUMNS)),
                         config)
        every = prepare(load_evidence_since(warehouse, config, start, state.TEAM), config)
        assert narrow.evidence.pull_requests.get_column("url").null_count() == narrow.evidence.pull_requests.height
        for team in ("payments", "platform"):
            mine = narrow.outcomes.filter(pl.col("team") == team)
            details = read_pr_columns(warehouse, mine.get_column("id").to_list(), ["id", *state.DETAIL_COLUMNS])
            mine = mine.drop(state.DETAIL_COLUMNS).join(details, on="id", how="left", maintain_order="left").select(
                mine.columns)
            expected = every.outcomes.filter(pl.col("team") == team)
            assert_frame_equal(mine, expected)
            assert expected.get_column("url").null_count() < expected.height
            compared += expected.height
    assert compared > 100


def test_delivery_reads_the_verdicts_columns_and_shows_what_all_the_evidence_shows(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    compared = 0
    for start in _range_starts(full):
        filters = Filters(grain="week", start=start, end=DEMO_END)
        # as the page reads it: without the PRs only a review since the range's start brings in
        # (tests/warehouse/test_slice_tables.py reads an organisation that has such PRs; the demo has none)
        narrow = prepare(load_evidence_since(warehouse, config, start, state.CHANGES,
                                             state._columns(state.VERDICT_COLUMNS), reviewed_prs=False), config)
        assert narrow.evidence.pull_requests.get_column("ai_signals").null_count() == narrow.evidence.pull_requests.height
        for view, rows in ((linked_incidents, "incidents"), (failed_deployments, "deployments")):
            expected = view(getattr(full.chain, rows), filters)
            assert_frame_equal(view(getattr(narrow.chain, rows), filters), expected)
            compared += expected.height
    assert compared > 100


def test_delivery_tables_from_the_kept_facts_show_what_all_the_evidence_shows(demo):
    """Every range start, the organisation and each team: the same rows in the same order."""
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    load_cube(warehouse, config)  # the facts are kept with the cube
    teams = full.chain.incidents.get_column("team").drop_nulls().unique().sort().to_list()
    compared = 0
    for start in _range_starts(full):
        kept = {"incidents": read_facts(warehouse, "incident_facts", start),
                "deployments": read_facts(warehouse, "failed_facts", start)}
        for team in [None, *teams]:
            filters = Filters(grain="week", start=start, end=DEMO_END, team=team)
            for view, rows in ((linked_incidents, "incidents"), (failed_deployments, "deployments")):
                expected = view(getattr(full.chain, rows), filters)
                assert_frame_equal(view(kept[rows], filters), expected)
                compared += expected.height
    assert compared > 200


def test_a_teams_follow_up_fixes_from_its_repos_equal_those_of_every_pr(demo):
    """The team drill-down's reworked PRs (app/views/delivery.reworked_prs) match follow-up fixes within the
    selection's repos only (ChainFacts.follow_ups_in): the same pairs as those of every PR whose P is in them,
    for each team and for one repo of it (the table joins them to the selection's PRs)."""
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    pr_repo = full.evidence.pull_requests.select(pr_id="id", repo=pl.col("repo").str.to_lowercase())
    every = full.chain.follow_ups.join(pr_repo, on="pr_id", maintain_order="left")
    assert every.height > 0
    compared = 0
    for team in full.outcomes.get_column("team").unique().drop_nulls().sort().to_list():
        outcomes = full.outcomes.filter(pl.col("team") == team)
        repos = outcomes.get_column("repo").unique().sort().to_list()
        for chosen in (repos, repos[:1]):
            got = full.chain.follow_ups_in(chosen)
            want = every.filter(pl.col("repo").is_in([r.lower() for r in chosen])).drop("repo")
            assert_frame_equal(got, want)
            # the panel's follow-up fixes without the rest of the chain (Prepared.follow_ups): the same rows
            alone = prepare(full.evidence, config)
            assert_frame_equal(alone.follow_ups.follow_ups_in(chosen), want)
            assert "chain" not in alone.__dict__ and alone.follow_ups.deployments.height == 0
            compared += want.height
    assert compared > 0
