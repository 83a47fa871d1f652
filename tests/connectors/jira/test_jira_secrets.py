"""The Jira token (and the basic-auth header made from it) never reaches logs, the report or the
warehouse: not on success, not on retries, not when Jira rejects it and echoes it back."""
from __future__ import annotations

import base64
from functools import partial
import logging

import pytest

from pipeline import run_source
from tests.connectors.hygiene import assert_nowhere, everything_written
from tests.connectors.jira.conftest import EMAIL, TOKEN, jira_config

run = partial(run_source, source="jira")  # run(warehouse, config, **test hooks)


def header(email: str, token: str) -> str:
    return base64.b64encode(f"{email}:{token}".encode()).decode()


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_the_token_is_nowhere_after_a_sync_with_faults(make_fake, sqlite_warehouse, caplog, flavour):
    caplog.set_level(logging.DEBUG)
    fake = make_fake(flavour)
    fake.fail("/search", 429, retry_after="0")
    fake.fail("/search", 503)
    report = run(sqlite_warehouse, jira_config(fake), sleep=lambda s: None)
    assert report.tables["incidents"].inserted == 4
    assert_nowhere([TOKEN, header(EMAIL, TOKEN)], logs=caplog.text, report=repr(report),
                   warehouse=everything_written(sqlite_warehouse))


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_a_rejected_token_echoed_by_the_server_is_not_repeated(make_fake, sqlite_warehouse, caplog,
                                                               monkeypatch, flavour):
    caplog.set_level(logging.DEBUG)
    fake = make_fake(flavour)
    wrong = "jira-WRONG-token-0c4b2d"
    monkeypatch.setenv("TEST_JIRA_TOKEN", wrong)
    report = run(sqlite_warehouse, jira_config(fake), sleep=lambda s: None)
    assert report.status == "failed" and "Jira rejected the credentials (HTTP 401)" in report.error
    # The fake did receive it, and answered with it in the body.
    assert any(wrong in r.headers.get("authorization", "") or header(EMAIL, wrong) in r.headers.get("authorization", "")
               for r in fake.requests)
    assert_nowhere([wrong, header(EMAIL, wrong)], logs=caplog.text, report=repr(report),
                   warehouse=everything_written(sqlite_warehouse))


def four_shapes(email: str, token: str) -> dict[str, str]:
    from urllib.parse import quote

    return {"raw": token, "repr-escaped": repr(token + "\n")[1:-1], "URL-encoded": quote(token, safe=""),
            "base64 user:token": header(email, token)}


@pytest.mark.parametrize("status", [503, 400])
def test_a_server_echoing_the_token_in_four_shapes_leaks_none_of_them(make_fake, warehouse, caplog, monkeypatch,
                                                                      status):
    """The token (here with the characters URL encoding changes, read from a secret file that ends in a
    newline) comes back in a 503 body (retried: the retry helper logs it) and in a 400 (the sync's error)
    in all four shapes; none of them is in the logs, the report or the warehouse."""
    from tests.connectors.jira.fake_jira import API
    from tests.connectors.loopback import Fault

    caplog.set_level(logging.DEBUG)
    token = "jira/TOKEN+with=odd&chars-9q"
    monkeypatch.setenv("TEST_JIRA_TOKEN", token + "\n")
    fake = make_fake("cloud", token=token)
    shapes = four_shapes(EMAIL, token)
    echo = {"errorMessages": ["you sent: " + " | ".join(shapes.values())], "errors": {}}
    fake.faults.append(Fault(API + "/search", status, 20, {"Retry-After": "0"}, echo))
    report = run(warehouse, jira_config(fake), sleep=lambda s: None)
    assert report.status in ("failed", "partial")
    assert any(r.path.startswith(API + "/search") for r in fake.requests)
    text = "\n".join([caplog.text, repr(report), everything_written(warehouse)])
    assert "***" in text  # the echo did reach a message, masked
    assert [name for name, shape in shapes.items() if shape in text] == []
