"""Spend alerts to a Slack-compatible webhook (a receiver on loopback); the dashboard's panel:
tests/app/test_spend_panel.py."""
import datetime as dt
import json
import logging

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

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


def _days(first: str, last: str) -> list[str]:
    day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [str(day + dt.timedelta(days=i)) for i in range((end - day).days + 1)]


@pytest.mark.parametrize("spent_in_june", [True, False])
def test_the_dashboards_alert_rows_judge_as_every_row_does(warehouse, spent_in_june):
    """`load_alert_spend` reads the days the alerts add up as of the last spend day (Sep 6 on: the 28 days before
    the first of the 30 open days), not every row, and gives `spend_alerts` the same alerts and budgets.
    data/anthropic: $10 a day Oct 20 - Nov 1, then $500 on Nov 2. Its normal for Nov 2 is the 28 days Oct 5 -
    Nov 1. With June's spend (before the days read) those are 15 days of $0 and 13 of $10: median $0, MAD $0,
    28 days of history (>= 14): $500 > $0 and >= $100 above it, an alert. Without it, its spend begins Oct 20:
    13 days of history, no alert. web/openai: $5 every day from Sep 1 (before the days read too)."""
    import reports.alerts as alerts

    rows = [make_spend(f"w{d}", date=d, cost=5.0, team="web", tool="openai") for d in _days("2026-09-01", "2026-11-02")]
    rows += [make_spend(f"d{d}", date=d, cost=10.0, team="data", tool="anthropic") for d in _days("2026-10-20", "2026-11-01")]
    rows.append(make_spend("spike", date="2026-11-02", cost=500.0, team="data", tool="anthropic"))
    if spent_in_june:
        rows += [make_spend(f"j{d}", date=d, cost=50.0, team="data", tool="anthropic") for d in _days("2026-06-01", "2026-06-10")]
    ingest(warehouse, "csv:ai_spend", {"ai_spend": pl.DataFrame(rows)})
    config = Config(warehouse=WarehouseConfig(url=warehouse.display_url),
                    budgets={"web": BudgetConfig(monthly_usd=100)})
    read = alerts.load_alert_spend(warehouse, config)
    # From Sep 6 (Nov 2 - 29 days - 28 days) on; June's pair announced by one $0 row on Sep 5.
    assert read["date"].min() == (dt.date(2026, 9, 5) if spent_in_june else dt.date(2026, 9, 6))
    assert read.filter(pl.col("date") < dt.date(2026, 9, 6)).rows() == (
        [(dt.date(2026, 9, 5), "data", "anthropic", 0.0)] if spent_in_june else [])
    got, every = spend_alerts(read, config), spend_alerts(load_spend(warehouse), config)
    assert got.as_of == every.as_of == dt.date(2026, 11, 2)
    assert_frame_equal(got.alerts, every.alerts)
    assert_frame_equal(got.budgets, every.budgets)
    anomalies = got.alerts.filter(pl.col("kind") == "spend_anomaly")
    if spent_in_june:
        assert anomalies["message"].to_list() == [
            "data spent $500.00 on anthropic on 2026-11-02 (median $0.00 over the previous 28 days; alert above $100.00)"]
    else:
        assert anomalies.height == 0
    # web: $10 of November (2 days of $5), $100 budget: pacing to $10 / 2 × 30 = $150, over pace.
    web = got.budgets.filter(pl.col("team") == "web").row(0, named=True)
    assert (web["actual_usd"], web["projected_usd"], web["status"]) == (10.0, 150.0, "over_pace")
