"""Spend alerts for the CLI (`scorecard alerts`) and the dashboard: the same rows for both (the webhook
that posts them: reports/webhook.py).

Alerts are judged as of the last day with spend data (not the wall clock: providers report a day late,
and an as-of after the data would make every open alert vanish).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from config.model import Config
from config.spend import check_spend
from metrics.spend import ALERT_SCHEMA, UNKNOWN_TOOL, budget_vs_actual, month_of, open_alerts
from metrics.teams import UNASSIGNED
from warehouse import Warehouse, read_table
from warehouse.schema import ai_spend


@dataclass(frozen=True)
class SpendAlerts:
    as_of: dt.date | None  # None: no spend data at all
    alerts: pl.DataFrame  # metrics.spend.ALERT_SCHEMA
    budgets: pl.DataFrame  # metrics.spend.budget_vs_actual


SPEND_COLUMNS = ["date", "team", "tool", "cost_usd"]


def load_spend(warehouse: Warehouse) -> pl.DataFrame:
    """Every spend row (date, team, tool, cost_usd): `spend_alerts` as of any day."""
    return read_table(warehouse, "ai_spend", SPEND_COLUMNS)


def first_window_day(as_of: dt.date, config: Config) -> dt.date:
    """The first of the `window_days` before the first day an anomaly open on `as_of` can lie on: the first
    day of any normal `spend_alerts(..., as_of=as_of)` judges by (metrics.spend.spend_anomalies)."""
    rule = config.spend.alerts
    return as_of - dt.timedelta(days=max(rule.open_days, 1) - 1) - dt.timedelta(days=rule.window_days)


def first_day_read(as_of: dt.date, config: Config) -> dt.date:
    """The first day whose spend `spend_alerts(..., as_of=as_of)` adds up: that of the month of `as_of` (its
    budgets) or `first_window_day` (its anomalies' normal), whichever is earlier."""
    return min(month_of(as_of)[0], first_window_day(as_of, config))


def load_alert_spend(warehouse: Warehouse, config: Config,
                     read_since: Callable[[dt.date], pl.DataFrame] | None = None) -> pl.DataFrame:
    """The spend rows `spend_alerts(rows, config)` (as of the last day with spend) gives the same result from as
    from every row (`load_spend`): the rows from `first_day_read` on, and, for each team and tool (as
    metrics.spend.daily_spend names them) whose first row there is after that day but that has an earlier row,
    one row of $0 on the day before it. The anomalies judge a team's tool over the days from its first spend
    or from `first_window_day`, whichever is later (metrics.spend.spend_anomalies), so only a pair whose first
    row read comes after that day is looked up: the $0 row says that its spend began before, and lies before
    every day judged, every normal and the budgets' month. A pair with no row from that day on has only $0
    days in the window: no alert either way, so none is added.

    `read_since`: gives the spend (`SPEND_COLUMNS`) from a day on another way than the rows (the dashboard: the
    rollup kept beside the cube, metrics.cube.spend_rollup, whose day × team × tool sums are the rows')."""
    with warehouse.engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(ai_spend.c.date))).scalar()
    if last is None:
        return load_spend(warehouse)
    if isinstance(last, str):
        last = dt.date.fromisoformat(last)
    first = first_day_read(last, config)
    rows = (read_table(warehouse, "ai_spend", SPEND_COLUMNS, since=dt.datetime.combine(first, dt.time(), dt.timezone.utc))
            if read_since is None else read_since(first))
    team, tool = pl.col("team").fill_null(UNASSIGNED), pl.col("tool").fill_null(UNKNOWN_TOOL)
    late = (rows.group_by(team=team, tool=tool).agg(first=pl.col("date").min())
            .filter(pl.col("first") > first_window_day(last, config)).select("team", "tool").sort("team", "tool"))
    if late.height == 0:
        return rows
    earlier = _earlier_pairs(warehouse, first, late)
    if earlier.height == 0:
        return rows
    zero = earlier.select(date=pl.lit(first - dt.timedelta(days=1)), team="team", tool="tool", cost_usd=pl.lit(0.0))
    return pl.concat([rows, zero.cast(rows.schema)])


def _earlier_pairs(warehouse: Warehouse, before: dt.date, pairs: pl.DataFrame) -> pl.DataFrame:
    """Of `pairs` (team, tool as metrics.spend.daily_spend names them), those with a spend row before `before`:
    one query over the earlier rows (looked up pair by pair, a pair new in the window, the usual case, would
    walk all of them each time), its answer a few rows."""
    team = sa.func.coalesce(ai_spend.c.team, UNASSIGNED).label("team")
    tool = sa.func.coalesce(ai_spend.c.tool, UNKNOWN_TOOL).label("tool")
    with warehouse.engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(sa.select(team, tool).where(ai_spend.c.date < before).distinct())]
    earlier = pl.DataFrame(found, schema={"team": pl.String, "tool": pl.String}, orient="row")
    return pairs.join(earlier, on=["team", "tool"], how="semi", maintain_order="left")


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
