"""The audit trail names the signed-in user for every action, and after a run of every kind of action —
a CLI sync and the dashboard's Sync now against a fake provider, exports, alerts posted to a webhook,
the audit export, sign-ins — no secret is in the logs, the command output, the files or any warehouse
table."""
from __future__ import annotations

import datetime as dt
import json
import logging

import polars as pl
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from app.cli import app
from tests.app.conftest import clear_streamlit_caches
from tests.app.conftest import APP
from tests.app.test_access import AUTH
from tests.connectors.hygiene import assert_nowhere, everything_written
from tests.connectors.spend.fakes import FakeOpenAI, WebhookReceiver
from warehouse import open_warehouse, read_table

OPENAI_KEY = "sk-admin-GOVERNANCEtestOPENAIkey-7f3a"
COSTS = {dt.date(2026, 11, 2): [("proj_pay", "gpt-5, input", 120.0, "usd")],
         dt.date(2026, 11, 3): [("proj_pay", "gpt-5, input", 80.0, "usd")]}
runner = CliRunner()


def test_every_action_is_audited_with_its_actor_and_no_secret_leaks(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    with FakeOpenAI(OPENAI_KEY, COSTS) as fake, WebhookReceiver() as hook:
        config = tmp_path / "scorecard.toml"
        config.write_text(f"""
[warehouse]
url = "{url}"
[spend.openai]
admin_key_env = "TEST_GOV_OPENAI_KEY"
base_url = "{fake.url}"
start = 2026-11-01
projects = {{ proj_pay = "payments" }}
[spend.alerts]
webhook_url_env = "TEST_GOV_WEBHOOK"
[budgets.payments]
monthly_usd = 100
[governance.workflows.checkout]
risk_tier = 3
technical_owner = "Sam"
[[governance.workflows.checkout.stop]]
metric = "budget"
when = "over_budget"
[access]
sign_in = "oidc"
[access.users."dana@acme.example"]
role = "admin"
""")
        monkeypatch.setenv("TEST_GOV_OPENAI_KEY", OPENAI_KEY)
        monkeypatch.setenv("TEST_GOV_WEBHOOK", hook.hook_url)
        monkeypatch.setenv("SCORECARD_CONFIG", str(config))
        monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
        outputs = [runner.invoke(app, ["sync", "--source", "openai"])]
        assert outputs[0].exit_code == 0, outputs[0].output
        # payments spent $200 against a $100 budget: a budget alert and the checkout workflow's stop condition.
        outputs.append(runner.invoke(app, ["alerts", "--format", "json"]))
        alerts = json.loads(outputs[-1].stdout)["alerts"]
        assert outputs[-1].exit_code == 1 and {a["kind"] for a in alerts} == {"budget_pace", "stop_condition"}
        assert len(hook.bodies) == 1 and "Pause recommended for checkout" in json.dumps(hook.bodies[0])
        export = tmp_path / "spend.csv"
        outputs.append(runner.invoke(app, ["export", "ai_spend", "--out", str(export)]))
        audit_file = tmp_path / "audit.json"
        outputs.append(runner.invoke(app, ["audit", "--format", "json", "--out", str(audit_file)]))
        outputs.append(runner.invoke(app, ["governance", "--format", "json"]))
        assert all(o.exit_code in (0, 1) for o in outputs), [o.output for o in outputs]

        clear_streamlit_caches()
        try:
            at = AppTest.from_file(APP, default_timeout=120)
            at.user = {"is_logged_in": True, "email": "dana@acme.example"}
            at.secrets["auth"] = AUTH
            at.run()
            next(b for b in at.sidebar.button if b.label == "Sync now").click().run()
            assert not at.exception, [e.value for e in at.exception]
            at.switch_page("app_pages/audit.py").run()
            assert not at.exception, [e.value for e in at.exception]
            page_text = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.error, *at.info))
        finally:
            clear_streamlit_caches()

    wh = open_warehouse(url)
    try:
        rows = read_table(wh, "audit_log").sort("id")
        written = everything_written(wh)
    finally:
        wh.engine.dispose()
    actors = dict(rows.select("action", "actor").reverse().unique("action", keep="first").iter_rows())
    assert actors["sync"] == "dashboard:dana@acme.example"  # Sync now names the signed-in admin
    assert actors["sign-in"] == "dashboard:dana@acme.example" and actors["view"] == "dashboard:dana@acme.example"
    cli_syncs = rows.filter((pl.col("action") == "sync") & pl.col("actor").str.starts_with("cli"))
    assert cli_syncs.height == 1
    assert {"sync", "export", "config change", "alert webhook", "sign-in", "view"} <= set(rows["action"].to_list())
    secrets = [OPENAI_KEY, hook.hook_url, "s3cr3t-token", AUTH["client_secret"], AUTH["cookie_secret"]]
    assert_nowhere(
        secrets, warehouse=written, logs=caplog.text, outputs="\n".join(o.output for o in outputs),
        files=export.read_text() + audit_file.read_text(), page=page_text,
    )
