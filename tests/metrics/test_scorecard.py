"""Scorecard records: values, intervals, baselines and every status rule, with the numbers worked out
by hand in the comments."""
import datetime as dt

import polars as pl
import pytest

from config import BaselineConfig, BaselineWindow, Config, RulesConfig
from metrics.scorecard import compute
from tests.factories import evidence, make_deployment, make_incident, make_pr, make_spend, make_ticket

WEEK = dt.date(2026, 3, 2)  # a Monday
BASELINE = BaselineConfig(window=BaselineWindow(dt.date(2026, 1, 5), dt.date(2026, 2, 1)))
CONFIG = Config(baseline=BASELINE)


def week_records(ev, config=CONFIG, **kw):
    return compute(ev, config, grain="week", start=WEEK, end=WEEK, **kw)


def record(records: pl.DataFrame, metric: str, segment: str = "all", team: str | None = None) -> dict:
    rows = records.filter(
        (pl.col("metric") == metric) & (pl.col("segment") == segment)
        & (pl.col("team").is_null() if team is None else pl.col("team") == team)
    )
    assert rows.height == 1, f"expected one {metric}/{segment}/{team} record, got {rows.height}"
    return rows.row(0, named=True)


def prs(n: int, merged_at: str, *, ai: int = 0, repo: str = "acme/api", start: int = 1, team=None) -> list[dict]:
    return [make_pr(start + i, merged_at=merged_at, ai=i < ai, repo=repo, team=team) for i in range(n)]


# --- ai_merge_rate -------------------------------------------------------------------------------


def test_ai_merge_rate_value_wilson_interval_and_info_status():
    ev = evidence(prs=prs(20, "2026-03-03 10:00", ai=5) + prs(40, "2026-01-07 10:00", ai=2, start=100))
    r = record(week_records(ev), "ai_merge_rate")
    # 5 of 20 merged PRs are AI-assisted: 0.25.
    assert (r["value"], r["numerator"], r["denominator"], r["n"]) == (0.25, 5, 20, 20)
    # Wilson, z = 1.959964: z² = 3.841459; d = 1 + z²/n = 1.192073; centre = (0.25 + z²/40)/d = 0.290284;
    # half = z/d · sqrt(0.25·0.75/20 + z²/1600) = 1.644168 · 0.108517 = 0.178420 → [0.111864, 0.468704].
    assert r["ci_low"] == pytest.approx(0.111864, abs=1e-5)
    assert r["ci_high"] == pytest.approx(0.468704, abs=1e-5)
    # Baseline: 2 of 40 in January = 0.05; delta 0.20; rule 2: ai_merge_rate is always info.
    assert r["baseline"] == pytest.approx(0.05) and r["delta"] == pytest.approx(0.20)
    assert r["status"] == "info"
    assert r["median"] is None and r["p90"] is None


def test_fewer_than_min_sample_events_is_insufficient_data_even_for_info_metrics():
    ev = evidence(prs=prs(19, "2026-03-03 10:00", ai=5) + prs(40, "2026-01-07 10:00", start=100))
    assert record(week_records(ev), "ai_merge_rate")["status"] == "insufficient_data"  # rule 1 before rule 2


def test_no_record_where_nothing_was_counted():
    ev = evidence(prs=prs(20, "2026-01-07 10:00"))
    assert week_records(ev).filter(pl.col("metric") == "ai_merge_rate").height == 0


# --- rollback_share -------------------------------------------------------------------------------


def rollback_scenario(period_rolled_back: int, period_ok: int, baseline_rolled_back: int, baseline_ok: int,
                      ai_rolled_back: int = 0, ai_ok: int = 0):
    """Baseline (January) and period (week of Mar 2) PRs in acme/api; the rolled-back ones ship in a
    deployment that a redeploy of the previous sha rolls back two hours later."""
    deps = [
        make_deployment("B1", sha="a", finished_at="2026-01-05 10:00"),
        make_deployment("B2", sha="b", finished_at="2026-01-06 10:00"),
        make_deployment("B3", sha="a", finished_at="2026-01-06 12:00"),  # rolls back B2
        make_deployment("B4", sha="c", finished_at="2026-01-07 10:00"),
        make_deployment("P1", sha="d", finished_at="2026-03-03 10:00"),
        make_deployment("P2", sha="c", finished_at="2026-03-03 12:00"),  # rolls back P1
        make_deployment("P3", sha="e", finished_at="2026-03-04 10:00"),
    ]
    rows = (
        [make_pr(1000 + i, merged_at="2026-01-06 09:00") for i in range(baseline_rolled_back)]
        + [make_pr(2000 + i, merged_at="2026-01-07 09:00") for i in range(baseline_ok)]
        + [make_pr(3000 + i, merged_at="2026-03-03 09:00", ai=i < ai_rolled_back) for i in range(period_rolled_back)]
        + [make_pr(4000 + i, merged_at="2026-03-04 09:00", ai=i < ai_ok) for i in range(period_ok)]
    )
    return evidence(prs=rows, deployments=deps)


def test_rollback_share_significantly_worse_than_baseline():
    ev = rollback_scenario(10, 10, 5, 95, ai_rolled_back=6, ai_ok=2)
    records = week_records(ev, metrics=["rollback_share"])
    r = record(records, "rollback_share")
    # 10 of 20 rolled back = 0.5 against a baseline of 5/100 = 0.05.
    assert (r["value"], r["numerator"], r["n"], r["baseline"], r["baseline_n"]) == (0.5, 10, 20, 0.05, 100)
    # Pooled p = 15/120 = 0.125; se = sqrt(0.125·0.875·(1/20 + 1/100)) = 0.081009; z = 0.45/0.081009 = 5.555
    # → p ≈ 2.8e-8 < 0.05, higher share is worse.
    assert r["test_p"] == pytest.approx(2.78e-8, rel=0.05)
    assert r["status"] == "worse"
    # Segments by the PR's flag: AI 6 of 8, non-AI 4 of 12; both n < 20 → insufficient_data (rule 1).
    ai, non_ai = record(records, "rollback_share", "ai"), record(records, "rollback_share", "non_ai")
    assert (ai["numerator"], ai["n"], ai["status"]) == (6, 8, "insufficient_data")
    assert (non_ai["numerator"], non_ai["n"], non_ai["status"]) == (4, 12, "insufficient_data")
    # Segment records compare with the same team's baseline of segment all.
    assert ai["baseline"] == 0.05


def test_rollback_share_difference_not_significant_is_at_baseline():
    r = record(week_records(rollback_scenario(2, 18, 5, 95), metrics=["rollback_share"]), "rollback_share")
    # 2/20 = 0.10 vs 0.05: pooled 7/120 = 0.058333; se = sqrt(0.058333·0.941667·0.06) = 0.057409;
    # z = 0.05/0.057409 = 0.871 → p = 0.384.
    assert r["test_p"] == pytest.approx(0.3838, abs=2e-3)
    assert r["status"] == "at_baseline"


def test_rollback_share_of_zero_against_zero_has_nothing_to_test():
    r = record(week_records(rollback_scenario(0, 20, 0, 100), metrics=["rollback_share"]), "rollback_share")
    assert (r["value"], r["baseline"], r["test_p"], r["status"]) == (0.0, 0.0, None, "at_baseline")


def test_baseline_with_fewer_than_min_sample_events_is_insufficient_data():
    r = record(week_records(rollback_scenario(10, 10, 5, 14), metrics=["rollback_share"]), "rollback_share")
    assert r["baseline_n"] == 19 and r["status"] == "insufficient_data"  # rule 3


def test_missing_baseline_is_info():
    ev = evidence(prs=prs(20, "2026-03-03 10:00"))
    r = record(week_records(ev, metrics=["rollback_share"]), "rollback_share")
    assert (r["baseline"], r["delta"], r["status"]) == (None, None, "info")  # rule 2


# --- mttr_hours -----------------------------------------------------------------------------------


def incidents(hours: list[float], resolved: str, prefix: str, ai: bool = False) -> list[dict]:
    end = dt.datetime.fromisoformat(resolved)
    return [
        make_incident(f"{prefix}{i}", started_at=(end - dt.timedelta(hours=h)).isoformat(sep=" "),
                      resolved_at=resolved, ai=ai)
        for i, h in enumerate(hours)
    ]


def test_mttr_mean_median_p90_interval_and_mann_whitney_better():
    period = incidents(list(range(1, 21)), "2026-03-04 12:00", "p")
    base = incidents(list(range(11, 31)), "2026-01-14 12:00", "b")
    r = record(week_records(evidence(incidents=period + base), metrics=["mttr_hours"]), "mttr_hours")
    # Durations 1..20 h: mean 10.5, total 210, median 10.5, p90 at position 19·0.9 = 17.1 → 18 + 0.1 = 18.1.
    assert (r["value"], r["numerator"], r["n"]) == (10.5, 210, 20)
    assert r["median"] == pytest.approx(10.5) and r["p90"] == pytest.approx(18.1)
    # s = sqrt(35) = 5.916080; half = 1.959964 · 5.916080 / sqrt(20) = 2.592794 → [7.907206, 13.092794].
    assert r["ci_low"] == pytest.approx(7.907206, abs=1e-5) and r["ci_high"] == pytest.approx(13.092794, abs=1e-5)
    # Baseline 11..30 h: mean 20.5. Mann–Whitney: U(period) = Σ_{x=11..20} (x − 11 + 0.5) = 50; mean U = 200;
    # ties: ten values twice, σ² = 400/12 · (41 − 60/1560) = 1365.385, σ = 36.951;
    # z = (150 − 0.5)/36.951 = 4.046 → p = 5.2e-5: significant, and the mean is lower → better.
    assert r["baseline"] == 20.5 and r["delta"] == -10
    assert r["test_p"] == pytest.approx(5.2e-5, rel=0.05)
    assert r["status"] == "better"


def test_mttr_same_durations_as_baseline_is_at_baseline_and_segments_follow_the_incident_flag():
    period = incidents([2.0] * 10, "2026-03-04 12:00", "a", ai=True) + incidents([4.0] * 10, "2026-03-04 12:00", "n")
    base = incidents([2.0] * 10 + [4.0] * 10, "2026-01-14 12:00", "b")
    records = week_records(evidence(incidents=period + base), metrics=["mttr_hours"])
    r = record(records, "mttr_hours")
    assert (r["value"], r["baseline"], r["status"]) == (3.0, 3.0, "at_baseline")
    ai = record(records, "mttr_hours", "ai")
    assert (ai["value"], ai["n"], ai["ci_low"], ai["ci_high"]) == (2.0, 10, 2.0, 2.0)  # s = 0: a zero-width interval


def test_mean_interval_is_clipped_at_zero_hours_and_absent_below_two_events():
    period = incidents([0.1, 0.1, 10.0], "2026-03-04 12:00", "p")
    r = record(week_records(evidence(incidents=period), metrics=["mttr_hours"]), "mttr_hours")
    # mean 3.4, s = sqrt(((-3.3)² + (-3.3)² + 6.6²)/2) = sqrt(32.67) = 5.715767, half = 1.959964·5.715767/sqrt(3) = 6.467881:
    # [−3.07, 9.867881] clipped to [0, 9.867881].
    assert r["ci_low"] == 0.0 and r["ci_high"] == pytest.approx(9.867881, abs=1e-5)
    single = record(week_records(evidence(incidents=incidents([5.0], "2026-03-04 12:00", "s")), metrics=["mttr_hours"]), "mttr_hours")
    assert (single["ci_low"], single["ci_high"]) == (None, None)


def test_unresolved_incidents_do_not_count():
    ev = evidence(incidents=[make_incident("open", started_at="2026-03-03 10:00", resolved_at=None)])
    assert week_records(ev, metrics=["mttr_hours"]).height == 0


# --- deflection_rate and csat ---------------------------------------------------------------------


def tickets(n_deflected: int, n_human: int, resolved: str, prefix: str, csat: float | None = None,
            channel: str = "ai_bot") -> list[dict]:
    return (
        [make_ticket(f"{prefix}d{i}", resolved_at=resolved, channel=channel, csat=csat) for i in range(n_deflected)]
        + [make_ticket(f"{prefix}h{i}", resolved_at=resolved, channel="human", csat=csat) for i in range(n_human)]
    )


def test_deflection_better_when_csat_holds():
    ev = evidence(tickets=tickets(12, 8, "2026-03-04 12:00", "p", csat=4.1) + tickets(5, 15, "2026-01-14 12:00", "b", csat=4.2))
    records = week_records(ev, metrics=["deflection_rate"])
    r = record(records, "deflection_rate")
    # 12/20 = 0.6 vs 5/20 = 0.25: pooled 17/40 = 0.425, se = sqrt(0.425·0.575·0.1) = 0.156325,
    # z = 0.35/0.156325 = 2.239 → p = 0.0252: better. CSAT 4.1 is within 0.2 of 4.2: no guardrail.
    assert (r["value"], r["baseline"]) == (0.6, 0.25)
    assert r["test_p"] == pytest.approx(0.0252, abs=5e-4)
    assert r["status"] == "better"
    assert set(records["metric"]) == {"deflection_rate"}  # CSAT computed for the guardrail, not returned


def test_deflection_worse_when_csat_slips_more_than_the_tolerance():
    ev = evidence(tickets=tickets(12, 8, "2026-03-04 12:00", "p", csat=3.9) + tickets(5, 15, "2026-01-14 12:00", "b", csat=4.2))
    # CSAT 3.9 < 4.2 − 0.2 with n = 20 on both sides: rule 6 says worse despite the higher deflection.
    assert record(week_records(ev, metrics=["deflection_rate"]), "deflection_rate")["status"] == "worse"


def test_csat_guardrail_needs_enough_scored_tickets():
    period = tickets(12, 8, "2026-03-04 12:00", "p")
    for t in period[:19]:
        t["csat"] = 3.0  # only 19 scored tickets: the guardrail does not apply
    ev = evidence(tickets=period + tickets(5, 15, "2026-01-14 12:00", "b", csat=4.2))
    assert record(week_records(ev, metrics=["deflection_rate"]), "deflection_rate")["status"] == "better"


@pytest.mark.parametrize(("score", "status"), [(4.0, "at_baseline"), (3.9, "worse"), (4.5, "better"), (4.4, "at_baseline")])
def test_csat_status_by_tolerance(score, status):
    # Baseline 4.2, tolerance 0.2: exactly 0.2 below (4.0) or above (4.4) is still at baseline.
    ev = evidence(tickets=tickets(10, 10, "2026-03-04 12:00", "p", csat=score) + tickets(10, 10, "2026-01-14 12:00", "b", csat=4.2))
    assert record(week_records(ev, metrics=["csat"]), "csat")["status"] == status


def test_csat_segments_and_interval_clipped_to_five():
    period = tickets(10, 0, "2026-03-04 12:00", "a", csat=5.0) + [
        make_ticket("h1", resolved_at="2026-03-04 12:00", channel="human", csat=5.0),
        make_ticket("h2", resolved_at="2026-03-04 12:00", channel="self_serve", csat=3.0),
        make_ticket("h3", resolved_at="2026-03-04 12:00", channel="human", csat=None),  # unscored: not counted
    ]
    records = week_records(evidence(tickets=period), metrics=["csat"])
    ai, non_ai = record(records, "csat", "ai"), record(records, "csat", "non_ai")
    assert (ai["value"], ai["n"]) == (5.0, 10)
    # non_ai: 5 and 3 → mean 4, s = sqrt(2) = 1.414214, half = 1.959964·1.414214/sqrt(2) = 1.959964 → [2.04, 5.96]
    # clipped to [2.040036, 5].
    assert (non_ai["value"], non_ai["n"]) == (4.0, 2)
    assert non_ai["ci_low"] == pytest.approx(2.040036, abs=1e-5) and non_ai["ci_high"] == 5.0


# --- ai_cost_per_unit -----------------------------------------------------------------------------


# The cost has its own default window (the first weeks with spend) whatever [baseline] says: these tests
# of the status rule give it January explicitly.
COST_CONFIG = Config(baseline=BaselineConfig(window=BASELINE.window, per_metric={"ai_cost_per_unit": BASELINE.window}))


def cost_scenario(period_spend: float, team: str | None = None):
    units = prs(60, "2026-03-03 10:00", team=team) + prs(100, "2026-01-07 10:00", start=500, team=team)
    units_other = tickets(20, 20, "2026-03-04 12:00", "t", channel="self_serve")
    for t in units_other:
        t["team"] = team
    spend = [make_spend("s1", date="2026-03-03", cost=period_spend, team=team),
             make_spend("s0", date="2026-01-07", cost=100.0, team=team)]
    return evidence(prs=units, tickets=units_other, spend=spend)


@pytest.mark.parametrize(("spend", "status"), [(110.0, "at_baseline"), (111.0, "worse"), (89.0, "better"), (90.0, "at_baseline")])
def test_cost_per_unit_against_baseline_with_ten_percent_tolerance(spend, status):
    r = record(week_records(cost_scenario(spend), COST_CONFIG, metrics=["ai_cost_per_unit"]), "ai_cost_per_unit")
    # Units in the week: 60 merged PRs + 40 resolved tickets = 100; baseline $100 / 100 PRs = $1.00.
    assert (r["numerator"], r["denominator"], r["n"]) == (spend, 100, 100)
    assert r["value"] == pytest.approx(spend / 100) and r["baseline"] == 1.0
    assert (r["ci_low"], r["ci_high"]) == (None, None)
    assert r["status"] == status


def test_no_cost_record_without_spend_rows_for_that_team():
    ev = cost_scenario(100.0, team="payments")
    more = ev.pull_requests.vstack(evidence(prs=prs(5, "2026-03-03 10:00", start=900, team="web")).pull_requests)
    records = week_records(ev.replace(pull_requests=more), metrics=["ai_cost_per_unit"])
    assert set(records["team"].to_list()) == {"payments", None}  # no record for web: it has no spend
    org = record(records, "ai_cost_per_unit")
    # The whole org counts every unit, web's too: $100 / (65 PRs + 40 tickets).
    assert org["n"] == 105 and org["value"] == pytest.approx(100 / 105)


# --- teams, periods, baselines --------------------------------------------------------------------


def test_teams_row_team_wins_then_mapping_then_unassigned_and_org_counts_all():
    from config import TeamConfig

    config = Config(baseline=BASELINE, rules=RulesConfig(min_sample=1),
                    teams={"payments": TeamConfig(repos=("acme/pay-*",)), "web": TeamConfig(repos=("acme/web",))})
    ev = evidence(prs=[
        make_pr(1, repo="acme/pay-api", merged_at="2026-03-03 10:00"),
        make_pr(2, repo="ACME/Web", merged_at="2026-03-03 10:00"),  # globs match case-insensitively
        make_pr(3, repo="acme/pay-api", merged_at="2026-03-03 10:00", team="core"),  # own team wins
        make_pr(4, repo="acme/misc", merged_at="2026-03-03 10:00"),
    ])
    records = week_records(ev, config, metrics=["ai_merge_rate"])
    assert {r["team"]: r["n"] for r in records.iter_rows(named=True)} == {
        None: 4, "payments": 1, "web": 1, "core": 1, "unassigned": 1,
    }
    only = week_records(ev, config, metrics=["ai_merge_rate"], team="unassigned")
    assert only["team"].to_list() == ["unassigned"]


def test_weeks_start_monday_utc_and_offsets_are_converted():
    config = Config(rules=RulesConfig(min_sample=1))
    ev = evidence(prs=[
        make_pr(1, merged_at="2026-03-08 23:59:59"),  # Sunday: week of Mar 2
        make_pr(2, merged_at="2026-03-09 00:00"),  # Monday: week of Mar 9
        make_pr(3, merged_at="2026-03-09T01:00:00+02:00"),  # 23:00 UTC on Sunday: week of Mar 2
    ])
    records = compute(ev, config, grain="week", start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 15), metrics=["ai_merge_rate"])
    records = records.filter(pl.col("team").is_null())
    assert dict(zip(records["period"].to_list(), records["n"].to_list())) == {dt.date(2026, 3, 2): 2, dt.date(2026, 3, 9): 1}


def test_report_holds_the_periods_whose_first_day_lies_in_the_range():
    config = Config(rules=RulesConfig(min_sample=1))
    ev = evidence(prs=[make_pr(1, merged_at="2026-03-03 10:00"), make_pr(2, merged_at="2026-03-10 10:00"),
                       make_pr(3, merged_at="2026-04-15 10:00")])
    # Starting on Wednesday Mar 4: the week of Mar 2 begins before the range and is not reported.
    weeks = compute(ev, config, grain="week", start=dt.date(2026, 3, 4), end=dt.date(2026, 3, 16), metrics=["ai_merge_rate"])
    assert weeks.filter(pl.col("team").is_null())["period"].to_list() == [dt.date(2026, 3, 9)]
    months = compute(ev, config, grain="month", start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 1), metrics=["ai_merge_rate"])
    months = months.filter(pl.col("team").is_null())
    assert dict(zip(months["period"].to_list(), months["n"].to_list())) == {dt.date(2026, 3, 1): 2, dt.date(2026, 4, 1): 1}


def test_default_baseline_is_the_13_weeks_before_the_first_period():
    ev = evidence(prs=prs(20, "2026-03-03 10:00", ai=10)
                  + prs(20, "2025-12-01 00:00", start=100, ai=4)   # first instant of the window: in
                  + prs(20, "2025-11-30 23:59", start=200, ai=20)  # a minute before: out
                  + prs(20, "2026-03-01 23:59", start=300))       # last Sunday before the period: in
    r = record(compute(ev, Config(), grain="week", start=WEEK, end=WEEK, metrics=["ai_merge_rate"]), "ai_merge_rate")
    assert (r["baseline_n"], r["baseline"]) == (40, 0.1)
    assert r["baseline_start"] == dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)


def test_configured_baseline_end_counts_through_the_end_of_day_and_per_metric_windows_win():
    config = Config(baseline=BaselineConfig(
        window=BaselineWindow(dt.date(2026, 1, 5), dt.date(2026, 1, 11)),
        per_metric={"ai_merge_rate": BaselineWindow(dt.date(2026, 1, 12), dt.date(2026, 1, 18))},
    ))
    ev = evidence(prs=prs(20, "2026-03-03 10:00")
                  + prs(20, "2026-01-11 23:59:59", start=100, ai=20)   # last second of [baseline]
                  + prs(20, "2026-01-18 23:59:59", start=200, ai=5))   # last second of the metric's own window
    records = week_records(ev, config, metrics=["ai_merge_rate", "rollback_share"])
    assert record(records, "ai_merge_rate")["baseline"] == 0.25  # 5/20 from [baseline.ai_merge_rate]
    assert record(records, "rollback_share")["baseline_n"] == 20  # the 20 PRs of Jan 11 from [baseline]


def test_records_follow_design_output_order_and_columns():
    from metrics.registry import OUTPUT_COLUMNS
    from metrics.scorecard import select_output

    ev = rollback_scenario(10, 10, 5, 95)
    out = select_output(week_records(ev))
    assert tuple(out.columns) == OUTPUT_COLUMNS
    # PRs and deployments, no incidents, tickets, spend or reviews: the PR and deployment metrics, in
    # registry order.
    assert out["metric"].unique(maintain_order=True).to_list() == [
        "ai_merge_rate", "rollback_share", "deployment_frequency", "lead_time_hours", "change_failure_rate", "rework_rate",
    ]


def test_resolved_incidents_count_as_cost_units():
    ev = evidence(
        prs=prs(10, "2026-03-03 10:00"),
        incidents=[make_incident(f"i{i}", started_at="2026-03-04 08:00", resolved_at="2026-03-04 09:00") for i in range(5)]
        + [make_incident("open", started_at="2026-03-04 08:00", resolved_at=None)],
        spend=[make_spend("s", date="2026-03-05", cost=30.0)],
    )
    r = record(week_records(ev, metrics=["ai_cost_per_unit"]), "ai_cost_per_unit")
    # $30 over 10 merged PRs + 5 resolved incidents (the open one is no unit) = $2.00.
    assert (r["n"], r["value"], r["status"]) == (15, 2.0, "insufficient_data")


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_values_metrics_in_parts_on_worker_threads_equal_one_part(parts, monkeypatch):
    """Lead time and MTTR are computed on worker threads, their weeks cut into parts of about as many rows
    (metrics.scorecard._submit_values); the records are exactly those of one part (forced here on a
    small table: 900 incidents over 20 weeks, three teams, AI and not)."""
    import numpy as np

    import metrics.scorecard as scorecard
    from metrics.scorecard import prepare

    rng = np.random.default_rng(parts)
    starts = dt.datetime(2025, 10, 6) + np.array([dt.timedelta(hours=int(h)) for h in rng.integers(0, 20 * 7 * 24, 900)])
    rows = [make_incident(f"i{i}", started_at=f"{s:%Y-%m-%d %H:%M}", ai=bool(rng.random() < 0.3),
                          resolved_at=f"{s + dt.timedelta(minutes=int(rng.integers(5, 3000))):%Y-%m-%d %H:%M}",
                          team=str(rng.choice(["a", "b", "c"])))
            for i, s in enumerate(starts)]
    cube = prepare(evidence(incidents=rows), Config()).cube
    report = dict(grain="week", start=dt.date(2025, 12, 1), end=dt.date(2026, 2, 22), metrics=["mttr_hours"])
    monkeypatch.setattr(scorecard, "_SPLIT_ROWS", 10**9)
    one = compute(cube, Config(), **report)
    monkeypatch.setattr(scorecard, "_SPLIT_ROWS", 0)
    monkeypatch.setattr(scorecard, "_PARTS", parts)
    assert len(scorecard._period_parts(scorecard._value_rows(cube, "mttr_hours", None),
                                       scorecard._period_days(scorecard.period_starts(dt.date(2025, 12, 1), dt.date(2026, 2, 22), "week"), "week",
                                                              (dt.date(2025, 12, 1), dt.date(2026, 2, 22))))) == parts
    split = compute(cube, Config(), **report)
    assert one.height > 60 and split.equals(one)


def test_concurrent_callers_share_the_worker_pool_and_get_the_same_records(monkeypatch):
    """Dashboard sessions call `compute` at once on one cube: each takes the work no worker has started,
    none waits on another's, and every caller gets the records a lone call gives (small parts forced)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    import metrics.scorecard as scorecard
    from metrics.scorecard import prepare

    rng = np.random.default_rng(11)
    starts = dt.datetime(2025, 10, 6) + np.array([dt.timedelta(hours=int(h)) for h in rng.integers(0, 20 * 7 * 24, 400)])
    rows = [make_incident(f"i{i}", started_at=f"{s:%Y-%m-%d %H:%M}", team=str(rng.choice(["a", "b"])),
                          resolved_at=f"{s + dt.timedelta(minutes=int(rng.integers(5, 3000))):%Y-%m-%d %H:%M}")
            for i, s in enumerate(starts)]
    cube = prepare(evidence(incidents=rows), Config()).cube
    monkeypatch.setattr(scorecard, "_SPLIT_ROWS", 0)
    report = dict(grain="week", start=dt.date(2025, 12, 1), end=dt.date(2026, 2, 22))
    alone = compute(cube, Config(), **report)
    with ThreadPoolExecutor(6) as callers:
        together = list(callers.map(lambda _: compute(cube, Config(), **report), range(6)))
    assert alone.height > 40 and all(records.equals(alone) for records in together)


def test_values_made_ahead_are_made_once_however_many_threads_ask():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from metrics.scorecard import _Ahead

    made, gate = [], threading.Event()

    def make():
        gate.wait(5)
        made.append(1)
        return object()

    with ThreadPoolExecutor(1) as busy:
        busy.submit(gate.wait, 5)  # the pool's one worker is busy: the work waits in its queue
        work = _Ahead(busy, make)
        with ThreadPoolExecutor(4) as callers:
            results = [callers.submit(work.result) for _ in range(4)]
            gate.set()
            got = {id(r.result(timeout=10)) for r in results}
    # One caller made it (the others waited for it); the worker, free at last, found it made.
    assert len(made) == 1 and len(got) == 1 and id(work.result()) in got
