"""The PagerDuty API key never reaches logs, the report or the warehouse."""
from __future__ import annotations

from functools import partial
import logging

from pipeline import run_source
from tests.connectors.hygiene import assert_nowhere, everything_written
from tests.connectors.pagerduty.conftest import API_KEY, NOW, pd_config

run = partial(run_source, source="pagerduty")  # run(warehouse, config, **test hooks)


def test_the_key_is_nowhere_after_a_sync_with_faults(fake_pd, cert, sqlite_warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    fake_pd.fail(429, retry_after="0")
    fake_pd.fail(500)
    report = run(sqlite_warehouse, pd_config(fake_pd, cert), now=NOW, sleep=lambda s: None)
    assert report.tables["incidents"].inserted == 5
    assert_nowhere([API_KEY], logs=caplog.text, report=repr(report), warehouse=everything_written(sqlite_warehouse))


def test_a_rejected_key_is_not_repeated(fake_pd, cert, sqlite_warehouse, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    wrong = "pd-WRONG-key-77e1f0"
    monkeypatch.setenv("TEST_PD_KEY", wrong)
    report = run(sqlite_warehouse, pd_config(fake_pd, cert), now=NOW)
    assert report.status == "failed"
    assert report.error == "PagerDutyError: GET /incidents: PagerDuty rejected the API key (HTTP 401)"
    assert fake_pd.requests[0].headers["authorization"] == f"Token token={wrong}"
    # Not even the tail the client library prints to identify a key.
    assert_nowhere([wrong, wrong[-4:]], logs=caplog.text, report=repr(report),
                   warehouse=everything_written(sqlite_warehouse))
