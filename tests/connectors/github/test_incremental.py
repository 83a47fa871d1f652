"""What a sync costs in HTTP calls, what a rerun reads, and that a killed sync loses and doubles nothing."""
import datetime as dt
from functools import partial

import pytest
import sqlalchemy as sa

from config.model import GithubDeploymentsConfig
from connectors.github.client import GithubClient
from connectors.github.sync import GithubSync
from pipeline.runner import drain, run_source
from tests.connectors.github.conftest import NOW, TOKEN, config_for_github, github_config
from tests.connectors.github.fake_github import Fault, deployment, pr, workflow_run
from warehouse import read_table
from warehouse.schema import sync_runs
from warehouse.runs import cursors_of

run_github = partial(run_source, source="github")  # run_github(warehouse, config, **test hooks)


def serve_big_repo(fake, name: str = "acme/big", n: int = 1000) -> None:
    """`n` merged PRs, one updated per minute, with two commits each, and three deployments."""
    repo = fake.repo(name)
    repo.prs = [pr(i, merged_at=f"2026-02-{1 + i // 60 % 28:02d} {i // 60 % 24:02d}:{i % 60:02d}",
                   updated_at=f"2026-03-{1 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}",
                   commits=("Work", "More work"), labels=["ai-assisted"] if i % 4 == 0 else [])
                for i in range(1, n + 1)]
    repo.deployments = [deployment(k, sha=str(k) * 40, created_at=f"2026-03-0{k} 09:00") for k in (1, 2, 3)]


def test_full_sync_of_1000_prs_costs_10_calls_and_a_rerun_1(sqlite_warehouse, fake, waits):
    serve_big_repo(fake)
    config = config_for_github(github_config(fake, repos=("acme/big",)))
    report = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert report.status == "success", report
    prs = read_table(sqlite_warehouse, "pull_requests", ["id", "ai_assisted"])
    assert prs.height == 1000 and prs["id"].n_unique() == 1000
    assert prs["ai_assisted"].sum() == 250
    assert read_table(sqlite_warehouse, "deployments").height == 3
    # 1,000 PRs at 100 per GraphQL call = 10 calls; the deployments ride along in the first one.
    assert fake.calls() == 10 == report.stats["calls"]
    assert fake.calls() / 1000 <= 0.02

    fake.reset_calls()
    rerun = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert rerun.status == "success" and rerun.rows == 0
    assert fake.calls() == 1 == rerun.stats["calls"]  # one page, already at the cursor
    assert waits == []


def test_no_change_rerun_costs_at_most_two_calls_per_repo(sqlite_warehouse, fake, waits):
    for name in ("acme/api", "acme/web", "acme/ops"):
        serve_big_repo(fake, name, n=150)
        fake.repo(name).runs = [workflow_run(7, sha="7" * 40, created_at="2026-03-05 10:00")]
    config = config_for_github(github_config(fake, org="acme", repos=(), deployments=GithubDeploymentsConfig(source="both")))
    first = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert first.status == "success", first
    # 1 repo listing + per repo: 2 GraphQL pages (150 PRs) + 1 workflow-runs page.
    assert fake.calls() == 1 + 3 * 3
    fake.reset_calls()
    rerun = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert rerun.rows == 0
    assert fake.calls("/orgs/acme/repos") == 1
    assert fake.calls() - 1 == 2 * 3  # per repo: one GraphQL call (PRs + deployments), one runs page


def test_rerun_reads_only_what_changed(sqlite_warehouse, fake, waits):
    serve_big_repo(fake, n=300)
    config = config_for_github(github_config(fake, repos=("acme/big",)))
    run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    repo = fake.repo("acme/big")
    repo.prs.append(pr(301, merged_at="2026-03-30 10:00", updated_at="2026-03-30 10:00", author="devin-ai-integration"))
    relabelled = next(p for p in repo.prs if p["number"] == 7)
    relabelled["labels"]["nodes"].append({"name": "copilot"})
    relabelled["updatedAt"] = "2026-03-30 11:00".replace(" ", "T") + ":00Z"
    fake.reset_calls()
    report = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert fake.calls() == 1
    counts = report.tables["pull_requests"]
    # #301 new, #7 updated; the PR at the old cursor is read again and found unchanged.
    assert (counts.inserted, counts.updated) == (1, 1)
    prs = {r["id"]: r for r in read_table(sqlite_warehouse, "pull_requests").iter_rows(named=True)}
    assert prs["github:acme/big#7"]["ai_assisted"] is True and '"label:copilot"' in prs["github:acme/big#7"]["ai_signals"]
    assert prs["github:acme/big#301"]["ai_signals"] == '["author:devin-ai-integration"]'


def test_killed_sync_resumes_where_it_stopped_and_doubles_nothing(warehouse, fake, waits):
    serve_big_repo(fake)
    config = config_for_github(github_config(fake, repos=("acme/big",)))

    def killed_after(batches, n: int):
        for i, batch in enumerate(batches):
            if i == n:
                raise KeyboardInterrupt  # as if the process were killed here
            yield batch

    client = GithubClient(config.github, TOKEN, sleeper=waits.append)
    sync = GithubSync(config, client, cursors_of(warehouse, "github"), full=False, now=NOW, stats={})
    with pytest.raises(KeyboardInterrupt):
        # batch 0 says how many repos; batches 1-3 are PR pages 1-3, committed with their checkpoints.
        drain(warehouse, "github", killed_after(sync.batches(), 4), secrets=[TOKEN])
    client.close()
    assert read_table(warehouse, "pull_requests", ["id"]).height == 300
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sync_runs.c.status)).scalars().all() == ["running"]  # killed mid-run

    fake.reset_calls()
    report = run_github(warehouse, config, sleeper=waits.append, now=NOW)
    assert report.status == "success", report
    assert fake.calls() == 7  # pages 4-10 only: the pass went on from its checkpoint
    prs = read_table(warehouse, "pull_requests", ["id"])
    assert prs.height == 1000 and prs["id"].n_unique() == 1000
    assert report.tables["pull_requests"].inserted == 700
    fake.reset_calls()
    assert run_github(warehouse, config, sleeper=waits.append, now=NOW).rows == 0
    assert fake.calls() == 1


def test_a_repo_failing_mid_pass_is_reported_and_the_rerun_completes_it(warehouse, fake, waits):
    serve_big_repo(fake)
    fake.repo("acme/small").prs = [pr(1, merged_at="2026-03-01 10:00")]
    # acme/big's 4th page keeps answering 502: retried 3 times with 1, 2, 4 s pauses, then given up.
    fake.faults.append(Fault(r"/api/graphql", status=502, times=4, skip=3, body_contains='"name": "big"'))
    config = config_for_github(github_config(fake, repos=("acme/big", "acme/small")))
    report = run_github(warehouse, config, sleeper=waits.append, now=NOW)
    assert report.status == "partial"
    assert len(report.warnings) == 1 and report.warnings[0].startswith("acme/big: GitHub kept failing after retries")
    assert waits == [1.0, 2.0, 4.0]  # PyGithub's default would retry at once, ten times
    assert report.stats["retries"] == 3
    ids = read_table(warehouse, "pull_requests", ["id"])["id"].to_list()
    assert len([i for i in ids if i.startswith("github:acme/big#")]) == 300
    assert "github:acme/small#1" in ids  # the other repo still synced

    fake.reset_calls()
    again = run_github(warehouse, config, sleeper=waits.append, now=NOW)
    assert again.status == "success" and again.tables["pull_requests"].inserted == 700
    assert fake.calls() == 7 + 1
    assert read_table(warehouse, "pull_requests", ["id"]).height == 1001


def test_full_resync_reads_everything_again_and_changes_nothing(sqlite_warehouse, fake, waits):
    serve_big_repo(fake, n=250)
    config = config_for_github(github_config(fake, repos=("acme/big",)))
    run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    fake.reset_calls()
    report = run_github(sqlite_warehouse, config, full=True, sleeper=waits.append, now=NOW)
    assert fake.calls() == 3 and report.rows == 0
    assert report.tables["pull_requests"].unchanged == 250


def test_since_bounds_the_first_sync(sqlite_warehouse, fake, waits):
    serve_big_repo(fake, n=300)  # updated 2026-03-01 00:01 .. 2026-03-01 04:59
    config = config_for_github(github_config(fake, repos=("acme/big",), since=dt.date(2026, 3, 2)))
    fake.repo("acme/big").prs.append(pr(999, merged_at="2026-03-02 10:00", updated_at="2026-03-02 10:00"))
    report = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert report.tables["pull_requests"].inserted == 1 and fake.calls() == 1


def test_progress_reports_repo_items_calls_and_rate_limit(sqlite_warehouse, fake, waits):
    serve_big_repo(fake, n=150)
    lines = []

    class Recorder:
        def update(self, done, total, message):
            lines.append((done, total, message))

    config = config_for_github(github_config(fake, repos=("acme/big",)))
    run_github(sqlite_warehouse, config, progress=Recorder(), sleeper=waits.append, now=NOW)
    assert lines[0] == (0, 1, "GitHub: 1 repos to sync")
    assert lines[-2][:2] == (0, 1) and lines[-2][2].startswith("GitHub acme/big (1 of 1): 150 PRs, 3 deployments · 2 calls · ")
    assert "GraphQL points left" in lines[-2][2]
    assert lines[-1][:2] == (1, 1)


def test_a_saved_page_position_github_rejects_restarts_the_pass(sqlite_warehouse, fake, waits):
    from warehouse.runs import set_cursor

    serve_big_repo(fake, n=250)
    set_cursor(sqlite_warehouse, "github", "pull_requests:acme/big",
               '{"watermark": null, "resume": {"floor": null, "high": null, "after": "bm90IGEgY3Vyc29y", "pending": null}}')
    config = config_for_github(github_config(fake, repos=("acme/big",)))
    report = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert report.status == "success" and report.tables["pull_requests"].inserted == 250
    assert fake.calls() == 1 + 3  # the rejected page, then the three pages from the top


def test_workflow_runs_are_read_down_to_the_cursor(sqlite_warehouse, fake, waits):
    repo = fake.repo("acme/api")
    repo.runs = [workflow_run(n, sha=f"{n:040d}", created_at=f"2026-03-{1 + n // 24:02d} {n % 24:02d}:00",
                              name="Deploy" if n % 5 == 0 else "CI") for n in range(1, 251)]
    config = config_for_github(github_config(fake, deployments=GithubDeploymentsConfig(source="workflow_runs")))
    first = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert first.tables["deployments"].inserted == 50  # runs of the Deploy workflow only
    assert fake.calls("/actions/runs") == 3  # 250 runs, 100 a page
    fake.reset_calls()
    repo.runs.append(workflow_run(251, sha="f" * 40, created_at="2026-03-30 10:00"))
    again = run_github(sqlite_warehouse, config, sleeper=waits.append, now=NOW)
    assert again.tables["deployments"].inserted == 1
    assert fake.calls() == 2  # the GraphQL call for PRs, one page of runs
