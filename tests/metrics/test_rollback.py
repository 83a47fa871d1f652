"""DESIGN.md's worked example and the edge cases of the rollback, shipping and revert rules."""
import datetime as dt

import polars as pl
import pytest

from config import Config, RulesConfig
from metrics.evidence import Evidence
from metrics.linking import deployment_outcomes, pr_outcomes, resolve_reverts
from metrics.scorecard import compute
from tests.factories import evidence, make_deployment, make_pr, ts

ENVS = ("production", "prod")


def worked_example() -> Evidence:
    deployments = [
        make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
        make_deployment("D2", sha="b", finished_at="2026-03-03 10:00"),
        make_deployment("D3", sha="c", finished_at="2026-03-04 10:00"),
        make_deployment("D4", sha="a", finished_at="2026-03-05 10:00"),
        make_deployment("D5", sha="d", finished_at="2026-03-06 10:00"),
        make_deployment("D6", sha="d", finished_at="2026-03-06 12:00"),
    ]
    prs = [
        make_pr(15, merged_at="2026-03-01 08:00"),
        make_pr(11, merged_at="2026-03-02 09:00"),
        make_pr(12, merged_at="2026-03-03 12:00"),
        make_pr(13, merged_at="2026-03-04 09:00"),
        make_pr(14, merged_at="2026-03-05 09:30"),
        make_pr(10, merged_at="2026-03-10 12:00", title="Add cache"),
        make_pr(16, merged_at="2026-03-20 12:00", title='Revert "Add cache"', revert_ref={"title": "Add cache"}),
    ]
    return evidence(prs=prs, deployments=deployments)


def outcomes(ev: Evidence, window: float = 7) -> dict[int, dict]:
    frame = pr_outcomes(ev, ENVS, window)
    return {row["number"]: row for row in frame.iter_rows(named=True)}


def test_worked_example_rollbacks_and_shipping():
    deps = {r["id"]: r for r in deployment_outcomes(worked_example(), ENVS).iter_rows(named=True)}
    # D4 redeploys sha a (T = D1) with D2 and D3 between: a rollback of both.
    assert [d for d, r in deps.items() if r["rollback"]] == ["D4"]
    assert deps["D4"]["rollback_rule"] == "sha" and deps["D4"]["restores_deployment_id"] == "D1"
    assert deps["D2"]["rolled_back_by"] == "D4" and deps["D3"]["rolled_back_by"] == "D4"
    # D1 is T, not between; D6 redeploys the live sha d: not a rollback, rolls back nothing.
    assert deps["D1"]["rolled_back_by"] is None and deps["D5"]["rolled_back_by"] is None
    assert deps["D6"]["rollback"] is False

    out = outcomes(worked_example())
    assert {n: out[n]["shipped_deployment_id"] for n in out} == {
        15: "D1", 11: "D2", 12: "D3", 13: "D3", 14: "D5", 10: None, 16: None,
    }
    assert sorted(n for n in out if out[n]["rolled_back"]) == [11, 12, 13]
    assert out[11]["rolled_back_how"] == "deployment rollback" and out[11]["rolled_back_by"] == "D4"
    # #16 reverts #10, but 10 days after its merge: outside the 7-day window.
    assert out[16]["reverts_pr_id"] == "github:acme/api#10"
    assert out[10]["rolled_back"] is False


def test_worked_example_rollback_share_for_march_is_3_of_7():
    config = Config(rules=RulesConfig(min_sample=1))
    records = compute(worked_example(), config, grain="month", start=dt.date(2026, 3, 1),
                      end=dt.date(2026, 3, 31), metrics=["rollback_share"])
    org_all = records.filter(pl.col("team").is_null() & (pl.col("segment") == "all")).row(0, named=True)
    # merged PRs #10..#16 = 7; rolled back #11, #12, #13 = 3.
    assert (org_all["numerator"], org_all["denominator"], org_all["n"]) == (3, 7, 7)
    assert org_all["value"] == pytest.approx(3 / 7)


def test_flagged_rollback_without_earlier_sha_rolls_back_the_deployment_just_before():
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-02 10:00"),
            make_deployment("R", sha="fix", finished_at="2026-03-03 10:00", is_rollback=True),
        ],
        prs=[make_pr(1, merged_at="2026-03-02 09:00"), make_pr(2, merged_at="2026-03-02 12:00")],
    )
    deps = {r["id"]: r for r in deployment_outcomes(ev, ENVS).iter_rows(named=True)}
    assert deps["R"]["rollback_rule"] == "flag"
    assert deps["D2"]["rolled_back_by"] == "R" and deps["D1"]["rolled_back_by"] is None
    out = outcomes(ev)
    # #1 shipped in D2 (rolled back); #2 merged after D2: R is a rollback so it does not ship it.
    assert out[1]["rolled_back"] is True
    assert out[2]["shipped_deployment_id"] is None and out[2]["rolled_back"] is False


def test_source_saying_not_a_rollback_wins_over_the_sha_rule():
    ev = evidence(deployments=[
        make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
        make_deployment("D2", sha="b", finished_at="2026-03-02 10:00"),
        make_deployment("D3", sha="a", finished_at="2026-03-03 10:00", is_rollback=False),
    ])
    deps = {r["id"]: r for r in deployment_outcomes(ev, ENVS).iter_rows(named=True)}
    assert deps["D3"]["rollback"] is False and deps["D2"]["rolled_back_by"] is None


def test_flagged_redeploy_of_the_live_sha_rolls_back_the_deployment_just_before_it():
    # DESIGN.md revision 2: a flagged R whose sha is the live one has no T "with another sha between", so
    # it rolls back the one production deployment just before it (the source says that one was undone).
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-02 10:00"),
            make_deployment("D3", sha="b", finished_at="2026-03-03 10:00", is_rollback=True),
            # The same redeploy unflagged is not a rollback and rolls back nothing.
            make_deployment("W1", sha="x", finished_at="2026-03-01 10:00", repo="acme/web"),
            make_deployment("W2", sha="x", finished_at="2026-03-02 10:00", repo="acme/web"),
        ],
        prs=[
            make_pr(1, merged_at="2026-03-01 09:00"),  # shipped by D1
            make_pr(2, merged_at="2026-03-02 09:00"),  # shipped by D2
            make_pr(3, merged_at="2026-03-01 09:00", repo="acme/web"),  # shipped by W1
        ],
    )
    deps = {r["id"]: r for r in deployment_outcomes(ev, ENVS).iter_rows(named=True)}
    assert deps["D3"]["rollback"] is True and deps["D3"]["rollback_rule"] == "flag"
    assert deps["D2"]["rolled_back_by"] == "D3" and deps["D1"]["rolled_back_by"] is None
    assert deps["W2"]["rollback"] is False and deps["W1"]["rolled_back_by"] is None
    out = outcomes(ev)
    assert [n for n in sorted(out) if out[n]["rolled_back"]] == [2]
    # rollback_share, March, all: merged PRs #1, #2, #3 = 3; rolled back #2 (D2 undone by D3 a day later) → 1/3.
    records = compute(ev, Config(rules=RulesConfig(min_sample=1)), grain="month", start=dt.date(2026, 3, 1),
                      end=dt.date(2026, 3, 31), metrics=["rollback_share"])
    rec = records.filter((pl.col("metric") == "rollback_share") & pl.col("team").is_null() & (pl.col("segment") == "all"))
    assert (rec["numerator"][0], rec["denominator"][0]) == (1, 3)
    assert rec["value"][0] == pytest.approx(1 / 3)


def test_rollback_rule_is_read_within_repo_and_environment_case_insensitively():
    ev = evidence(deployments=[
        make_deployment("P1", sha="a", finished_at="2026-03-01 10:00", environment="Production"),
        make_deployment("S1", sha="b", finished_at="2026-03-02 10:00", environment="staging"),
        make_deployment("O1", sha="b", finished_at="2026-03-02 11:00", repo="acme/other"),
        make_deployment("P2", sha="a", finished_at="2026-03-03 10:00", environment="PRODUCTION"),
        make_deployment("F1", sha="c", finished_at="2026-03-03 11:00", status="failure"),
        make_deployment("P3", sha="a", finished_at="2026-03-04 10:00", status="SUCCESS"),
    ])
    deps = {r["id"]: r for r in deployment_outcomes(ev, ENVS).iter_rows(named=True)}
    # Staging, another repo and a failed deployment do not lie "between" P1 and P2 / P3.
    assert set(deps) == {"P1", "O1", "P2", "P3"}
    assert not any(r["rollback"] for r in deps.values())


def test_same_instant_deployments_are_ordered_by_id():
    ev = evidence(deployments=[
        make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
        make_deployment("D3", sha="a", finished_at="2026-03-02 10:00"),
        make_deployment("D2", sha="b", finished_at="2026-03-02 10:00"),
    ])
    deps = {r["id"]: r for r in deployment_outcomes(ev, ENVS).iter_rows(named=True)}
    # Order is D1 (a), D2 (b), D3 (a): D3 rolls back D2.
    assert deps["D3"]["rollback"] is True and deps["D2"]["rolled_back_by"] == "D3"


def test_rollback_counts_only_within_the_window_of_the_shipping_deployment():
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-02 10:00"),
            make_deployment("D3", sha="a", finished_at="2026-03-09 10:00"),  # exactly 7 days after D2
            make_deployment("E1", sha="x", finished_at="2026-03-01 10:00", repo="acme/web"),
            make_deployment("E2", sha="y", finished_at="2026-03-02 10:00", repo="acme/web"),
            make_deployment("E3", sha="x", finished_at="2026-03-09 10:00:01", repo="acme/web"),  # 7 days + 1 s
        ],
        prs=[make_pr(1, merged_at="2026-03-02 09:00"), make_pr(2, merged_at="2026-03-02 09:00", repo="acme/web")],
    )
    out = {r["repo"]: r for r in pr_outcomes(ev, ENVS, 7).iter_rows(named=True)}
    assert out["acme/api"]["rolled_back"] is True  # "within N days" is elapsed time ≤ N × 24 h
    assert out["acme/web"]["rolled_back"] is False


def test_named_deployment_wins_over_first_after_merge():
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-05 10:00"),
        ],
        deployment_prs=[{"deployment_id": "D2", "pr_id": "github:acme/api#1"}],
        prs=[make_pr(1, merged_at="2026-03-01 09:00")],
    )
    row = pr_outcomes(ev, ENVS, 7).row(0, named=True)
    assert (row["shipped_deployment_id"], row["shipped_how"]) == ("D2", "named by source")


def test_pr_merged_exactly_at_deployment_time_ships_in_it_and_other_envs_count():
    ev = evidence(
        deployments=[make_deployment("D1", sha="a", finished_at="2026-03-01 10:00", environment="prod")],
        prs=[make_pr(1, merged_at="2026-03-01 10:00")],
    )
    assert pr_outcomes(ev, ENVS, 7).row(0, named=True)["shipped_deployment_id"] == "D1"


def test_revert_within_window_rolls_back_and_outside_does_not():
    ev = evidence(prs=[
        make_pr(1, merged_at="2026-03-01 10:00", title="Feature"),
        make_pr(2, merged_at="2026-03-08 10:00", title='Revert "Feature"', revert_ref={"title": "Feature"}),
        make_pr(3, merged_at="2026-03-01 10:00", title="Other"),
        make_pr(4, merged_at="2026-03-08 10:01", revert_ref={"number": 3}),
    ])
    out = outcomes(ev)
    assert out[1]["rolled_back"] is True and out[1]["rolled_back_how"] == "revert" and out[1]["rolled_back_by"] == "github:acme/api#2"
    assert out[3]["rolled_back"] is False  # 7 days and one minute


def test_revert_lookups_in_order_number_then_sha_then_title():
    prs = [
        make_pr(1, merged_at="2026-03-01 10:00", title="Add cache", sha="aaaaaaa1111"),
        make_pr(2, merged_at="2026-03-02 10:00", title="Add cache", sha="bbbbbbb2222"),
        make_pr(3, merged_at="2026-03-03 10:00", title="Tweak", sha="ccccccc3333"),
        # Number wins over sha and title when all three are given.
        make_pr(10, merged_at="2026-03-04 10:00", revert_ref={"number": 1, "sha": "ccccccc", "title": "Tweak"}),
        # Number that finds nothing (PR 99 does not exist) falls through to the sha prefix.
        make_pr(11, merged_at="2026-03-04 10:00", revert_ref={"number": 99, "sha": "CCCCCCC3", "title": "Add cache"}),
        # Title matching two PRs: the latest merged wins.
        make_pr(12, merged_at="2026-03-04 10:00", revert_ref={"title": "Add cache"}),
        # Another repo named explicitly.
        make_pr(5, repo="acme/web", merged_at="2026-03-01 10:00"),
        make_pr(13, merged_at="2026-03-04 10:00", revert_ref={"repo": "acme/web", "number": 5}),
        # The reverted PR must be merged before the revert.
        make_pr(14, merged_at="2026-03-01 09:00", revert_ref={"title": "Tweak"}),
        # An unmerged PR titled like a revert is not a revert.
        make_pr(15, merged_at=None, revert_ref={"number": 1}),
    ]
    found = {r["revert_id"]: (r["reverted_pr_id"], r["revert_lookup"]) for r in resolve_reverts(evidence(prs=prs).pull_requests).iter_rows(named=True)}
    assert found == {
        "github:acme/api#10": ("github:acme/api#1", "number"),
        "github:acme/api#11": ("github:acme/api#3", "sha"),
        "github:acme/api#12": ("github:acme/api#2", "title"),
        "github:acme/api#13": ("github:acme/web#5", "number"),
    }


def test_source_given_revert_link_wins():
    prs = [
        make_pr(1, merged_at="2026-03-01 10:00", title="A"),
        make_pr(2, merged_at="2026-03-01 11:00", title="B"),
        make_pr(3, merged_at="2026-03-02 10:00", revert_ref={"title": "A"}, reverts_pr_id="github:acme/api#2"),
    ]
    found = resolve_reverts(evidence(prs=prs).pull_requests).row(0, named=True)
    assert (found["reverted_pr_id"], found["revert_lookup"]) == ("github:acme/api#2", "source")


def test_sha_prefix_ties_pick_the_latest_merged_then_highest_number():
    prs = [
        make_pr(1, merged_at="2026-03-01 10:00", sha="abcdef1000"),
        make_pr(2, merged_at="2026-03-01 12:00", sha="abcdef1999"),
        make_pr(3, merged_at="2026-03-01 12:00", sha="abcdef1555"),
        make_pr(9, merged_at="2026-03-02 10:00", revert_ref={"sha": "abcdef1"}),
    ]
    found = resolve_reverts(evidence(prs=prs).pull_requests).row(0, named=True)
    assert found["reverted_pr_id"] == "github:acme/api#3"


def test_a_source_link_to_a_pr_merged_after_the_revert_gives_way_to_the_lookups():
    prs = [
        make_pr(1, merged_at="2026-03-01 10:00", title="A"),
        make_pr(2, merged_at="2026-03-05 10:00", title="B"),
        # The source says #3 reverts #2, but #2 was merged after #3: the title lookup finds #1 instead.
        make_pr(3, merged_at="2026-03-02 10:00", revert_ref={"title": "A"}, reverts_pr_id="github:acme/api#2"),
    ]
    found = resolve_reverts(evidence(prs=prs).pull_requests).row(0, named=True)
    assert (found["reverted_pr_id"], found["revert_lookup"]) == ("github:acme/api#1", "title")
    out = outcomes(evidence(prs=prs))
    assert out[2]["rolled_back"] is False and out[1]["rolled_back"] is True


def test_a_title_many_prs_share_resolves_to_the_latest_merged_before_the_revert():
    """The lookups find each revert's target as of its merge (metrics.linking._lookup), not by pairing it with
    every PR of the title: the latest merged strictly before it, then the highest number; another repo's PR
    and one merged at the revert's own instant are not candidates."""
    prs = [make_pr(n, merged_at=f"2026-03-0{1 + n % 3} 10:00", title="Bump deps") for n in range(1, 7)]  # 3 days
    prs += [
        make_pr(7, merged_at="2026-03-03 10:00", title="Bump deps", repo="acme/web"),  # another repo, later
        make_pr(20, merged_at="2026-03-03 10:00", revert_ref={"title": "Bump deps"}),  # #2 and #5 merged 03-03: not before
        make_pr(21, merged_at="2026-03-03 10:00:01", revert_ref={"title": "Bump deps"}),
        make_pr(22, merged_at="2026-03-01 10:00", revert_ref={"title": "Bump deps"}),  # only #3, #6 at its instant
        make_pr(23, merged_at="2026-03-05 10:00", revert_ref={"title": "Bump deps", "repo": "acme/web"}),
    ]
    found = {r["revert_id"]: (r["reverted_pr_id"], r["revert_lookup"])
             for r in resolve_reverts(evidence(prs=prs).pull_requests).iter_rows(named=True)}
    # merged 03-01: #3, #6; 03-02: #1, #4; 03-03: #2, #5 (n % 3 = 0, 1, 2). A title names a PR of the revert's own
    # repo (the ref's repo is for numbers): #23's candidates are acme/api's (the reverts are titled "Change N").
    assert found == {
        "github:acme/api#20": ("github:acme/api#4", "title"),  # 03-02, #4 over #1
        "github:acme/api#21": ("github:acme/api#5", "title"),  # 03-03, #5 over #2
        "github:acme/api#23": ("github:acme/api#5", "title"),  # not acme/web's #7 of 03-03
    }  # #22: nothing merged before it
