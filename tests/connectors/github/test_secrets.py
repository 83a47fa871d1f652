"""The token never reaches a log line, a message, the sync report or any warehouse table — even when
GitHub (here: the fake) echoes it back in error bodies."""
import datetime as dt
import logging

from config.model import GithubCopilotConfig, GithubDeploymentsConfig
from tests.connectors.github.conftest import TOKEN, serve_worked_example
from tests.connectors.github.fake_github import FakeCopilot, Fault, workflow_run
from warehouse import read_table
from warehouse.schema import TABLES

ECHO = '{"message": "request with {authorization} refused"}'


def everything_stored(warehouse) -> str:
    return "\n".join(read_table(warehouse, name).write_csv() for name in TABLES)


def test_token_absent_from_logs_report_and_every_table(warehouse, fake, sync, caplog):
    caplog.set_level(logging.DEBUG)  # PyGithub logs request and response bodies at DEBUG
    serve_worked_example(fake)
    fake.repo("acme/api").runs = [workflow_run(1, sha="1" * 40, created_at="2026-03-02 10:00")]
    fake.copilot["acme"] = FakeCopilot(seats=3, latest_end=dt.date(2026, 3, 29),
                                       days={dt.date(2026, 3, 29): {"daily_active_users": 2}})
    fake.faults += [
        Fault(r"/api/graphql", status=502),
        Fault(r"/api/graphql", status=403, headers={"Retry-After": "2"},
              body={"message": "You have exceeded a secondary rate limit."}),
        Fault(r"/actions/runs", status=404, body=ECHO),  # not retried: PyGithub logs this body
        Fault(r"/copilot/billing/seats", status=403, body=ECHO),  # ends up in a warning
    ]
    report = sync(repos=("acme/api", "acme/web", "acme/gone"), org="acme", copilot=GithubCopilotConfig(enabled=True),
                  deployments=GithubDeploymentsConfig(source="both"))
    assert report.status == "partial"
    warnings = "\n".join(report.warnings)
    assert "request with token *** refused" in warnings  # the echo was there to leak, and was masked
    assert "request with token *** refused" in caplog.text  # PyGithub's DEBUG line of the 404 body, masked
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(report) and TOKEN not in warnings
    stored = everything_stored(warehouse)
    assert "request with token *** refused" in stored  # sync_runs.detail keeps the (masked) warning
    assert TOKEN not in stored
    assert all(header is None for header in fake.download_auth)  # report downloads never carry it


def test_token_absent_when_the_sync_fails(warehouse, fake, sync, caplog):
    caplog.set_level(logging.DEBUG)
    fake.repo("acme/api")
    fake.faults.append(Fault(r"/api/graphql", status=401, body=ECHO))
    report = sync()
    assert report.status == "failed" and "request with token *** refused" in report.error
    assert TOKEN not in report.error and TOKEN not in caplog.text
    assert TOKEN not in everything_stored(warehouse)


def test_a_token_read_from_a_mounted_file_loses_its_newline(warehouse, fake, sync, monkeypatch):
    """A secret file ends in a newline; before, requests refused the header and its error quoted the
    token repr-escaped ('ghp_…\\n'), which redaction did not match."""
    from tests.connectors.github.conftest import TOKEN_ENV

    monkeypatch.setenv(TOKEN_ENV, TOKEN + "\n")
    serve_worked_example(fake)
    report = sync()
    assert report.status == "success", report.error


def test_a_token_with_a_line_break_inside_is_refused_by_name(warehouse, fake, sync, monkeypatch, caplog):
    from tests.connectors.github.conftest import TOKEN_ENV

    caplog.set_level(logging.DEBUG)
    broken = TOKEN[:10] + "\r\n" + TOKEN[10:]
    monkeypatch.setenv(TOKEN_ENV, broken)
    report = sync()
    assert report.status == "failed"
    assert f"${TOKEN_ENV} contains a line break" in report.error
    shapes = [TOKEN[:10], TOKEN[10:], repr(broken)[1:-1]]
    stored = everything_stored(warehouse)
    assert not [s for s in shapes if s in report.error or s in caplog.text or s in stored]
