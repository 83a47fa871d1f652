"""Spend alerts to a Slack-compatible webhook (a receiver on loopback); the dashboard's panel:
tests/app/test_spend_panel.py."""
import datetime as dt
import json
import logging

import polars as pl
import pytest
import sqlalchemy as sa

from config import Config, WarehouseConfig
from config.spend import BudgetConfig, SpendAlertsConfig, SpendConfig
from pipeline import ingest
from reports.alerts import load_spend, spend_alerts
from reports.webhook import WebhookError, post_new_alerts
from tests.connectors.spend.fakes import WebhookReceiver
from tests.factories import make_spend
from warehouse import open_warehouse
from warehouse.schema import audit_log, sync_state

HOOK_ENV = "TEST_SPEND_WEBHOOK_URL"


def seed(wh) -> None:
    """28 days of $50 for data/anthropic, then $700 on Nov 2; payments pacing over its budget."""
    rows = [make_spend(f"a{i}", date=str(dt.date(2026, 10, 5) + dt.timedelta(days=i)), cost=50.0, team="data",
                       tool="anthropic") for i in range(28)]
    rows.append(make_spend("spike", date="2026-11-02", cost=700.0, team="data", tool="anthropic"))
    rows += [make_spend(f"p{i}", date=f"2026-11-0{i}", cost=400.0, team="payments", tool="openai") for i in (1, 2, 3)]
    ingest(wh, "csv:ai_spend", {"ai_spend": pl.DataFrame(rows)})


def config_for(url: str, webhook: bool = True) -> Config:
    return Config(warehouse=WarehouseConfig(url=url),
                  budgets={"payments": BudgetConfig(monthly_usd=3000, owner="dana@example.com")},
                  spend=SpendConfig(alerts=SpendAlertsConfig(webhook_url_env=HOOK_ENV if webhook else None)))


def test_new_alerts_are_posted_once_and_the_url_stays_secret(sqlite_warehouse, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    seed(sqlite_warehouse)
    config = config_for(sqlite_warehouse.display_url)
    with WebhookReceiver() as hook:
        monkeypatch.setenv(HOOK_ENV, hook.hook_url)
        result = spend_alerts(load_spend(sqlite_warehouse), config)
        # As of Nov 3 (the last spend day): the spike, and payments at 1,200 in 3 days → 12,000 projected.
        assert result.as_of == dt.date(2026, 11, 3)
        assert result.alerts["id"].to_list() == ["spend_anomaly:data:anthropic:2026-11-02", "budget_pace:payments:2026-11"]
        assert post_new_alerts(sqlite_warehouse, config, result) == 2
        assert post_new_alerts(sqlite_warehouse, config, result) == 0  # told once
        (body,) = hook.bodies
        assert body["text"].startswith(":rotating_light: 2 AI spend alerts as of 2026-11-03\n• data spent $700.00")
        assert [b["type"] for b in body["blocks"]] == ["header", "section", "section"]
        assert "owner: dana@example.com" in body["blocks"][2]["text"]["text"]

        # A new alert later on is news; the old ones are not repeated.
        ingest(sqlite_warehouse, "csv:ai_spend", {"ai_spend": pl.DataFrame([make_spend(
            "cursor", date="2026-11-03", cost=1.0, team="web", tool="cursor")])})
        later = spend_alerts(load_spend(sqlite_warehouse), Config(**{**config.__dict__, "budgets": {
            **config.budgets, "web": BudgetConfig(monthly_usd=5)}}))
        assert post_new_alerts(sqlite_warehouse, config, later) == 1
        assert [row["text"]["text"] for row in hook.bodies[1]["blocks"][1:]] == [
            "*budget_pace* — web is pacing to $10.00 in November 2026, 200% of its $5.00 budget ($1.00 spent in 3 of 30 days)"]
    with sqlite_warehouse.engine.connect() as conn:
        stored = json.dumps([list(map(str, r)) for r in [*conn.execute(sa.select(audit_log)), *conn.execute(sa.select(sync_state))]])
    assert "s3cr3t-token" not in stored and "s3cr3t-token" not in caplog.text
    assert "alert webhook" in stored


def test_a_failing_webhook_is_an_error_without_its_url(sqlite_warehouse, monkeypatch):
    seed(sqlite_warehouse)
    config = config_for(sqlite_warehouse.display_url)
    with WebhookReceiver(status=500) as hook:
        monkeypatch.setenv(HOOK_ENV, hook.hook_url)
        result = spend_alerts(load_spend(sqlite_warehouse), config)
        with pytest.raises(WebhookError) as refused:
            post_new_alerts(sqlite_warehouse, config, result)
        closed = hook.hook_url
    assert "HTTP 500" in str(refused.value) and "s3cr3t-token" not in str(refused.value)
    with pytest.raises(WebhookError) as unreachable:
        post_new_alerts(sqlite_warehouse, config, result)  # the receiver is gone now
    assert closed == hook.hook_url and "could not be reached" in str(unreachable.value)
    assert "s3cr3t-token" not in str(unreachable.value) and "127.0.0.1" not in str(unreachable.value)
    # Nothing was recorded as posted: the next run tries again.
    with sqlite_warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sync_state)).scalar_one() == 0
