"""A small PagerDuty account for the connector tests, served over TLS with a certificate made per test
session, in the week of Monday 2026-03-02."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from config.load import parse_config
from tests.connectors.loopback import self_signed_tls
from tests.connectors.pagerduty.fake_pagerduty import FakePagerDuty

API_KEY = "pd-TEST-key-u+w9Zq3xY2"
NOW = dt.datetime(2026, 3, 10, tzinfo=dt.timezone.utc)
PAYMENTS, WEB, DATABASE = ("PAYSVC1", "Payments API"), ("WEBSVC2", "Web frontend"), ("DBSVC3", "Database")


def seed(fake: FakePagerDuty) -> None:
    """Resolved in the week: Q1 2 h (Payments → payments), Q2 30 min (Web, PagerDuty team "web"),
    Q3 3.5 h (Database: no team anywhere but [teams.platform] services); Q4 still open; Q5 unreadable;
    Q6 in February."""
    fake.add("Q6", created="2026-02-10 09:00", resolved="2026-02-10 10:00", service=PAYMENTS, priority="P2")
    fake.add("Q1", created="2026-03-02 10:00", resolved="2026-03-02 12:00", service=PAYMENTS, teams=("Payments Team",),
             priority="P1")
    fake.add("Q2", created="2026-03-03 08:00", resolved="2026-03-03 08:30", service=WEB, teams=("web",), urgency="low",
             priority="P3")
    fake.add("Q3", created="2026-03-04 10:00", resolved="2026-03-04 13:30", service=DATABASE, priority="P1")
    fake.add("Q4", created="2026-03-05 10:00", service=WEB, status="acknowledged")
    fake.add("Q5", created="2026-03-05 11:00", service=WEB, created_at="yesterday")


def pd_config(fake: FakePagerDuty, cert, **overrides: Any):
    raw = {
        "pagerduty": {
            "api_key_env": "TEST_PD_KEY", "base_url": fake.url, "ca_bundle": str(cert),
            "start_date": "2026-01-01", "page_size": 2, "max_retries": 3, "backoff_seconds": 0,
            "service_teams": {"PAYSVC1": "payments"}, "severity_by_urgency": {"high": "sev1", "low": "sev3"},
            **overrides,
        },
        "teams": {"platform": {"services": ["Database"]}},
    }
    return parse_config(raw)


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    return self_signed_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def pd_env(monkeypatch):
    monkeypatch.setenv("TEST_PD_KEY", API_KEY)


@pytest.fixture
def fake_pd(tls, pd_env):
    context, _ = tls
    with FakePagerDuty(context, api_key=API_KEY) as fake:
        seed(fake)
        yield fake


@pytest.fixture
def cert(tls):
    return tls[1]
