"""A sync of DESIGN.md's worked example from the fake GitHub: the rows, every AI signal, and the
scorecard computed on what was synced (values worked out by hand), on SQLite and PostgreSQL."""
import datetime as dt
import json

import polars as pl
import pytest

from config import Config, RulesConfig
from config.model import GithubDeploymentsConfig
from metrics.linking import deployment_outcomes, pr_outcomes
from metrics.scorecard import compute, prepare
from reports.data import load_evidence
from tests.connectors.github.conftest import serve_worked_example
from tests.connectors.github.fake_github import workflow_run
from warehouse import read_table

ENVS = ("production", "prod")
MARCH = {"grain": "month", "start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 31)}


def by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["id"]: row for row in frame.iter_rows(named=True)}


def test_pull_requests_rows_and_every_ai_signal(warehouse, fake, sync):
    serve_worked_example(fake)
    report = sync(repos=("acme/api", "acme/web"))
    assert report.status == "success", report
    prs = by_id(read_table(warehouse, "pull_requests"))
    assert len(prs) == 10  # 8 in api (one closed unmerged), 2 in web
    signals = {pid: json.loads(row["ai_signals"]) for pid, row in prs.items() if row["repo"] == "acme/api"}
    assert signals == {
        "github:acme/api#15": ["label:ai-assisted"],
        "github:acme/api#11": ["author:copilot-swe-agent"],  # GraphQL names the bot without [bot]
        "github:acme/api#12": ["trailer:Co-authored-by: Claude <noreply@anthropic.com>"],
        "github:acme/api#13": ["marker:Generated with Claude Code"],
        "github:acme/api#14": ["marker:Made-with: Cursor"],  # in the squash merge commit's message
        "github:acme/api#10": [],
        "github:acme/api#16": [],
        "github:acme/api#17": ["label:ai-generated"],
    }
    assert {pid for pid, row in prs.items() if row["ai_assisted"]} == {
        "github:acme/api#15", "github:acme/api#11", "github:acme/api#12", "github:acme/api#13",
        "github:acme/api#14", "github:acme/api#17"}
    attribution = {pid: (json.loads(row["ai_tools"]), row["ai_mode"], row["ai_confidence"])
                   for pid, row in prs.items() if row["repo"] == "acme/api" and row["ai_assisted"]}
    assert attribution == {
        "github:acme/api#15": ([], "labelled", "medium"),
        "github:acme/api#11": (["GitHub Copilot"], "agent", "high"),
        "github:acme/api#12": (["Claude Code"], "co_authored", "high"),
        "github:acme/api#13": (["Claude Code"], "co_authored", "high"),
        "github:acme/api#14": (["Cursor"], "co_authored", "high"),
        "github:acme/api#17": ([], "labelled", "medium"),
    }

    p15 = prs["github:acme/api#15"]
    assert (p15["source"], p15["repo"], p15["number"], p15["author"]) == ("github", "acme/api", 15, "dev")
    assert p15["merged_at"] == dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone.utc)
    assert p15["created_at"] == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert p15["merge_commit_sha"] == "0015" + "a" * 36
    assert json.loads(p15["labels"]) == ["ai-assisted", "backend"]
    assert p15["url"] == "https://github.example/acme/pull/15"

    revert = prs["github:acme/api#16"]
    assert revert["is_revert"] is True
    assert json.loads(revert["revert_ref"]) == {"repo": "acme/api", "number": 10, "sha": None, "title": "Add cache"}
    closed = prs["github:acme/api#17"]  # closed without merging: kept, with no merge commit, never counted
    assert closed["merged_at"] is None and closed["merge_commit_sha"] is None and closed["is_revert"] is False
    assert closed["closed_at"] == dt.datetime(2026, 3, 21, 10, tzinfo=dt.timezone.utc)


def test_deployments_take_the_outcome_not_the_superseded_status(warehouse, fake, sync):
    serve_worked_example(fake)
    assert sync(repos=("acme/api", "acme/web")).status == "success"
    deps = by_id(read_table(warehouse, "deployments"))
    d1 = deps["github:acme/api/deployments/1"]
    # GitHub marked D1 inactive when D2 went live; its outcome is the success at 10:00.
    assert (d1["status"], d1["environment"], d1["sha"], d1["is_rollback"]) == ("success", "production", "a" * 40, None)
    assert d1["finished_at"] == dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)
    assert d1["url"] == "https://ci.example/1"
    assert deps["github:acme/api/deployments/7"]["environment"] == "staging"
    failed = deps["github:acme/api/deployments/8"]
    assert failed["status"] == "failure" and failed["finished_at"] == dt.datetime(2026, 3, 7, 10, 5, tzinfo=dt.timezone.utc)
    # GitHub's own spelling of the outcome is kept beside ours (GraphQL's enum).
    assert (d1["original_status"], failed["original_status"]) == ("SUCCESS", "FAILURE")
    assert deps["github:acme/web/deployments/23"]["is_rollback"] is True  # "Rollback to x" in its status
    assert sum(1 for d in deps.values() if d["is_rollback"]) == 1
    links = read_table(warehouse, "deployment_prs").sort("pr_id")
    assert links.select("deployment_id", "pr_id").rows() == [
        ("github:acme/api/deployments/3", "github:acme/api#12"), ("github:acme/api/deployments/3", "github:acme/api#13")]


def test_rollbacks_and_reverts_resolve_and_the_scorecard_matches_the_worked_example(warehouse, fake, sync):
    serve_worked_example(fake)
    assert sync(repos=("acme/api", "acme/web")).status == "success"
    evidence = load_evidence(warehouse)
    deps = by_id(deployment_outcomes(evidence, ENVS))
    d = lambda n: f"github:acme/api/deployments/{n}"  # noqa: E731
    # D4 redeploys sha a (T = D1) with D2 and D3 between: rolls back both. D6 redeploys the live sha.
    assert [i for i, r in deps.items() if r["rollback"]] == [d(4), "github:acme/web/deployments/23"]
    assert deps[d(4)]["rollback_rule"] == "sha" and deps[d(4)]["restores_deployment_id"] == d(1)
    assert deps[d(2)]["rolled_back_by"] == d(4) and deps[d(3)]["rolled_back_by"] == d(4)
    assert deps[d(1)]["rolled_back_by"] is None and deps[d(6)]["rollback"] is False
    assert deps["github:acme/web/deployments/22"]["rolled_back_by"] == "github:acme/web/deployments/23"

    out = {r["id"]: r for r in pr_outcomes(evidence, ENVS, 7).iter_rows(named=True)}
    p = lambda n: f"github:acme/api#{n}"  # noqa: E731
    assert {n: out[p(n)]["shipped_deployment_id"] for n in (15, 11, 12, 13, 14)} == {
        15: d(1), 11: d(2), 12: d(3), 13: d(3), 14: d(5)}
    assert out[p(16)]["reverts_pr_id"] == p(10)  # resolved by number; 10 days later: outside the window
    assert sorted(i for i, r in out.items() if r["rolled_back"]) == [
        p(11), p(12), p(13), "github:acme/web#5"]

    records = compute(prepare(evidence, Config(rules=RulesConfig(min_sample=1))), Config(rules=RulesConfig(min_sample=1)),
                      metrics=["rollback_share", "ai_merge_rate"], **MARCH)
    org = {(r["metric"], r["segment"]): r for r in records.filter(pl.col("team").is_null()).iter_rows(named=True)}
    # Merged in March: api #10–#16 (7) and web #5, #6 (2) = 9; rolled back: #11, #12, #13, web#5 = 4.
    assert (org[("rollback_share", "all")]["numerator"], org[("rollback_share", "all")]["denominator"]) == (4, 9)
    assert org[("rollback_share", "all")]["value"] == pytest.approx(4 / 9)
    # AI-assisted merged: #15, #11, #12, #13, #14 = 5, of which #11, #12, #13 rolled back.
    assert (org[("rollback_share", "ai")]["numerator"], org[("rollback_share", "ai")]["denominator"]) == (3, 5)
    assert (org[("rollback_share", "non_ai")]["numerator"], org[("rollback_share", "non_ai")]["denominator"]) == (1, 4)
    assert org[("ai_merge_rate", "all")]["value"] == pytest.approx(5 / 9)


def test_workflow_runs_as_deployments(warehouse, fake, sync):
    repo = fake.repo("acme/api")
    repo.runs = [
        workflow_run(101, sha="a" * 40, created_at="2026-03-01 10:00"),
        workflow_run(102, sha="b" * 40, created_at="2026-03-02 10:00", conclusion="failure"),
        workflow_run(103, sha="a" * 40, created_at="2026-03-03 10:00", name="Deploy", title="Rollback to a"),
        workflow_run(104, sha="c" * 40, created_at="2026-03-03 11:00", name="CI"),  # not a deploy workflow
        workflow_run(105, sha="d" * 40, created_at="2026-03-04 10:00", branch="feature"),
        workflow_run(106, sha="e" * 40, created_at="2026-03-05 10:00", prs=[7]),
        workflow_run(107, sha="f" * 40, created_at="2026-03-31 11:00", status="in_progress"),
    ]
    report = sync(deployments=GithubDeploymentsConfig(source="workflow_runs", workflow_branches=("main",)))
    assert report.status == "success", report
    deps = by_id(read_table(warehouse, "deployments"))
    run = lambda n: f"github:acme/api/actions/runs/{n}"  # noqa: E731
    assert sorted(deps) == sorted(run(n) for n in (101, 102, 103, 106, 107))
    assert deps[run(101)]["status"] == "success" and deps[run(102)]["status"] == "failure"
    assert deps[run(101)]["finished_at"] == dt.datetime(2026, 3, 1, 10, 10, tzinfo=dt.timezone.utc)
    assert deps[run(101)]["environment"] == "production" and deps[run(101)]["sha"] == "a" * 40
    assert deps[run(103)]["is_rollback"] is True and deps[run(101)]["is_rollback"] is None
    assert deps[run(107)]["status"] == "in_progress" and deps[run(107)]["finished_at"] is None
    assert (deps[run(102)]["original_status"], deps[run(107)]["original_status"]) == ("failure", "in_progress")
    assert read_table(warehouse, "deployment_prs").select("deployment_id", "pr_id").rows() == [
        (run(106), "github:acme/api#7")]


def test_repos_from_names_globs_and_exclusions(fake):
    from connectors.github.client import GithubClient
    from connectors.github.sync import resolve_repos
    from tests.connectors.github.conftest import TOKEN, github_config

    for name in ("acme/api", "acme/Pay-Core", "acme/pay-web", "acme/pay-old", "acme/pay-fork", "acme/sandbox", "other/lib"):
        fake.repo(name, fork=name.endswith("fork"), archived=name.endswith("old"))
    for n in range(120):  # more than a page of repos: followed through the Link header
        fake.repo(f"acme/svc-{n:03d}")
    cfg = github_config(fake, org="acme", repos=("pay-*", "acme/api", "other/lib", "svc-11*"),
                        exclude_repos=("pay-web",), include_archived=False)
    client = GithubClient(cfg, TOKEN)
    try:
        assert resolve_repos(client, cfg) == [
            "acme/api", "acme/Pay-Core", "acme/svc-110", "acme/svc-111", "acme/svc-112", "acme/svc-113",
            "acme/svc-114", "acme/svc-115", "acme/svc-116", "acme/svc-117", "acme/svc-118", "acme/svc-119", "other/lib"]
    finally:
        client.close()
    assert fake.calls("/orgs/acme/repos") == 2 and fake.calls() == 2  # only the owner of a glob is listed
