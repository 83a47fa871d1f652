"""Freshness of the configured sources, read from the warehouse: for `scorecard status`, `scorecard
alerts` (and its webhook) and the dashboard's banner. No Streamlit here."""
from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from config.model import Config
from metrics.spend import ALERT_SCHEMA
from scheduling.plan import SourcePlan, plans, stale_message
from warehouse.engine import Warehouse
from warehouse.history import source_histories

STALE_KIND = "stale_source"


def configured_sources(config: Config) -> list[str]:
    from connectors.sources import sources  # loads every connector (PyGithub...): not for every page

    return [name for name, spec in sources().items() if spec.is_configured(config)]


def source_plans(warehouse: Warehouse, config: Config, now: dt.datetime) -> list[SourcePlan]:
    """A plan (schedule, last success, next run, stale) per configured source."""
    return plans(config.schedule, source_histories(warehouse), configured_sources(config), now)


def stale_alerts(source_plans: list[SourcePlan], now: dt.datetime) -> pl.DataFrame:
    """One alert per stale source, in the spend alerts' columns (metrics.spend.ALERT_SCHEMA). The id
    names the stale spell (when it began), so the webhook hears of each spell once."""
    rows = [{
        "id": f"stale:{p.source}:{p.stale_since.isoformat() if p.stale_since else 'never'}",
        "kind": STALE_KIND, "team": None, "tool": None, "date": now.date(), "amount_usd": None,
        "threshold_usd": None, "owner": None, "message": stale_message(p, now),
    } for p in source_plans if p.stale]
    return pl.DataFrame(rows, schema=ALERT_SCHEMA)


def with_stale_sources(warehouse: Warehouse, config: Config, result, now: dt.datetime):
    """Spend alerts (reports.alerts.SpendAlerts) plus a `stale_source` alert per stale source."""
    stale = stale_alerts(source_plans(warehouse, config, now), now)
    if stale.height == 0:
        return result
    return dataclasses.replace(result, as_of=result.as_of or now.date(),
                               alerts=pl.concat([result.alerts, stale], how="vertical_relaxed"))
