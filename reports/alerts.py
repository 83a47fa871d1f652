"""Spend alerts for the CLI (`scorecard alerts`) and the dashboard: the same rows for both (the webhook
that posts them: reports/webhook.py).

Alerts are judged as of the last day with spend data (not the wall clock: providers report a day late,
and an as-of after the data would make every open alert vanish).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import polars as pl

from config.model import Config
from config.spend import check_spend
from metrics.spend import ALERT_SCHEMA, budget_vs_actual, open_alerts
from warehouse import Warehouse, read_table


@dataclass(frozen=True)
class SpendAlerts:
    as_of: dt.date | None  # None: no spend data at all
    alerts: pl.DataFrame  # metrics.spend.ALERT_SCHEMA
    budgets: pl.DataFrame  # metrics.spend.budget_vs_actual


def load_spend(warehouse: Warehouse) -> pl.DataFrame:
    return read_table(warehouse, "ai_spend", ["date", "team", "tool", "cost_usd"])


def spend_alerts(spend: pl.DataFrame, config: Config, *, as_of: dt.date | None = None) -> SpendAlerts:
    """Open alerts and budgets vs actual as of `as_of` (default: the last day with spend); a config value
    out of range raises `ConfigError`."""
    check_spend(config)
    as_of = as_of or spend.get_column("date").max()
    if as_of is None:
        return SpendAlerts(None, pl.DataFrame(schema=ALERT_SCHEMA), pl.DataFrame())
    return SpendAlerts(as_of, open_alerts(spend, config, as_of=as_of), budget_vs_actual(spend, config, as_of=as_of))


def alerts_json(result: SpendAlerts) -> str:
    rows = [{**row, "date": row["date"].isoformat()} for row in result.alerts.iter_rows(named=True)]
    return json.dumps({"as_of": result.as_of.isoformat() if result.as_of else None, "alerts": rows}, indent=1)
