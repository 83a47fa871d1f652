"""AI spend against budgets and against its own recent normal: pure polars, `as_of` is a parameter.

- `daily_spend`: spend per day × team × tool.
- `budget_vs_actual`: each team's month to date against its monthly budget, and the month's pace
  (month to date ÷ days elapsed × days in the month, i.e. where the month ends if it goes on like this).
- `spend_anomalies`: days far above that team's and tool's recent normal. Robust rule: the day's spend
  exceeds the median of the `window_days` days before it by more than k robust standard deviations
  (1.4826 × MAD, the median absolute deviation) and by at least `min_excess_usd`. Median and MAD are not
  moved by the spike itself or by an earlier spike in the window, as a mean and standard deviation are.
- `open_alerts`: what `scorecard alerts`, the webhook and the dashboard report.
"""
from __future__ import annotations

import calendar
import datetime as dt
import warnings

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from config.model import Config
from config.spend import SpendAlertsConfig
from metrics.teams import UNASSIGNED

MAD_TO_SIGMA = 1.4826  # MAD × this estimates the standard deviation of normally distributed data
UNKNOWN_TOOL = "unknown"

ALERT_SCHEMA = {
    "id": pl.String, "kind": pl.String, "team": pl.String, "tool": pl.String, "date": pl.Date,
    "amount_usd": pl.Float64, "threshold_usd": pl.Float64, "owner": pl.String, "message": pl.String,
}


def daily_spend(spend: pl.DataFrame) -> pl.DataFrame:
    """Columns: date, team, tool, cost_usd — one row per day × team × tool (no team: `unassigned`)."""
    return (
        spend.select("date", team=pl.col("team").fill_null(UNASSIGNED), tool=pl.col("tool").fill_null(UNKNOWN_TOOL),
                     cost_usd=pl.col("cost_usd").cast(pl.Float64))
        .group_by("date", "team", "tool").agg(pl.col("cost_usd").sum())
        .sort("date", "team", "tool")
    )


def month_of(day: dt.date) -> tuple[dt.date, int]:
    """The month's first day and its number of days."""
    return day.replace(day=1), calendar.monthrange(day.year, day.month)[1]


def budget_vs_actual(spend: pl.DataFrame, config: Config, *, as_of: dt.date) -> pl.DataFrame:
    """One row per team with a budget or with spend in the month of `as_of`, counting spend dated from
    the month's first day through `as_of`.

    Columns: team, owner, month, budget_usd (null: no budget), actual_usd, days_elapsed, days_in_month,
    expected_usd (the budget burnt evenly to date), projected_usd (actual ÷ days_elapsed × days_in_month),
    pace (projected ÷ budget), status: `over_budget` (actual > budget), `over_pace` (projected > budget),
    `on_track`, or `no_budget`.
    """
    first, days = month_of(as_of)
    elapsed = as_of.day
    actual = (
        spend.filter(pl.col("date").is_between(first, as_of))
        .group_by(team=pl.col("team").fill_null(UNASSIGNED)).agg(actual_usd=pl.col("cost_usd").sum())
    )
    budgets = pl.DataFrame(
        {"team": list(config.budgets), "budget_usd": [b.monthly_usd for b in config.budgets.values()],
         "owner": [b.owner or (config.teams[t].owner if t in config.teams else "") for t, b in config.budgets.items()]},
        schema={"team": pl.String, "budget_usd": pl.Float64, "owner": pl.String},
    )
    projected = pl.col("actual_usd") * days / elapsed
    return (
        budgets.join(actual, on="team", how="full", coalesce=True)
        .with_columns(actual_usd=pl.col("actual_usd").fill_null(0.0), owner=pl.col("owner").fill_null(""))
        .select(
            "team", "owner", month=pl.lit(first), budget_usd="budget_usd", actual_usd="actual_usd",
            days_elapsed=pl.lit(elapsed), days_in_month=pl.lit(days),
            expected_usd=pl.col("budget_usd") * elapsed / days, projected_usd=projected,
            pace=projected / pl.col("budget_usd"),
            status=pl.when(pl.col("budget_usd").is_null()).then(pl.lit("no_budget"))
            .when(pl.col("actual_usd") > pl.col("budget_usd")).then(pl.lit("over_budget"))
            .when(projected > pl.col("budget_usd")).then(pl.lit("over_pace"))
            .otherwise(pl.lit("on_track")),
        )
        .sort(pl.col("budget_usd").is_null(), "team")
    )


def spend_anomalies(spend: pl.DataFrame, rule: SpendAlertsConfig, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Days in [start, end] whose team × tool spend is far above its trailing normal (see the module).

    Days after a pair's first spend without any row count as $0; days before it are not history. A pair
    is judged from its `min_history_days`-th day of history on.
    Columns: date, team, tool, cost_usd, median_usd, mad_usd, threshold_usd, excess_usd.
    """
    window = rule.window_days
    daily = daily_spend(spend.filter(pl.col("date") <= end))
    firsts = daily.group_by("team", "tool").agg(first=pl.col("date").min())
    calendar_days = firsts.with_columns(
        date=pl.date_ranges(pl.max_horizontal("first", pl.lit(start - dt.timedelta(days=window))), pl.lit(end))
    ).explode("date").drop_nulls("date")
    series = (
        calendar_days.join(daily, on=["team", "tool", "date"], how="left")
        .with_columns(cost_usd=pl.col("cost_usd").fill_null(0.0))
        .sort("team", "tool", "date")
    )
    cost = series.get_column("cost_usd").to_numpy()
    median, mad, history = np.full(len(cost), np.nan), np.full(len(cost), np.nan), np.zeros(len(cost), dtype=np.int64)
    bounds = series.with_row_index("i").group_by("team", "tool").agg(lo=pl.col("i").min(), hi=pl.col("i").max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows (no history yet) give NaN
        for lo, hi in bounds.select("lo", "hi").iter_rows():
            # The `window` days before each day; NaN before the pair's calendar starts (its first spend,
            # or `start - window`, which is as far back as any judged day looks).
            padded = np.concatenate([np.full(window, np.nan), cost[lo:hi + 1]])
            past = sliding_window_view(padded[:-1], window)
            med = np.nanmedian(past, axis=1)
            median[lo:hi + 1] = med
            mad[lo:hi + 1] = np.nanmedian(np.abs(past - med[:, None]), axis=1)
            history[lo:hi + 1] = (~np.isnan(past)).sum(axis=1)
    series = series.with_columns(median_usd=pl.Series(median), mad_usd=pl.Series(mad), history=pl.Series(history))
    threshold = pl.col("median_usd") + rule.k * MAD_TO_SIGMA * pl.col("mad_usd")
    return (
        series.with_columns(threshold_usd=threshold, excess_usd=pl.col("cost_usd") - pl.col("median_usd"))
        .filter(
            pl.col("date").is_between(start, end) & (pl.col("history") >= rule.min_history_days)
            & (pl.col("cost_usd") > pl.col("threshold_usd")) & (pl.col("excess_usd") >= rule.min_excess_usd)
        )
        .select("date", "team", "tool", "cost_usd", "median_usd", "mad_usd", "threshold_usd", "excess_usd")
        .sort("date", "team", "tool")
    )


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def open_alerts(spend: pl.DataFrame, config: Config, *, as_of: dt.date) -> pl.DataFrame:
    """Alerts open on `as_of`: spend anomalies dated in the `open_days` up to it, and budgets the month
    of `as_of` is pacing over; ids in `[spend.alerts] acknowledged` are left out.

    Columns: id, kind (`spend_anomaly` | `budget_pace`), team, tool, date, amount_usd, threshold_usd,
    owner, message. Ids are stable (`spend_anomaly:<team>:<tool>:<day>`, `budget_pace:<team>:<month>`).
    """
    rule = config.spend.alerts
    owners = {team: t.owner for team, t in config.teams.items() if t.owner}
    owners |= {team: b.owner for team, b in config.budgets.items() if b.owner}
    rows = []
    start = as_of - dt.timedelta(days=max(rule.open_days, 1) - 1)
    for a in spend_anomalies(spend, rule, start=start, end=as_of).iter_rows(named=True):
        times = f", {a['cost_usd'] / a['median_usd']:.0f}× its normal" if a["median_usd"] > 0 else ""
        rows.append({
            "id": f"spend_anomaly:{a['team']}:{a['tool']}:{a['date']}", "kind": "spend_anomaly", "team": a["team"],
            "tool": a["tool"], "date": a["date"], "amount_usd": a["cost_usd"], "threshold_usd": a["threshold_usd"],
            "owner": owners.get(a["team"], ""),
            "message": f"{a['team']} spent {_usd(a['cost_usd'])} on {a['tool']} on {a['date']}{times} "
                       f"(median {_usd(a['median_usd'])} over the previous {rule.window_days} days; alert above "
                       f"{_usd(max(a['threshold_usd'], a['median_usd'] + rule.min_excess_usd))})",
        })
    budgets = budget_vs_actual(spend, config, as_of=as_of)
    for b in budgets.filter(pl.col("status").is_in(["over_budget", "over_pace"])).iter_rows(named=True):
        month = b["month"].strftime("%B %Y")
        if b["status"] == "over_budget":
            text = (f"{b['team']} has spent {_usd(b['actual_usd'])} of its {_usd(b['budget_usd'])} budget for {month} "
                    f"by {as_of} (pacing to {_usd(b['projected_usd'])})")
        else:
            text = (f"{b['team']} is pacing to {_usd(b['projected_usd'])} in {month}, {b['pace']:.0%} of its "
                    f"{_usd(b['budget_usd'])} budget ({_usd(b['actual_usd'])} spent in {b['days_elapsed']} of "
                    f"{b['days_in_month']} days)")
        rows.append({
            "id": f"budget_pace:{b['team']}:{b['month'].strftime('%Y-%m')}", "kind": "budget_pace", "team": b["team"],
            "tool": None, "date": as_of, "amount_usd": b["projected_usd"], "threshold_usd": b["budget_usd"],
            "owner": b["owner"] or owners.get(b["team"], ""), "message": text,
        })
    alerts = pl.DataFrame(rows, schema=ALERT_SCHEMA)
    return alerts.filter(~pl.col("id").is_in(list(rule.acknowledged)))
