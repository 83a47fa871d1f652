"""Stop conditions judged on scorecard records: firing on crafted data (numbers worked out by hand),
consecutive periods, too little data never pausing anything, and team budgets."""
import datetime as dt

import polars as pl

from config import BaselineConfig, BaselineWindow, Config
from config.governance import StopCondition, WorkflowConfig
from config.spend import BudgetConfig
from governance.policies import INSUFFICIENT, OK, PAUSE, describe, evaluate, fires
from metrics.periods import period_starts
from metrics.scorecard import compute
from metrics.spend import budget_vs_actual
from tests.factories import evidence, make_pr, make_spend, make_ticket

BASELINE = BaselineConfig(window=BaselineWindow(dt.date(2026, 1, 5), dt.date(2026, 2, 1)))
CONFIG = Config(baseline=BASELINE)
WEEKS = [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
ROLLBACKS = StopCondition(metric="rollback_share", segment="ai", when="worse", periods=2)


def week_of(prs: list[dict], day: str, n_ai: int, reverted: int, start: int) -> None:
    """`n_ai` AI-assisted PRs merged on `day` (09:00), the first `reverted` of them reverted the same day."""
    for i in range(n_ai):
        prs.append(make_pr(start + i, merged_at=f"{day} 09:00", ai=True))
    for i in range(reverted):
        prs.append(make_pr(start + 500 + i, merged_at=f"{day} 15:00", title=f'Revert "Change {start + i}"',
                           reverts_pr_id=f"github:acme/api#{start + i}"))


def scenario(second_week_reverted: int, second_week_ai: int = 20):
    prs: list[dict] = []
    # Baseline (January): 100 PRs, 2 of them reverted; the 2 revert PRs are merged PRs too → 2 / 102.
    for i in range(100):
        prs.append(make_pr(1 + i, merged_at="2026-01-06 09:00"))
    for i in range(2):
        prs.append(make_pr(300 + i, merged_at="2026-01-07 09:00", title=f'Revert "Change {1 + i}"',
                           reverts_pr_id=f"github:acme/api#{1 + i}"))
    week_of(prs, "2026-03-03", 20, 6, 1000)
    week_of(prs, "2026-03-10", second_week_ai, second_week_reverted, 2000)
    return compute(evidence(prs=prs), CONFIG, grain="week", start=WEEKS[0], end=WEEKS[-1])


def judge(records, *stops: StopCondition, teams=(), min_sample=20, budgets=None):
    flows = {"agents": WorkflowConfig(risk_tier=2, technical_owner="Sam", teams=tuple(teams), stop=tuple(stops))}
    return evaluate(flows, {"week": records}, {"week": WEEKS}, min_sample=min_sample, budgets=budgets)


def test_ai_rollbacks_worse_than_baseline_two_weeks_running_recommend_a_pause():
    records = scenario(second_week_reverted=6)
    verdicts, evidence_rows = judge(records, ROLLBACKS)
    # Each week: 6 of 20 AI-assisted PRs rolled back = 0.30, against the baseline's 2/102 = 0.0196.
    # Pooled share 8/122 = 0.0656; z = (0.30 - 0.0196) / sqrt(0.0656 * 0.9344 * (1/20 + 1/102)) = 4.63,
    # p < 0.001: status worse in both weeks, so the condition fires twice in a row.
    v = verdicts.row(0, named=True)
    assert (v["workflow"], v["team"], v["verdict"], v["owner"]) == ("agents", None, PAUSE, "Sam")
    assert v["period"] == WEEKS[-1] and abs(v["value"] - 0.30) < 1e-12 and abs(v["baseline"] - 2 / 102) < 1e-12
    assert evidence_rows["period"].to_list() == WEEKS
    assert evidence_rows["status"].to_list() == ["worse", "worse"]
    assert evidence_rows["fired"].to_list() == [True, True]
    assert all(p < 0.001 for p in evidence_rows["test_p"].to_list())
    # The evidence is the scorecard's own records: the same numbers as the tiles.
    tile = records.filter((pl.col("metric") == "rollback_share") & (pl.col("segment") == "ai")
                          & pl.col("team").is_null()).sort("period")
    assert evidence_rows["value"].to_list() == tile["value"].to_list()


def test_one_week_back_within_normal_variation_means_no_pause():
    verdicts, evidence_rows = judge(scenario(second_week_reverted=1), ROLLBACKS)
    # Second week: 1 of 20 = 0.05 vs 2/102; pooled 3/122 = 0.0246, z = 0.0304 / 0.0379 = 0.80 → at baseline.
    assert verdicts["verdict"].to_list() == [OK]
    assert evidence_rows["fired"].to_list() == [True, False]
    # One week is enough when the condition asks for one.
    one_week = StopCondition(metric="rollback_share", segment="ai", when="worse", periods=1)
    assert judge(scenario(second_week_reverted=6), one_week)[0]["verdict"].to_list() == [PAUSE]


def test_a_handful_of_prs_never_pauses_a_workflow():
    # Second week: 6 of 15 AI PRs rolled back (0.40) — but n = 15 < min_sample 20: not judged.
    verdicts, evidence_rows = judge(scenario(second_week_reverted=6, second_week_ai=15), ROLLBACKS)
    assert verdicts["verdict"].to_list() == [INSUFFICIENT]
    assert evidence_rows["judged"].to_list() == [True, False]


def test_csat_below_baseline_minus_tolerance_and_absolute_thresholds():
    tickets = [make_ticket(f"b{i}", resolved_at="2026-01-07 10:00", csat=4.0) for i in range(20)]
    # Week of Mar 2: 12 × 4 + 8 × 3 = 72 / 20 = 3.60; week of Mar 9: 10 × 4 + 10 × 3 = 70 / 20 = 3.50.
    tickets += [make_ticket(f"p{i}", resolved_at="2026-03-03 10:00", csat=4.0 if i < 12 else 3.0) for i in range(20)]
    tickets += [make_ticket(f"q{i}", resolved_at="2026-03-10 10:00", csat=4.0 if i < 10 else 3.0) for i in range(20)]
    records = compute(evidence(tickets=tickets), CONFIG, grain="week", start=WEEKS[0], end=WEEKS[-1])
    slip = StopCondition(metric="csat", when="below_baseline", threshold=0.3, periods=2)
    # Both weeks are below 4.0 - 0.3 = 3.7.
    assert judge(records, slip)[0]["verdict"].to_list() == [PAUSE]
    # 0.45 below: 3.60 is not below 3.55, so the first week does not fire.
    assert judge(records, StopCondition(metric="csat", when="below_baseline", threshold=0.45, periods=2))[0][
        "verdict"].to_list() == [OK]
    assert judge(records, StopCondition(metric="csat", when="below", threshold=3.55))[0]["verdict"].to_list() == [PAUSE]
    assert judge(records, StopCondition(metric="csat", when="above", threshold=3.55))[0]["verdict"].to_list() == [OK]


def test_fires_needs_enough_data_for_the_record_and_its_baseline():
    stop = StopCondition(metric="csat", when="below_baseline", threshold=0.3)
    record = {"n": 25, "value": 3.0, "baseline": 4.0, "baseline_n": 25, "status": "worse"}
    assert fires(stop, record, 20) == (True, True)
    assert fires(stop, {**record, "baseline_n": 5}, 20) == (False, False)
    assert fires(stop, {**record, "n": 19}, 20) == (False, False)
    assert fires(stop, {**record, "baseline": None}, 20) == (False, False)
    worse = StopCondition(metric="csat")
    assert fires(worse, {**record, "status": "insufficient_data"}, 20) == (False, False)
    assert fires(worse, {**record, "status": "at_baseline"}, 20) == (True, False)


def test_per_team_conditions_judge_every_team_and_teams_narrow_them():
    prs = []
    for team, reverted in (("payments", 6), ("web", 0)):
        repo = f"acme/{team}"
        for i in range(100):
            prs.append(make_pr(i, repo=repo, merged_at="2026-01-06 09:00", team=team))
        for week, day in enumerate(("2026-03-03", "2026-03-10")):
            base = 1000 + week * 100
            for i in range(20):
                prs.append(make_pr(base + i, repo=repo, merged_at=f"{day} 09:00", ai=True, team=team))
            for i in range(reverted):
                prs.append(make_pr(base + 50 + i, repo=repo, merged_at=f"{day} 15:00", team=team,
                                   reverts_pr_id=f"github:{repo}#{base + i}"))
    records = compute(evidence(prs=prs), CONFIG, grain="week", start=WEEKS[0], end=WEEKS[-1])
    per_team = StopCondition(metric="rollback_share", segment="ai", when="worse", periods=2, per_team=True)
    verdicts, _ = judge(records, per_team)
    # payments: 6/20 against 0/100 → worse both weeks; web: 0/20 against 0/100 → pooled share 0, at baseline.
    assert dict(verdicts.select("team", "verdict").iter_rows()) == {"payments": PAUSE, "web": OK}
    verdicts, _ = judge(records, per_team, teams=["web"])
    assert verdicts["team"].to_list() == ["web"]


def test_budget_conditions_read_budget_vs_actual():
    config = Config(budgets={"a": BudgetConfig(monthly_usd=1000.0), "b": BudgetConfig(monthly_usd=100.0)})
    spend = pl.DataFrame([make_spend("s1", date="2026-04-05", cost=600.0, team="a"),
                          make_spend("s2", date="2026-04-08", cost=150.0, team="b")])
    budgets = budget_vs_actual(spend, config, as_of=dt.date(2026, 4, 10))
    # a: 600 of 1000 by day 10 of 30 → projected 1800: over pace, not over budget. b: 150 > 100: over budget.
    over = judge(pl.DataFrame(), StopCondition(metric="budget", when="over_budget"), budgets=budgets)[0]
    assert dict(over.select("team", "verdict").iter_rows()) == {"a": OK, "b": PAUSE}
    pace = judge(pl.DataFrame(), StopCondition(metric="budget", when="over_pace"), budgets=budgets)[0]
    assert dict(pace.select("team", "verdict").iter_rows()) == {"a": PAUSE, "b": PAUSE}
    row = pace.filter(pl.col("team") == "a").row(0, named=True)
    assert (row["value"], row["baseline"]) == (1800.0, 1000.0)


def test_rules_in_words():
    assert describe(ROLLBACKS) == ("Rollback share of AI-assisted work worse than its baseline (significant at 5%) "
                                   "for 2 consecutive weeks")
    assert describe(StopCondition(metric="csat", when="below_baseline", threshold=0.3)) == (
        "Customer satisfaction more than 0.30 points below its baseline in the latest week")
    assert describe(StopCondition(metric="ai_cost_per_unit", when="above", threshold=15)) == (
        "AI cost per resolved unit above $15.00 in the latest week")
    assert describe(StopCondition(metric="csat", description="Our words")) == "Our words"
    assert period_starts(WEEKS[0], WEEKS[-1], "week") == WEEKS
