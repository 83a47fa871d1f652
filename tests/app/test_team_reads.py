"""The Rollbacks page's team drill-down reads the repos that hold the team's PRs only (app/state.team_prepared,
warehouse.slice.read_slice's `repos_of`) and the team's senior people's reviews only
(app/state.team_senior_reviews, warehouse.slice.read_reviews_by): what it shows must be what the read of every
repo and every review gives for that team (both warehouses).

On the small demo: every team's outcomes (every column the page reads), its follow-up fixes and its baseline
window's counts, for range starts across the demo. Then the links across repos, hand-built on the demo: a
revert in another team's repo naming a team's PR by id, another by repo and number, a revert of the team's
repo whose source link names a PR of another repo merged since (it wins over the title naming a team's PR), a
deployment of another repo that the source names as shipping a team's PR and that is rolled back; and reviewers
spelled with other cases, whitespace and a non-ASCII letter that lower-cases to ASCII.
"""
from __future__ import annotations

import datetime as dt
import json

import polars as pl
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from app import state
from app.views.delivery import reworked_prs, reworked_rows
from app.views.rollbacks import baseline_counts, rolled_back_prs, scoped
from metrics.baseline import baselines
from metrics.linking import deployment_outcomes
from metrics.periods import Window
from metrics.registry import METRICS, subject_of
from metrics.scorecard import metric_events, prepare
from reports.filters import Filters
from reports.data import load_cube, load_evidence, load_evidence_since, refresh_cube
from warehouse.schema import TABLES
from metrics.evidence import SCHEMAS
from warehouse.slice import read_files_of_repos, read_pr_columns, read_reviews_by, settled_by
from tests.app.conftest import DEMO_END
from tests.app.test_range_slices import _range_starts, demo  # noqa: F401  (the fixture)

SENIOR_REVIEWS = next(m.id for m in METRICS.values() if m.event_kind == "review")


def _team_read(warehouse, config, since: dt.date, team: str, until=None, columns=state.TEAM_COLUMNS):
    return prepare(load_evidence_since(warehouse, config, since, state.OUTCOMES, state._columns(columns),
                                       reviewed_prs=False, until=until,
                                       repos_of=state.team_repos(team, config.teams)), config)


def _shown(outcomes: pl.DataFrame, team: str, since: dt.date) -> pl.DataFrame:
    """A team's PRs merged from `since` on, every column but those read for the listed rows only."""
    cut = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    return (outcomes.filter((pl.col("team") == team) & (pl.col("merged_at") >= cut))
            .drop(state.DETAIL_COLUMNS).sort("id"))


def test_a_teams_repos_give_its_outcomes_follow_ups_and_baseline_as_every_repo_does(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    teams = full.outcomes.get_column("team").unique().drop_nulls().sort().to_list()
    compared, fixes = 0, 0
    for start in _range_starts(full):
        for team in teams:
            narrow = _team_read(warehouse, config, start, team)
            expected = _shown(full.outcomes, team, start)
            assert_frame_equal(_shown(narrow.outcomes, team, start), expected)
            # other teams' PRs are not read (but for reverts and what they name)
            assert narrow.evidence.pull_requests.height < full.evidence.pull_requests.height / 2
            want = reworked_prs(full.outcomes.filter(pl.col("team") == team), full.chain, _filters(start), ai_only=False)
            assert_frame_equal(_reworked(warehouse, narrow, team, start), want)
            compared += expected.height
            fixes += want.height
    assert compared > 1000 and fixes > 0
    window = baselines(load_cube(warehouse, config), config).window(subject_of("rollbacks").id)
    rules = config.rules
    until = settled_by(warehouse, dt.datetime.combine(window.first_day, dt.time(), dt.timezone.utc),
                       window.end + dt.timedelta(microseconds=1), dt.timedelta(days=rules.rollback_window_days),
                       list(rules.production_environments))
    every = baseline_counts(full.outcomes, ["team", "repo"], window)
    for team in teams:
        narrow = _team_read(warehouse, config, window.first_day, team, until, state.VERDICT_COLUMNS)
        counts = baseline_counts(narrow.outcomes, ["team", "repo"], window).filter(pl.col("team") == team)
        assert_frame_equal(counts.sort("repo"), every.filter(pl.col("team") == team).sort("repo"))
        assert counts.height > 0


def test_a_teams_kept_rows_show_what_every_repo_shows(demo):
    """state.team_rows_of (what the page keeps of the team's read): the team's outcome columns the page reads, and
    its reworked PRs from each PR's first follow-up fix, for all its repos and for one of them, as the read of
    every PR gives them; with the listed columns of the rolled-back and reworked PRs (state.with_details), the
    rolled-back and reworked PRs listed as from every column."""
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    teams = full.outcomes.get_column("team").unique().drop_nulls().sort().to_list()
    compared, rolled, unlisted = 0, 0, 0
    for start in _range_starts(full)[::2]:
        cut = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
        for team in teams:
            rows = state.team_rows_of(warehouse, _team_read(warehouse, config, start, team), start, team)
            every = full.outcomes.filter(pl.col("team") == team).select(state.TEAM_OUTCOME_COLUMNS)
            since = pl.col("merged_at") >= cut
            assert_frame_equal(rows.outcomes.filter(since).drop(state.DETAIL_COLUMNS).sort("id"),
                               every.filter(since).drop(state.DETAIL_COLUMNS).sort("id"))
            shown = state.with_details(warehouse, rows).outcomes
            assert_frame_equal(shown.drop(state.DETAIL_COLUMNS), rows.outcomes.drop(state.DETAIL_COLUMNS))
            # the details of the listed PRs only: rolled back, or with a follow-up fix
            listed = pl.col("rolled_back").fill_null(False) | pl.col("id").is_in(rows.first_fixes["id"].implode())
            assert_frame_equal(shown.filter(since & listed).sort("id"), every.filter(since & listed).sort("id"))
            assert shown.filter(~listed).select(state.DETAIL_COLUMNS).null_count().sum_horizontal().item() == (
                shown.filter(~listed).height * len(state.DETAIL_COLUMNS))
            repo = shown.get_column("repo").drop_nulls().sort()[0]
            for mine, theirs in ((shown, every), (scoped(shown, repo=repo), scoped(every, repo=repo))):
                want = reworked_prs(theirs, full.chain, _filters(start), ai_only=False)
                assert_frame_equal(reworked_rows(mine, rows.first_fixes, _filters(start), ai_only=False), want)
                assert_frame_equal(rolled_back_prs(mine, _filters(start)), rolled_back_prs(theirs, _filters(start)))
                compared += want.height
                rolled += rolled_back_prs(theirs, _filters(start)).height
                unlisted += shown.filter(~listed).height
    assert compared > 100 and rolled > 20 and unlisted > 100


def _reworked(warehouse, narrow, team: str, since: dt.date) -> pl.DataFrame:
    """The team's reworked PRs as the panel shows them (app/change_chain_panel.py): the follow-up fixes over
    the PR files of its repos in every spelling the read gives them (state.selection_files), the listed
    columns read for the team's PRs (state.with_details)."""
    outcomes = narrow.outcomes.filter(pl.col("team") == team)
    details = read_pr_columns(warehouse, outcomes.get_column("id").to_list(), ["id", *state.DETAIL_COLUMNS])
    outcomes = outcomes.drop(state.DETAIL_COLUMNS).join(details, on="id", how="left", maintain_order="left").select(
        narrow.outcomes.columns)
    keys = outcomes.get_column("repo").str.to_lowercase().unique().implode()
    spellings = (narrow.evidence.pull_requests.filter(pl.col("repo").str.to_lowercase().is_in(keys))
                 .get_column("repo").unique().to_list())
    files = read_files_of_repos(warehouse, dt.datetime.combine(since, dt.time(), dt.timezone.utc), spellings,
                                list(SCHEMAS["pull_request_files"]))
    return reworked_prs(outcomes, narrow.follow_ups, _filters(since), ai_only=False, files=files)


def _filters(since: dt.date) -> Filters:
    return Filters(grain="week", start=since, end=DEMO_END)


def _pr(pr_id: str, repo: str, number: int, team: str, merged_at: dt.datetime, **more) -> dict:
    return {"id": pr_id, "source": "test", "repo": repo, "number": number, "title": more.pop("title", pr_id),
            "author": "someone", "team": team, "created_at": merged_at - dt.timedelta(hours=2), "merged_at": merged_at,
            "ai_assisted": False, "is_revert": False, "reverts_pr_id": None, "revert_ref": None, **more}


def test_links_across_repos_decide_a_teams_prs_as_every_repo_does(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    window = dt.timedelta(days=config.rules.rollback_window_days)
    since = _range_starts(full)[2]
    cut = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    mine = full.outcomes.filter((pl.col("team") == "payments") & (pl.col("merged_at") >= cut + dt.timedelta(days=3))
                                & ~pl.col("rolled_back") & pl.col("shipped_deployment_id").is_not_null()
                                & ~pl.col("is_revert")).sort("merged_at", "id")
    other_repo = full.outcomes.filter(pl.col("team") == "platform").get_column("repo").sort()[0]
    p1, p2, p3 = (mine.row(i, named=True) for i in range(3))
    # a production deployment of another team's repo, rolled back within the window, after a payments PR's merge
    production = deployment_outcomes(full.evidence, config.rules.production_environments)
    rolled = production.filter((pl.col("repo") != p1["repo"]) & pl.col("rolled_back_by").is_not_null()
                               & ~pl.col("rollback") & (pl.col("finished_at") >= cut + dt.timedelta(days=3))
                               & (pl.col("rolled_back_at") - pl.col("finished_at") <= window)).sort("finished_at", "id")
    named = rolled.row(0, named=True)
    p4 = mine.filter((pl.col("merged_at") < named["finished_at"]) & ~pl.col("id").is_in([p1["id"], p2["id"], p3["id"]])
                     ).row(0, named=True)
    target = _pr("test:other#1", other_repo, 900001, "platform", cut + dt.timedelta(days=1), title="an older change")
    rows = [
        # another repo's revert of p1 by the source's id, and of p2 by repo and number
        _pr("test:other#2", other_repo, 900002, "platform", p1["merged_at"] + dt.timedelta(hours=1), is_revert=True,
            reverts_pr_id=p1["id"]),
        _pr("test:other#3", other_repo, 900003, "platform", p2["merged_at"] + dt.timedelta(hours=1), is_revert=True,
            revert_ref=json.dumps({"repo": p2["repo"], "number": p2["number"], "sha": None, "title": None})),
        # p3's repo: a revert whose source link names another repo's PR merged since; its title names p3
        target,
        _pr("test:pay#1", p3["repo"], 900004, "payments", p3["merged_at"] + dt.timedelta(hours=1), is_revert=True,
            reverts_pr_id=target["id"],
            revert_ref=json.dumps({"repo": None, "number": None, "sha": None, "title": p3["title"]})),
    ]
    with warehouse.engine.begin() as conn:
        conn.execute(sa.insert(TABLES["pull_requests"]), rows)
        conn.execute(sa.insert(TABLES["deployment_prs"]), [{"deployment_id": named["id"], "pr_id": p4["id"], "source": "test"}])
    refresh_cube(warehouse, config)
    full = prepare(load_evidence(warehouse), config)
    verdicts = {r["id"]: r for r in full.outcomes.filter(pl.col("id").is_in([p1["id"], p2["id"], p3["id"], p4["id"]]))
                .iter_rows(named=True)}
    assert verdicts[p1["id"]]["rolled_back_by"] == "test:other#2"
    assert verdicts[p2["id"]]["rolled_back_by"] == "test:other#3"
    assert not verdicts[p3["id"]]["rolled_back"]  # the source's link wins over the title
    assert full.outcomes.filter(pl.col("id") == "test:pay#1").get_column("reverts_pr_id").item() == target["id"]
    assert verdicts[p4["id"]]["shipped_deployment_id"] == named["id"]
    assert verdicts[p4["id"]]["rolled_back_how"] == "deployment rollback"
    narrow = _team_read(warehouse, config, since, "payments")
    assert named["repo"] in set(narrow.evidence.deployments.get_column("repo"))  # the naming deployment's repo
    # the other repos' reverts since the cut that revert no PR of the repos read (payments', and the naming
    # deployment's) are not read
    mine_repos = set(narrow.evidence.deployments.get_column("repo"))
    target_repo = full.outcomes.select(reverts_pr_id="id", target_repo="repo")
    others = (full.outcomes.filter((pl.col("merged_at") >= cut) & pl.col("reverts_pr_id").is_not_null()
                                   & ~pl.col("repo").is_in(mine_repos))
              .join(target_repo, on="reverts_pr_id", how="left").filter(~pl.col("target_repo").is_in(mine_repos)))
    assert others.height > 10
    assert not set(others.get_column("id")) & set(narrow.evidence.pull_requests.get_column("id"))
    assert_frame_equal(_shown(narrow.outcomes, "payments", since), _shown(full.outcomes, "payments", since))
    assert_frame_equal(_reworked(warehouse, narrow, "payments", since),
                       reworked_prs(full.outcomes.filter(pl.col("team") == "payments"), full.chain, _filters(since),
                                    ai_only=False))


def test_a_teams_repos_in_every_spelling_and_every_repo_when_one_is_missing():
    pairs = pl.DataFrame({"repo": ["acme/pay", "ACME/Pay", "acme/web", "acme/api"], "team": ["payments", None, "web", None]})
    from config.model import TeamConfig

    teams = {"payments": TeamConfig(repos=("acme/api",)), "web": TeamConfig(repos=("acme/web*",))}
    # its own team, the mapping of a repo without one, and the other spelling of its repo (mapped elsewhere)
    assert state.team_repos("payments", teams)(pairs) == ["ACME/Pay", "acme/api", "acme/pay"]
    assert state.team_repos("web", teams)(pairs) == ["acme/web"]
    assert state.team_repos("nobody", teams)(pairs) == []
    missing = pl.DataFrame({"repo": [None, "acme/pay"], "team": ["payments", "web"]}, schema={"repo": pl.String, "team": pl.String})
    assert state.team_repos("payments", teams)(missing) is None


def test_a_teams_senior_reviews_are_those_of_every_review(demo):
    warehouse, config = demo
    full = prepare(load_evidence(warehouse), config)
    since = _range_starts(full)[2]
    at = dt.datetime.combine(since, dt.time(), dt.timezone.utc) + dt.timedelta(days=2)
    pr = full.outcomes.filter(pl.col("merged_at") >= at).sort("id").row(0, named=True)
    spelled = [" Payments-Dev0\t", "PAYMENTS-DEV1", "\u212aim", "\x1cpayments-dev0", "payments-dev0\u00a0", "\u00e9lodie"]
    with warehouse.engine.begin() as conn:
        conn.execute(sa.insert(TABLES["people"]), [{"login": "kim", "source": "test", "team": "payments", "level": "Senior"}])
        conn.execute(sa.insert(TABLES["reviews"]), [
            {"id": f"test:review{i}", "source": "test", "pr_id": pr["id"], "reviewer": name, "state": "APPROVED",
             "submitted_at": at + dt.timedelta(minutes=i)} for i, name in enumerate(spelled)])
    refresh_cube(warehouse, config)
    every = prepare(load_evidence_since(warehouse, config, since, state.TEAM), config)
    compared = 0
    for team in ("payments", "platform", "data"):
        expected = metric_events(every, SENIOR_REVIEWS).filter(pl.col("team") == team).sort("id")
        got = state.team_senior_reviews(warehouse, config, since, team).sort("id")
        assert_frame_equal(got, expected)
        compared += expected.height
    assert compared > 100
    ids = set(metric_events(every, SENIOR_REVIEWS).get_column("id"))
    # trimmed of whitespace (a no-break space too), any case, a Kelvin sign lower-cased to "k"; not \x1c
    assert {f"test:review{i}" for i in (0, 1, 2, 4)} <= ids and "test:review3" not in ids
    cut = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
    assert read_reviews_by(warehouse, cut, [], ["id"]).height == 0
    read = read_reviews_by(warehouse, cut, ["kim", "payments-dev1"], ["id", "reviewer"])
    assert set(read.filter(pl.col("id").str.starts_with("test:")).get_column("id")) == {"test:review1", "test:review2"}
    assert (read.get_column("reviewer").str.strip_chars().str.to_lowercase().is_in(["kim", "payments-dev1"])).all()


def test_a_teams_baseline_counts_come_from_the_kept_facts_as_from_every_pr(demo):
    """app/state.team_baseline_counts: per repo, the team's PRs merged in the baseline window and those rolled
    back, from the per-PR facts kept with the cube (the window's months) and the repos of the team's PRs read by
    key, as from all the evidence: for every team, the page's window, one at the demo's start and one ending
    mid-month. And by hand: a repo of payments' own, with two PRs of payments in the window (one reverted a day
    later by the other), one merged a day after the window and one of platform's."""
    warehouse, config = demo
    window = baselines(load_cube(warehouse, config), config).window(subject_of("rollbacks").id)
    start = window.start + dt.timedelta(days=1)
    rows = [
        _pr("test:hand#1", "acme/handmade", 1, "payments", start),
        _pr("test:hand#2", "acme/handmade", 2, "payments", start + dt.timedelta(days=1), ai_assisted=True,
            is_revert=True, reverts_pr_id="test:hand#1"),
        _pr("test:hand#3", "acme/handmade", 3, "payments", window.end + dt.timedelta(days=1)),
        _pr("test:hand#4", "acme/handmade", 4, "platform", start + dt.timedelta(days=2)),
    ]
    with warehouse.engine.begin() as conn:
        conn.execute(sa.insert(TABLES["pull_requests"]), rows)
        # written past the import (which notes how far back a write reaches): the kept facts are built again
        conn.execute(sa.update(TABLES["cube_state"]).values(pending_full=True))
    refresh_cube(warehouse, config)
    mine = state.team_baseline_counts(warehouse, window, "payments").filter(pl.col("repo") == "acme/handmade")
    assert mine.rows() == [("payments", "acme/handmade", 2, 1)]
    theirs = state.team_baseline_counts(warehouse, window, "platform").filter(pl.col("repo") == "acme/handmade")
    assert theirs.rows() == [("platform", "acme/handmade", 1, 0)]

    full = prepare(load_evidence(warehouse), config)
    first = full.outcomes.get_column("merged_at").min().replace(hour=0, minute=0, second=0, microsecond=0)
    mid = dt.datetime(first.year, first.month, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=75)
    windows = [window, Window(start=first, end=first + dt.timedelta(weeks=6, microseconds=-1), label="early"),
               Window(start=mid - dt.timedelta(days=40), end=mid.replace(day=15) - dt.timedelta(microseconds=1),
                      label="mid-month")]
    teams = full.outcomes.get_column("team").unique().drop_nulls().sort().to_list()
    compared = 0
    for w in windows:
        every = baseline_counts(full.outcomes, ["team", "repo"], w)
        for team in teams:
            expected = every.filter(pl.col("team") == team).sort("repo")
            assert_frame_equal(state.team_baseline_counts(warehouse, w, team).sort("repo"), expected)
            compared += expected.get_column("merged_prs").sum()
    assert compared > 1000


def test_the_team_reads_begun_ahead_are_those_the_page_then_asks_for(demo, tmp_path, monkeypatch):
    """`state.begin_team_reads` (the Rollbacks page calls it before drawing the table by team) fills the caches the
    drill-down then reads: with the computations taken away afterwards, the page's calls still give what they
    compute (for a user with a row scope too, whose senior reviews are left to the page)."""
    import threading

    from tests.app.conftest import clear_streamlit_caches

    warehouse, config = demo
    path = tmp_path / "scorecard.toml"
    path.write_text(f'[warehouse]\nurl = "{warehouse.url}"\n', encoding="utf-8")
    monkeypatch.setenv("SCORECARD_CONFIG", str(path))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    since, team = DEMO_END - dt.timedelta(weeks=8), "payments"

    def page_reads(version, window):
        rows = state.team_rows(version, since, team)
        return state.rollback_baseline(version, window, team), rows.outcomes, rows.first_fixes

    try:
        for scope, senior in ((None, True), (("payments",), False)):
            monkeypatch.setattr(state, "row_scope", lambda scope=scope: scope)
            clear_streamlit_caches()
            version = state.current_version()
            window = state.baselines(version).window(subject_of("rollbacks").id)
            expected = page_reads(version, window)
            reviews = state.senior_reviews(version, since, team) if senior else None
            assert expected[1].height > 100 and expected[2].height > 0 and expected[0].height > 0
            clear_streamlit_caches()
            version = state.current_version()
            state.baselines(version)
            state.begin_team_reads(version, window, since, team)
            for thread in threading.enumerate():
                if thread.name == "team-reads":
                    thread.join()
            with monkeypatch.context() as patched:
                # (with a row scope the senior reviews are the page's own read, through the scoped evidence)
                for name in ("team_baseline_counts", "team_rows_of", "read_pr_columns",
                             *(("team_senior_reviews",) if senior else ())):
                    patched.setattr(state, name, _gone)
                for got, want in zip(page_reads(version, window), expected):
                    assert_frame_equal(got, want)
                if senior:
                    assert_frame_equal(state.senior_reviews(version, since, team), reviews)
    finally:
        clear_streamlit_caches()


def _gone(*args, **kwargs):
    raise AssertionError("computed again: not read ahead")


def test_freed_memory_is_handed_back_through_mallocs_trim_where_there_is_one(monkeypatch):
    calls = []

    class Glibc:
        def malloc_trim(self, pad):
            calls.append(pad)

    monkeypatch.setattr(state, "_libc", lambda: Glibc())
    state.release_freed_memory()
    assert calls == [0]  # no padding kept at the top of the heap
    monkeypatch.setattr(state, "_libc", lambda: object())  # another C library: nothing to call
    state.release_freed_memory()
    assert calls == [0]
