"""Rate limits, server errors, unreadable records, missing permissions and bad setup: every one is
retried within bounds or reported clearly, and never stops the other repos."""
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from config import Config
from config.model import GithubCopilotConfig, GithubDeploymentsConfig
from tests.connectors.github.conftest import TOKEN_ENV
from tests.connectors.github.fake_github import FakeCopilot, Fault, deployment, pr, workflow_run
from warehouse import read_table
from warehouse.schema import sync_runs

SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
             "documentation_url": "https://docs.github.com/rest"}


@pytest.fixture
def warehouse(sqlite_warehouse):
    """These behaviours do not depend on the backend: SQLite only, to keep the suite fast."""
    return sqlite_warehouse


def epoch_in(seconds: int) -> str:
    return str(int(dt.datetime.now(dt.timezone.utc).timestamp()) + seconds)


@pytest.fixture
def api(fake):
    repo = fake.repo("acme/api")
    repo.prs = [pr(1, merged_at="2026-03-01 10:00"), pr(2, merged_at="2026-03-02 10:00")]
    repo.runs = [workflow_run(5, sha="5" * 40, created_at="2026-03-02 11:00")]
    return repo


def test_server_errors_are_retried_with_backoff(warehouse, fake, api, sync, waits):
    fake.faults.append(Fault(r"/api/graphql", status=502, times=2))
    report = sync()
    assert report.status == "success" and report.tables["pull_requests"].inserted == 2
    assert waits == [1.0, 2.0] and report.stats["retries"] == 2
    assert fake.calls() == 3 == report.stats["calls"]


def test_secondary_rate_limit_waits_for_retry_after(warehouse, fake, api, sync, waits):
    fake.faults.append(Fault(r"/api/graphql", status=403, headers={"Retry-After": "7"}, body=SECONDARY))
    report = sync()
    assert report.status == "success" and waits == [7.0]
    assert report.stats["waited_seconds"] == 7


def test_secondary_rate_limit_without_retry_after_waits_the_configured_minute(warehouse, fake, api, sync, waits):
    fake.faults.append(Fault(r"/api/graphql", status=403, body=SECONDARY))
    assert sync().status == "success"
    assert waits == [60.0]


def test_primary_rate_limit_waits_until_the_reset(warehouse, fake, api, sync, waits):
    fake.faults.append(Fault(r"/actions/runs", status=403, body={"message": "API rate limit exceeded for user ID 1."},
                             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch_in(30)}))
    report = sync(deployments=GithubDeploymentsConfig(source="workflow_runs"))
    assert report.status == "success" and report.tables["deployments"].inserted == 1
    assert len(waits) == 1 and 29 <= waits[0] <= 32  # until the reset, plus a second


def test_429_with_a_spent_limit_waits_until_the_reset(warehouse, fake, api, sync, waits):
    fake.faults.append(Fault(r"/api/graphql", status=429, body={"message": "Too many requests"},
                             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch_in(10)}))
    assert sync().status == "success"
    assert len(waits) == 1 and 9 <= waits[0] <= 12


def test_graphql_rate_limited_error_waits_until_the_reset(warehouse, fake, api, sync, waits):
    # GraphQL says "rate limited" with HTTP 200 and an error, not a 403.
    fake.faults.append(Fault(r"/api/graphql", status=200, graphql_errors=[
        {"type": "RATE_LIMITED", "message": "API rate limit already exceeded for user ID 1."}],
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch_in(20)}))
    report = sync()
    assert report.status == "success" and report.tables["pull_requests"].inserted == 2
    assert len(waits) == 1 and 19 <= waits[0] <= 22


def test_a_wait_beyond_the_bound_stops_the_sync_with_a_message(warehouse, fake, api, sync, waits):
    fake.repo("acme/web").prs = [pr(9, merged_at="2026-03-01 10:00")]
    fake.faults.append(Fault(r"/api/graphql", status=403, headers={"Retry-After": "3600"}, body=SECONDARY,
                             body_contains='"name": "web"'))
    report = sync(repos=("acme/api", "acme/web", "acme/zzz"))
    assert report.status == "partial" and waits == []
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert "GitHub asks to wait 3600 s, more than max_wait_seconds = 120" in warning
    assert "run the sync again after" in warning and "Stopped at acme/web (2 of 3 repos)" in warning
    assert report.tables["pull_requests"].inserted == 2  # acme/api was done before the stop
    assert fake.calls(r"graphql") == 2  # acme/zzz was not tried


def test_primary_limit_beyond_the_bound_stops_the_sync(warehouse, fake, api, sync, waits):
    fake.faults.append(Fault(r"/actions/runs", status=403, body={"message": "API rate limit exceeded for user ID 1."},
                             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": epoch_in(3000)}))
    report = sync(deployments=GithubDeploymentsConfig(source="both"))
    assert report.status == "partial" and waits == []
    assert "more than max_wait_seconds = 120" in report.warnings[0]


def test_a_missing_repo_is_reported_and_the_others_sync(warehouse, fake, api, sync):
    report = sync(repos=("acme/gone", "acme/api"))
    assert report.status == "partial"
    assert report.warnings == [
        "acme/gone: GitHub HTTP 404: Could not resolve to a Repository with the name 'acme/gone'. "
        "(not found, or the token cannot see it)"]
    assert report.tables["pull_requests"].inserted == 2
    with warehouse.engine.connect() as conn:
        row = conn.execute(sa.select(sync_runs.c.status, sync_runs.c.detail)).one()
    assert row.status == "partial" and "acme/gone" in json.loads(row.detail)["warnings"][0]


def test_unreadable_records_are_rejected_with_their_ids(warehouse, fake, api, sync):
    bad_pr = pr(3, merged_at="2026-03-03 10:00")
    bad_pr["createdAt"] = "yesterday"
    no_number = pr(4, merged_at="2026-03-03 11:00")
    del no_number["number"]
    bad_deploy = deployment(9, sha="9" * 40, created_at="2026-03-03 09:00")
    del bad_deploy["commitOid"]
    api.prs += [bad_pr, no_number]
    api.deployments = [bad_deploy, deployment(10, sha="1" * 40, created_at="2026-03-04 09:00")]
    report = sync()
    assert report.status == "partial"
    assert {(r.stream, r.record_id, r.reason) for r in report.rejected} == {
        ("pull_requests", "github:acme/api#3", "createdAt is not a timestamp: 'yesterday'"),
        ("pull_requests", "github:acme/api node PR_node4", "no PR number"),
        ("deployments", "github:acme/api/deployments/9", "no commitOid"),
    }
    assert report.tables["pull_requests"].inserted == 2 and report.tables["deployments"].inserted == 1
    with warehouse.engine.connect() as conn:
        detail = json.loads(conn.execute(sa.select(sync_runs.c.detail)).scalar_one())
    assert detail["rejected_count"] == 3
    assert {"stream": "pull_requests", "record_id": "github:acme/api#3",
            "reason": "createdAt is not a timestamp: 'yesterday'"} in detail["rejected"]


def test_bad_credentials_fail_the_sync(warehouse, fake, api, monkeypatch, sync):
    monkeypatch.setenv(TOKEN_ENV, "ghp_wrong")
    report = sync(repos=("acme/api", "acme/web"))
    assert report.status == "failed"
    assert "401" in report.error and "Bad credentials" in report.error and "invalid or expired" in report.error
    assert fake.calls() == 1  # not tried again for every repo


def test_missing_token_fails_with_the_variable_name(warehouse, fake, monkeypatch, sync):
    monkeypatch.delenv(TOKEN_ENV)
    report = sync()
    assert report.status == "failed" and f"${TOKEN_ENV} is not set" in report.error
    assert fake.calls() == 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"repos": (), "org": ""}, "[github] org / repos: set an org"),
    ({"repos": ("api",)}, "[github] repos: 'api' has no owner"),
    ({"deployments": GithubDeploymentsConfig(source="deploys")}, "[github] deployments.source: must be one of"),
    ({"deployments": GithubDeploymentsConfig(rollback_pattern="(")}, "[github] deployments.rollback_pattern: not a valid"),
    ({"page_size": 500}, "[github] page_size: must be 1–100"),
])
def test_setup_errors_name_the_key(warehouse, fake, sync, overrides, message):
    report = sync(**overrides)
    assert report.status == "failed" and message in report.error
    assert fake.calls() == 0


def test_workflow_environment_outside_production_is_a_warning(warehouse, fake, api, sync):
    report = sync(deployments=GithubDeploymentsConfig(source="workflow_runs", workflow_environment="live"))
    assert report.status == "partial"
    assert "workflow_environment 'live' is not in [rules] production_environments" in report.warnings[0]


def test_copilot_adoption_from_seats_and_usage_reports(warehouse, fake, api, sync):
    days = {dt.date(2026, 3, d): {"daily_active_users": d, "code_generation_activity_count": 10 * d,
                                  "code_acceptance_activity_count": 3 * d,
                                  "pull_requests": {"total_created_by_copilot": d % 3}} for d in range(1, 30)}
    days[dt.date(2026, 2, 20)] = {"daily_active_users": 2}
    fake.copilot["acme"] = FakeCopilot(seats=40, days=days, latest_end=dt.date(2026, 3, 29))
    copilot = GithubCopilotConfig(enabled=True)
    report = sync(org="acme", copilot=copilot, since=dt.date(2026, 2, 15))
    assert report.status == "success", report
    usage = {r["date"]: r for r in read_table(warehouse, "ai_usage").iter_rows(named=True)}
    assert usage[dt.date(2026, 3, 31)]["seats"] == 40  # today's snapshot
    mar10 = usage[dt.date(2026, 3, 10)]
    assert (mar10["active_users"], mar10["suggestions"], mar10["acceptances"], mar10["prs_created_by_agent"]) == (10, 100, 30, 1)
    assert (mar10["tool"], mar10["team"], mar10["id"]) == ("github-copilot", None, "github:copilot:acme:2026-03-10")
    # The 28-day report covers Mar 2-29; Feb 15 - Mar 1 came from daily reports (only Feb 20 and Mar 1 exist).
    assert usage[dt.date(2026, 2, 20)]["active_users"] == 2 and usage[dt.date(2026, 3, 1)]["active_users"] == 1
    assert len(usage) == 29 + 1 + 1
    assert fake.download_auth and all(h is None for h in fake.download_auth)  # signed links: no token sent

    fake.reset_calls()
    again = sync(org="acme", copilot=copilot, since=dt.date(2026, 2, 15))
    assert again.rows == 0 and fake.calls("copilot") == 0 and fake.calls("downloads") == 0  # once a day


def test_copilot_without_permission_is_a_warning_not_a_failure(warehouse, fake, api, sync):
    fake.copilot["acme"] = FakeCopilot(status=403)
    report = sync(org="acme", copilot=GithubCopilotConfig(enabled=True))
    assert report.status == "partial" and report.error is None
    assert report.tables["pull_requests"].inserted == 2
    assert len(report.warnings) == 2
    assert report.warnings[0].startswith("Copilot seats for acme left out: the token may not read them")
    assert "'GitHub Copilot Business' (read)" in report.warnings[0]
    assert "'Organization Copilot metrics' (read)" in report.warnings[1]


def test_copilot_not_available_for_the_org_is_a_warning(warehouse, fake, api, sync):
    report = sync(org="acme", copilot=GithubCopilotConfig(enabled=True, usage_metrics=False))
    assert report.status == "partial"
    assert report.warnings == ["Copilot seats for acme left out: GitHub has none for this org (404; no Copilot plan, "
                               "reports not enabled by the 'Copilot usage metrics' policy, or the token cannot see the org)"]


def test_a_stuck_deployment_holds_the_cursor_until_it_finishes(warehouse, fake, api, sync):
    api.deployments = [deployment(1, sha="1" * 40, created_at="2026-03-31 11:00", statuses=[("IN_PROGRESS", None, "")]),
                       deployment(2, sha="2" * 40, created_at="2026-03-31 11:30")]
    sync()
    assert {r["id"][-1]: r["status"] for r in read_table(warehouse, "deployments").iter_rows(named=True)} == {
        "1": "in_progress", "2": "success"}
    api.deployments[0] = deployment(1, sha="1" * 40, created_at="2026-03-31 11:00", statuses=[("SUCCESS", None, "")])
    report = sync()
    assert report.tables["deployments"].updated == 1
    assert read_table(warehouse, "deployments")["status"].to_list() == ["success", "success"]


def test_config_is_read_from_toml(tmp_path):
    from config.load import load_config

    path = tmp_path / "scorecard.toml"
    path.write_text('[github]\norg = "acme"\nrepos = ["pay-*", "acme/api"]\nsince = 2025-01-01\n'
                    '[github.deployments]\nsource = "both"\nenvironments = ["production"]\n'
                    '[github.copilot]\nseats = false\n')
    cfg = load_config(path).github
    assert (cfg.org, cfg.repos, cfg.since) == ("acme", ("pay-*", "acme/api"), dt.date(2025, 1, 1))
    assert (cfg.deployments.source, cfg.deployments.environments, cfg.copilot.seats) == ("both", ("production",), False)
    assert isinstance(load_config(path), Config)


def test_readme_example_config_is_valid():
    import re
    import tomllib
    from pathlib import Path

    from config.load import parse_config
    from connectors.github.sync import check_config

    readme = Path(__file__).resolve().parents[3] / "README.md"
    block = next(b for b in re.findall(r"```toml\n(.*?)```", readme.read_text(encoding="utf-8"), re.S) if "[github]" in b)
    cfg = parse_config(tomllib.loads(block)).github
    check_config(cfg)
    assert re.search(cfg.deployments.rollback_pattern, "Rolled back to v1.2")
    assert (cfg.org, cfg.repos, cfg.deployments.workflow_branches) == ("acme", ("api", "pay-*", "acme/web"), ("main",))
