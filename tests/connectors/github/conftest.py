"""Fixtures for the GitHub connector tests: the fake server, a config pointing at it, and the worked
example of DESIGN.md served as GitHub would serve it."""
from __future__ import annotations

import dataclasses
import datetime as dt
from functools import partial

import pytest

from config import Config, RulesConfig
from config.model import GithubConfig, GithubCopilotConfig
from pipeline import run_source
from tests.connectors.github.fake_github import FakeGithub, deployment, pr

run_github = partial(run_source, source="github")  # run_github(warehouse, config, **test hooks)

TOKEN = "ghp_SCORECARDtestTOKEN0123456789abcdef"
TOKEN_ENV = "SCORECARD_TEST_GITHUB_TOKEN"
NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def fake():
    server = FakeGithub(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def token_env(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def github_config(fake: FakeGithub, **overrides) -> GithubConfig:
    """Realistic waits (1 s backoff, 60 s secondary limit): tests record them instead of sleeping."""
    base = GithubConfig(base_url=fake.base_url, token_env=TOKEN_ENV, repos=("acme/api",), max_retries=3,
                        backoff_seconds=1.0, secondary_wait_seconds=60.0, max_wait_seconds=120.0,
                        copilot=GithubCopilotConfig(enabled=False))
    return dataclasses.replace(base, **overrides)


def config_for_github(github: GithubConfig) -> Config:
    return Config(rules=RulesConfig(min_sample=1), github=github)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def sync(warehouse, fake, waits):
    """sync(**github overrides) → SyncReport, with waits recorded (never slept) and the clock at NOW."""
    def run(full: bool = False, progress=None, **overrides):
        config = config_for_github(github_config(fake, **overrides))
        return run_github(warehouse, config, full=full, progress=progress, sleeper=waits.append, now=NOW)
    return run


def serve_worked_example(fake: FakeGithub) -> None:
    """DESIGN.md's worked example in acme/api, each PR AI-assisted by a different signal, and a
    source-flagged rollback in acme/web.

    acme/api (production, all success): D1 a Mar 1 10:00, D2 b Mar 3, D3 c Mar 4 (its payload names #12
    and #13), D4 a Mar 5 (sha rule: rolls back D2 and D3), D5 d Mar 6 10:00, D6 d Mar 6 12:00; a staging
    deployment and a failed one that the metrics ignore. Superseded deployments' latest status is
    `inactive`, as GitHub sets it.
    acme/web: W1 x Mar 10, W2 y Mar 11, W3 z Mar 12 whose status says "Rollback to x": flagged, no
    earlier z, so it rolls back W2 (the one just before), which shipped web#5.
    """
    api = fake.repo("acme/api")
    api.prs = [
        pr(15, merged_at="2026-03-01 08:00", labels=["ai-assisted", "backend"]),
        pr(11, merged_at="2026-03-02 09:00", author="copilot-swe-agent"),
        pr(12, merged_at="2026-03-03 12:00",
           commits=["Add retries", "Tidy\n\nCo-authored-by: Claude <noreply@anthropic.com>"]),
        pr(13, merged_at="2026-03-04 09:00", body="Speeds up login.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)"),
        pr(14, merged_at="2026-03-05 09:30", merge_message="Fix cache key (#14)\n\nMade-with: Cursor"),
        pr(10, merged_at="2026-03-10 12:00", title="Add cache"),
        pr(16, merged_at="2026-03-20 12:00", title='Revert "Add cache"', body="Reverts acme/api#10"),
        pr(17, merged_at=None, closed_at="2026-03-21 10:00", title="Abandoned idea", labels=["ai-generated"]),
    ]

    def prod(n: int, sha: str, finished: str, superseded: str | None = None, **kw) -> dict:
        at = dt.datetime.fromisoformat(finished)
        statuses = [("IN_PROGRESS", (at - dt.timedelta(minutes=8)).isoformat(" "), ""), ("SUCCESS", finished, kw.pop("says", ""))]
        if superseded:
            statuses.append(("INACTIVE", superseded, ""))
        return deployment(n, sha=sha * 40, created_at=(at - dt.timedelta(minutes=10)).isoformat(" "), statuses=statuses, **kw)

    api.deployments = [
        prod(1, "a", "2026-03-01 10:00", "2026-03-03 10:00"),
        prod(2, "b", "2026-03-03 10:00", "2026-03-04 10:00"),
        prod(3, "c", "2026-03-04 10:00", "2026-03-05 10:00", payload={"pull_requests": [12, "#13"]}),
        prod(4, "a", "2026-03-05 10:00", "2026-03-06 10:00"),
        prod(5, "d", "2026-03-06 10:00", "2026-03-06 12:00"),
        prod(6, "d", "2026-03-06 12:00"),
        prod(7, "e", "2026-03-02 10:00", environment="staging"),
        deployment(8, sha="f" * 40, created_at="2026-03-07 10:00", statuses=[("FAILURE", "2026-03-07 10:05", "tests failed")]),
    ]
    web = fake.repo("acme/web")
    web.prs = [pr(6, merged_at="2026-03-09 12:00"), pr(5, merged_at="2026-03-10 12:00")]
    web.deployments = [
        prod(21, "x", "2026-03-10 10:00", "2026-03-11 10:00"),
        prod(22, "y", "2026-03-11 10:00", "2026-03-12 10:00"),
        prod(23, "z", "2026-03-12 10:00", says="Rollback to x after errors"),
    ]
