"""A Jira server that echoes the credentials back in all four shapes — the token as it is, repr-escaped,
URL-encoded, and the base64 `e-mail:token` basic-auth header — through a CLI sync, `scorecard status`,
the exports, the dashboard's Sync now and the logs: none of the four appears anywhere (issue 17)."""
from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote

from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from app.cli import app
from tests.app.conftest import APP, clear_streamlit_caches
from tests.connectors.hygiene import everything_written
from tests.connectors.jira.conftest import EMAIL, INCIDENT_JQL, TICKET_JQL
from tests.connectors.jira.fake_jira import API, FakeJira
from tests.connectors.loopback import Fault
from warehouse import open_warehouse

TOKEN = "jira/ECHO+token=with&odd-chars-3k"
runner = CliRunner()


def shapes() -> dict[str, str]:
    return {"raw": TOKEN, "repr-escaped": repr(TOKEN + "\n")[1:-1], "URL-encoded": quote(TOKEN, safe=""),
            "base64 user:token": base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()}


def config_text(url: str, server: str) -> str:
    q = json.dumps
    return f"""
[warehouse]
url = {q(url)}
[jira]
server = {q(server)}
token_env = "TEST_SHAPES_TOKEN"
email_env = "TEST_SHAPES_EMAIL"
max_retries = 1
backoff_seconds = 0
max_backoff_seconds = 0
[jira.incidents]
jql = {q(INCIDENT_JQL)}
[jira.tickets]
jql = {q(TICKET_JQL)}
channel_field = "Request Type"
csat_field = "Satisfaction"
"""


def test_four_shapes_of_an_echoed_token_appear_nowhere(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    echo = {"errorMessages": ["request was: " + " | ".join(shapes().values())], "errors": {}}
    with FakeJira("cloud", email=EMAIL, token=TOKEN) as fake:
        fake.faults.append(Fault(API + "/search", 400, 100, {}, echo))
        fake.faults.append(Fault(API + "/search", 503, 100, {"Retry-After": "0"}, echo))
        config = tmp_path / "scorecard.toml"
        config.write_text(config_text(url, fake.url))
        monkeypatch.setenv("TEST_SHAPES_TOKEN", TOKEN + "\n")  # as read from a mounted secret file
        monkeypatch.setenv("TEST_SHAPES_EMAIL", EMAIL)
        monkeypatch.setenv("SCORECARD_CONFIG", str(config))
        monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
        outputs = [runner.invoke(app, ["sync"])]
        assert outputs[0].exit_code in (1, 3), outputs[0].output
        outputs.append(runner.invoke(app, ["status"]))
        audit_file, tickets_file = tmp_path / "audit.json", tmp_path / "tickets.csv"
        outputs.append(runner.invoke(app, ["audit", "--format", "json", "--out", str(audit_file)]))
        outputs.append(runner.invoke(app, ["export", "tickets", "--out", str(tickets_file)]))
        clear_streamlit_caches()
        try:
            at = AppTest.from_file(APP, default_timeout=120).run()
            next(b for b in at.sidebar.button if b.label == "Sync now").click().run()
            assert not at.exception, [e.value for e in at.exception]
            page = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.error, *at.warning, *at.info,
                                                   *at.success, *at.sidebar.error, *at.sidebar.warning))
        finally:
            clear_streamlit_caches()
        echoed = [r for r in fake.requests if r.path.startswith(API + "/search")]
    assert echoed  # the server did answer with the echo
    wh = open_warehouse(url)
    try:
        stored = everything_written(wh)
    finally:
        wh.engine.dispose()
    places = {"logs": caplog.text, "outputs": "\n".join(o.output for o in outputs), "page": page,
              "files": audit_file.read_text() + tickets_file.read_text(), "warehouse": stored}
    assert "***" in places["outputs"] + places["warehouse"]  # the echo reached a message, masked
    leaks = [(shape, where) for shape, value in shapes().items() for where, text in places.items() if value in text]
    assert leaks == []
