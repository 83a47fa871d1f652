"""Budgets vs actual with the month's pace, spend anomalies (median + k·MAD) and open alerts, with the
numbers worked out by hand in the comments."""
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from config import Config, TeamConfig
from config.spend import BudgetConfig, SpendAlertsConfig, SpendConfig
from metrics.spend import budget_vs_actual, daily_spend, open_alerts, spend_anomalies
from tests.factories import make_spend

D = dt.date


def spend_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"id": pl.String, "source": pl.String, "date": pl.Date, "team": pl.String,
                                      "tool": pl.String, "model": pl.String, "workflow": pl.String,
                                      "cost_usd": pl.Float64, "tokens": pl.Int64, "requests": pl.Int64})


def daily(team, tool, first: dt.date, costs: list[float]) -> list[dict]:
    return [make_spend(f"{team}:{tool}:{first + dt.timedelta(days=i)}", date=str(first + dt.timedelta(days=i)),
                       cost=c, team=team, tool=tool) for i, c in enumerate(costs)]


BUDGETS = Config(
    budgets={"payments": BudgetConfig(monthly_usd=2500, owner="dana@example.com"),
             "web": BudgetConfig(monthly_usd=1000), "data": BudgetConfig(monthly_usd=5000, owner="lee")},
    teams={"web": TeamConfig(owner="web-lead@example.com")},
)


def budget_spend() -> pl.DataFrame:
    return spend_frame(
        daily("payments", "openai", D(2026, 11, 1), [100.0] * 13)  # Nov 13 is after as_of
        + daily("payments", "openai", D(2026, 10, 25), [999.0] * 7)  # October: another month
        + daily("web", "anthropic", D(2026, 11, 1), [50.0] * 10) + daily("web", "copilot", D(2026, 11, 11), [300.0, 300.0])
        + daily("data", "anthropic", D(2026, 11, 1), [50.0] * 10)
        + daily("growth", "openai", D(2026, 11, 2), [7.5, 7.5])
        + daily(None, "openai", D(2026, 11, 5), [1.0])
    )


def test_budget_vs_actual_and_the_month_pace():
    result = budget_vs_actual(budget_spend(), BUDGETS, as_of=D(2026, 11, 12))
    # November has 30 days; 12 have elapsed.
    # payments: 12 × 100 = 1,200 spent; expected 2,500 × 12/30 = 1,000; projected 1,200 / 12 × 30 = 3,000;
    #   pace 3,000 / 2,500 = 1.2 → over pace.
    # web: 10 × 50 + 2 × 300 = 1,100 > 1,000 → over budget; projected 1,100 / 12 × 30 = 2,750.
    # data: 10 × 50 = 500; projected 1,250 of 5,000 = 0.25 → on track.
    # growth and unassigned spent without a budget.
    expected = pl.DataFrame({
        "team": ["data", "payments", "web", "growth", "unassigned"],
        "owner": ["lee", "dana@example.com", "web-lead@example.com", "", ""],
        "month": [D(2026, 11, 1)] * 5,
        "budget_usd": [5000.0, 2500.0, 1000.0, None, None],
        "actual_usd": [500.0, 1200.0, 1100.0, 15.0, 1.0],
        "days_elapsed": [12] * 5, "days_in_month": [30] * 5,
        "expected_usd": [2000.0, 1000.0, 400.0, None, None],
        "projected_usd": [1250.0, 3000.0, 2750.0, 37.5, 2.5],
        "pace": [0.25, 1.2, 2.75, None, None],
        "status": ["on_track", "over_pace", "over_budget", "no_budget", "no_budget"],
    })
    assert_frame_equal(result, expected, check_dtypes=False)


def alternating(n: int) -> list[float]:
    return [100.0 if i % 2 == 0 else 110.0 for i in range(n)]  # Oct 1 = 100, Oct 2 = 110, ...


def anomaly_spend() -> pl.DataFrame:
    return spend_frame(
        # Oct 1-28 alternate 100/110: median 105, every deviation 5, so MAD 5 and the bar for Oct 29 is
        # 105 + 8 × 1.4826 × 5 = 164.30. Oct 29 = 300 is flagged (195 above the median ≥ 100).
        # Oct 30's window (Oct 2-29) holds 13 × 100, 14 × 110 and the 300: median 110, deviations
        # 14 × 0, 13 × 10 and 190, MAD (0 + 10) / 2 = 5, bar 110 + 59.30 = 169.30: 160 is not flagged —
        # the spike before it does not blunt the rule, nor inflate the normal.
        daily("review", "anthropic", D(2026, 10, 1), alternating(28) + [300.0, 160.0])
        # Far above its normal in ratio but only $0.49 above it: cents never alert.
        + daily("review", "openai", D(2026, 10, 1), [0.01] * 28 + [0.50, 0.01])
        # A new tool with 9 days of history on Oct 29: too young to judge.
        + daily("review", "cursor", D(2026, 10, 20), [10.0] * 9 + [1000.0])
        # Two rows for the same team, tool and day are one day's spend; no team is `unassigned`.
        + daily(None, "openai", D(2026, 10, 1), [20.0] * 28) + daily(None, "openai", D(2026, 10, 29), [200.0])
        + [make_spend("dup", date="2026-10-29", cost=20.0, team=None, tool="openai")]
    )


RULE = SpendAlertsConfig()  # k = 8, window 28, min excess $100, 14 days of history


def test_anomalies_are_days_far_above_the_trailing_median():
    flagged = spend_anomalies(anomaly_spend(), RULE, start=D(2026, 10, 1), end=D(2026, 10, 31))
    # unassigned/openai: 28 × 20 → median 20, MAD 0, bar 20; Oct 29 = 200 + 20 = 220, 200 above.
    expected = pl.DataFrame({
        "date": [D(2026, 10, 29), D(2026, 10, 29)], "team": ["review", "unassigned"], "tool": ["anthropic", "openai"],
        "cost_usd": [300.0, 220.0], "median_usd": [105.0, 20.0], "mad_usd": [5.0, 0.0],
        "threshold_usd": [105 + 8 * 1.4826 * 5, 20.0], "excess_usd": [195.0, 200.0],
    })
    assert_frame_equal(flagged, expected)


def test_the_rule_is_configurable():
    loose = SpendAlertsConfig(k=3, min_excess_usd=0.25, min_history_days=5)
    flagged = spend_anomalies(anomaly_spend(), loose, start=D(2026, 10, 29), end=D(2026, 10, 29))
    # With a 25-cent floor the cents pair alerts, and the young tool is judged (9 days ≥ 5 of history).
    assert sorted(flagged.select("team", "tool").rows()) == [
        ("review", "anthropic"), ("review", "cursor"), ("review", "openai"), ("unassigned", "openai")]
    # Missing days after a pair's first spend count as $0, days before it not at all: Nov 10's window
    # (Oct 13 - Nov 9) holds 10 days of $10 (Oct 20-29) and 11 days without spend (Oct 30 - Nov 9), so
    # 21 days of history with median $0 (the days with rows alone would say $10) and MAD 0: $150 alerts.
    gap = spend_frame(daily("t", "x", D(2026, 10, 20), [10.0] * 10) + daily("t", "x", D(2026, 11, 10), [150.0]))
    flagged = spend_anomalies(gap, RULE, start=D(2026, 11, 10), end=D(2026, 11, 10))
    assert flagged.select("median_usd", "mad_usd", "excess_usd").rows() == [(0.0, 0.0, 150.0)]


def test_daily_spend_sums_rows_per_team_tool_and_day():
    result = daily_spend(anomaly_spend()).filter(pl.col("date") == D(2026, 10, 29), pl.col("team") == "unassigned")
    assert result.rows() == [(D(2026, 10, 29), "unassigned", "openai", 220.0)]


def test_open_alerts_combine_recent_anomalies_and_budgets_pacing_over():
    spend = pl.concat([anomaly_spend(), budget_spend()])
    config = Config(budgets=BUDGETS.budgets, teams={**BUDGETS.teams, "review": TeamConfig(owner="rev@example.com")})
    alerts = open_alerts(spend, config, as_of=D(2026, 11, 12))
    # Oct 29 lies within the 30 days up to Nov 12 (Oct 14 - Nov 12).
    assert alerts.select("id", "kind", "owner").rows() == [
        ("spend_anomaly:review:anthropic:2026-10-29", "spend_anomaly", "rev@example.com"),
        ("spend_anomaly:unassigned:openai:2026-10-29", "spend_anomaly", ""),
        ("budget_pace:payments:2026-11", "budget_pace", "dana@example.com"),
        ("budget_pace:web:2026-11", "budget_pace", "web-lead@example.com"),
    ]
    messages = alerts.get_column("message").to_list()
    assert messages[0] == ("review spent $300.00 on anthropic on 2026-10-29, 3× its normal (median $105.00 over the "
                           "previous 28 days; alert above $205.00)")
    assert messages[2] == ("payments is pacing to $3,000.00 in November 2026, 120% of its $2,500.00 budget "
                           "($1,200.00 spent in 12 of 30 days)")
    assert messages[3] == ("web has spent $1,100.00 of its $1,000.00 budget for November 2026 by 2026-11-12 "
                           "(pacing to $2,750.00)")
    assert alerts.filter(pl.col("kind") == "budget_pace")["amount_usd"].to_list() == [3000.0, 2750.0]

    quieter = Config(budgets=BUDGETS.budgets, spend=SpendConfig(alerts=SpendAlertsConfig(
        open_days=14, acknowledged=("budget_pace:web:2026-11",))))
    # 14 open days reach back to Oct 30 only; the acknowledged alert is left out.
    assert open_alerts(spend, quieter, as_of=D(2026, 11, 12))["id"].to_list() == ["budget_pace:payments:2026-11"]
