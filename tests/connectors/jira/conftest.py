"""A small Jira site for the connector tests: an incident project (OPS) and a Jira Service Management
desk (HELP), in the week of Monday 2026-03-02, with the numbers they must give worked out by hand."""
from __future__ import annotations

from typing import Any

import pytest

from config.load import parse_config
from tests.connectors.jira.fake_jira import FakeJira, jira_time

TOKEN = "jira-TEST-token-7f3a9c1e"
EMAIL = "scorecard-bot@acme.test"
INCIDENT_JQL = "project = OPS AND issuetype = Incident"
TICKET_JQL = "project = HELP"
START, SATISFACTION, REQUEST_TYPE = "customfield_10030", "customfield_10020", "customfield_10010"
SEVERITY, TEAM, AI = "customfield_10040", "customfield_10050", "customfield_10060"


def request_type(name: str) -> dict[str, Any]:
    """JSM's "Customer Request Type" value."""
    return {"_links": {"jiraRest": "https://acme.atlassian.net/rest/api/2/issue/1"},
            "requestType": {"id": "7", "name": name, "description": "", "serviceDeskId": "1"},
            "currentStatus": {"status": "Resolved"}}


def rating(score: int) -> dict[str, Any]:
    """JSM's satisfaction value."""
    return {"_links": {"self": "https://acme.atlassian.net/rest/servicedeskapi/request/1/feedback"}, "rating": score}


def seed_incidents(fake: FakeJira) -> None:
    """Resolved in the week: OPS-1 4 h (AI by label), OPS-2 1 h, OPS-3 6 h (AI by the explicit field);
    OPS-4 still open; OPS-5 unreadable (its `created` is not a date-time and it has no start)."""
    fake.query(INCIDENT_JQL, "OPS")
    fake.add("OPS-1", created="2026-03-02 09:00", updated="2026-03-02 12:31", resolved="2026-03-02 12:30",
             labels=["ai-assisted"], components=["Payments"],
             fields={START: jira_time("2026-03-02 08:30"), SEVERITY: {"value": "Sev 1", "id": "1"}})
    fake.add("OPS-2", created="2026-03-03 10:00", updated="2026-03-03 11:05", resolved="2026-03-03 11:00",
             components=["Web"], fields={SEVERITY: {"value": "Sev 3", "id": "3"}})
    fake.add("OPS-3", created="2026-03-04 10:00", updated="2026-03-04 16:02", resolved="2026-03-04 16:00",
             components=["Payments"], fields={TEAM: {"value": "checkout"}, AI: {"value": "Yes"}})
    fake.add("OPS-4", created="2026-03-05 10:00", updated="2026-03-05 10:30", status="In Progress",
             components=["Web"])
    fake.add("OPS-5", created=None, updated="2026-03-05 11:10", components=["Web"],
             fields={"created": "05/03/2026 11:00"})


def seed_tickets(fake: FakeJira) -> None:
    """Resolved in the week: HELP-1 human (CSAT 5), HELP-2 virtual agent (4), HELP-3 knowledge base,
    HELP-4 an unmapped request type (3, as a plain number), HELP-6 virtual agent with a rating of 9;
    HELP-5 still open."""
    fake.query(TICKET_JQL, "HELP")
    tickets = [
        ("HELP-1", "Get IT help", rating(5), "2026-03-03 10:00"),
        ("HELP-2", "Virtual agent", rating(4), "2026-03-04 09:00"),
        ("HELP-3", "Knowledge base", None, "2026-03-04 12:00"),
        ("HELP-4", "Fix my laptop", 3, "2026-03-05 10:00"),
        ("HELP-5", "Virtual agent", None, None),
        ("HELP-6", "Virtual agent", rating(9), "2026-03-06 10:00"),
    ]
    for n, (key, kind, score, resolved) in enumerate(tickets):
        fake.add(key, created=f"2026-03-02 {10 + n}:00", updated=(resolved or "2026-03-05 11:00")[:-2] + "01",
                 resolved=resolved, status="Resolved" if resolved else "Waiting for support",
                 fields={REQUEST_TYPE: request_type(kind), SATISFACTION: score})


def jira_config(fake: FakeJira, **overrides: Any):
    """The [jira] section a user of this site writes, as parsed from TOML."""
    raw = {
        "server": fake.url, "token_env": "TEST_JIRA_TOKEN", "page_size": 2,
        "max_retries": 3, "backoff_seconds": 0.25, "max_backoff_seconds": 1.0,
        "incidents": {
            "jql": INCIDENT_JQL, "started_field": "Incident start", "severity_field": "Severity",
            "team_field": "Team", "ai_field": "AI assisted",
            "teams_by_component": {"Payments": "payments", "Web": "web"},
        },
        "tickets": {
            "jql": TICKET_JQL, "channel_field": "Request Type", "csat_field": "Satisfaction",
            "channel_map": {"Get IT help": "human", "Virtual agent": "ai_bot", "Knowledge base": "self_serve"},
        },
    }
    if fake.flavour == "cloud":
        raw["email_env"] = "TEST_JIRA_EMAIL"
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        elif value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return parse_config({"jira": raw})


@pytest.fixture
def jira_env(monkeypatch):
    monkeypatch.setenv("TEST_JIRA_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_JIRA_EMAIL", EMAIL)


@pytest.fixture
def make_fake(jira_env):
    """`make_fake(flavour)`: a running fake Jira holding both projects."""
    fakes = []

    def make(flavour: str = "cloud", *, token: str = TOKEN, **kw) -> FakeJira:
        fake = FakeJira(flavour, email=EMAIL, token=token, **kw).__enter__()
        fakes.append(fake)
        seed_incidents(fake)
        seed_tickets(fake)
        return fake

    yield make
    for fake in fakes:
        fake.__exit__(None, None, None)
