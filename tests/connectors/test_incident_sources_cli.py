"""`scorecard sync` end to end: a config file pointing at a fake Jira (Cloud) and a fake PagerDuty (TLS),
tokens from the environment, and the MTTR, deflection and CSAT records that come out."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.connectors.jira.conftest import EMAIL, INCIDENT_JQL, TICKET_JQL, TOKEN, seed_incidents, seed_tickets
from tests.connectors.jira.fake_jira import FakeJira
from tests.connectors.loopback import self_signed_tls
from tests.connectors.pagerduty.conftest import API_KEY
from tests.connectors.pagerduty.conftest import seed as seed_pagerduty
from tests.connectors.pagerduty.fake_pagerduty import FakePagerDuty

runner = CliRunner()


@pytest.fixture
def sites(tmp_path, warehouse_url, monkeypatch):
    monkeypatch.setenv("TEST_JIRA_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("TEST_PD_KEY", API_KEY)
    context, cert = self_signed_tls(tmp_path)
    with FakeJira("cloud", email=EMAIL, token=TOKEN) as jira, FakePagerDuty(context, api_key=API_KEY) as pagerduty:
        seed_incidents(jira)
        seed_tickets(jira)
        seed_pagerduty(pagerduty)
        config = tmp_path / "scorecard.toml"
        config.write_text(f'''
[warehouse]
url = "{warehouse_url}"

[teams.platform]
services = ["Database"]

[jira]
server = "{jira.url}"
email_env = "TEST_JIRA_EMAIL"
token_env = "TEST_JIRA_TOKEN"

[jira.incidents]
jql = "{INCIDENT_JQL}"
started_field = "Incident start"
severity_field = "Severity"
team_field = "Team"
ai_field = "AI assisted"
teams_by_component = {{ Payments = "payments", Web = "web" }}

[jira.tickets]
jql = "{TICKET_JQL}"
channel_field = "Request Type"
csat_field = "Satisfaction"
channel_map = {{ "Get IT help" = "human", "Virtual agent" = "ai_bot", "Knowledge base" = "self_serve" }}

[pagerduty]
api_key_env = "TEST_PD_KEY"
base_url = "{pagerduty.url}"
ca_bundle = "{cert}"
start_date = 2026-01-01
service_teams = {{ PAYSVC1 = "payments" }}
''')

        def invoke(*args: str):
            return runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)

        yield invoke


def test_scorecard_sync_fills_incidents_and_tickets_for_mttr_and_deflection(sites):
    result = sites("sync")
    assert result.exit_code == 3, result.output  # partial: some records could not be read
    assert "jira: partial — incidents 4 new/0 updated, tickets 6 new/0 updated" in result.output
    assert "pagerduty: partial — incidents 5 new/0 updated" in result.output
    assert "records could not be read, e.g. jira:OPS-5" in result.output
    assert "'Fix my laptop' ×1" in result.output
    assert TOKEN not in result.output and API_KEY not in result.output

    result = sites("metrics", "--grain", "week", "--start", "2026-03-02", "--end", "2026-03-02", "--format", "json")
    assert result.exit_code == 0, result.output
    org = {(r["metric"], r["segment"]): r for r in json.loads(result.output) if r["team"] is None}
    # Incidents resolved that week: Jira 4, 1 and 6 h; PagerDuty 2, 0.5 and 3.5 h → 17/6 h;
    # median (2 + 3.5)/2 = 2.75; p90 at 0.9·5 = 4.5 → 4 + 0.5·(6 − 4) = 5.
    mttr = org["mttr_hours", "all"]
    assert (mttr["n"], mttr["value"], mttr["median"], mttr["p90"]) == (6, pytest.approx(17 / 6), 2.75, pytest.approx(5.0))
    # AI-assisted: only Jira's OPS-1 (4 h) and OPS-3 (6 h).
    assert org["mttr_hours", "ai"]["value"] == pytest.approx(5.0)
    # Deflection: 3 of 5 resolved tickets (two virtual-agent, one knowledge-base); CSAT (5 + 4 + 3)/3.
    assert (org["deflection_rate", "all"]["numerator"], org["deflection_rate", "all"]["n"]) == (3, 5)
    assert org["deflection_rate", "all"]["value"] == pytest.approx(0.6)
    assert org["csat", "all"]["value"] == pytest.approx(4.0)

    again = sites("sync", "--source", "jira")
    assert again.exit_code == 3, again.output  # HELP-6 still has an unreadable CSAT
    assert "jira: partial — tickets 0 new/0 updated" in again.output


def test_one_failing_source_does_not_block_the_other(sites, monkeypatch):
    monkeypatch.delenv("TEST_PD_KEY")
    result = sites("sync")
    assert result.exit_code == 1  # a failed source makes the command fail, after the others ran
    assert "jira: partial — incidents 4 new/0 updated, tickets 6 new/0 updated" in result.output
    assert "pagerduty: failed" in result.output and "$TEST_PD_KEY is not set" in result.output


def test_the_readme_examples_are_valid_configuration():
    import re
    import tomllib
    from pathlib import Path

    from config.load import parse_config
    from connectors.jira.mapping import check_stream_config

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", readme, re.S) if "[jira]" in b or "[pagerduty]" in b]
    assert len(blocks) == 2
    config = parse_config(tomllib.loads("\n".join(blocks)))
    assert config.jira.incidents.jql == "project = OPS AND issuetype = Incident"
    assert config.jira.tickets.channel_map["Virtual agent"] == "ai_bot"
    assert config.pagerduty.service_teams["PABC123"] == "payments"
    check_stream_config("incidents", config.jira.incidents)
    check_stream_config("tickets", config.jira.tickets)
