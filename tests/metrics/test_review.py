"""Revision 2 of the scorecard: the range grain, the review window, the default baseline (the weeks
before AI adoption; the cost's own window), `as_of` and provisional records — numbers worked out by hand
in the comments."""
import datetime as dt

import polars as pl
import pytest

from config import BaselineConfig, BaselineWindow, Config, RulesConfig
from metrics.baseline import as_of, baselines, complete_weeks
from metrics.periods import review_window
from metrics.scorecard import compute, prepare
from tests.factories import evidence, make_deployment, make_pr, make_spend, make_ticket, ts

UTC = dt.timezone.utc
JANUARY = BaselineConfig(window=BaselineWindow(dt.date(2026, 1, 5), dt.date(2026, 2, 1)))


def rows_of(records: pl.DataFrame, metric: str, segment: str = "all", team: str | None = None) -> pl.DataFrame:
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    return records.filter((pl.col("metric") == metric) & (pl.col("segment") == segment) & who).sort("period")


# --- range grain ----------------------------------------------------------------------------------


def test_range_grain_is_one_period_of_the_whole_report_named_by_its_start():
    prs = (
        [make_pr(i, merged_at="2026-03-03 10:00", ai=i < 5) for i in range(20)]
        + [make_pr(100 + i, merged_at="2026-03-10 10:00", ai=i < 2) for i in range(29)]
        + [make_pr(200, merged_at="2026-03-15 23:59:59", ai=True)]  # the range's last instant: in
        + [make_pr(201, merged_at="2026-03-16 00:00", ai=True)]  # the next day: out
        + [make_pr(300 + i, merged_at="2026-01-07 10:00", ai=i < 1) for i in range(20)]  # January baseline
    )
    records = compute(evidence(prs=prs), Config(baseline=JANUARY), grain="range",
                      start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 15), metrics=["ai_merge_rate"])
    assert rows_of(records, "ai_merge_rate").height == 1  # the whole org's one record (and unassigned's)
    r = rows_of(records, "ai_merge_rate").row(0, named=True)
    # 20 + 29 + 1 = 50 merged PRs in [Mar 2, Mar 15 23:59:59.999]; AI-assisted 5 + 2 + 1 = 8 → 0.16.
    assert (r["grain"], r["period"], r["n"], r["numerator"]) == ("range", dt.date(2026, 3, 2), 50, 8)
    assert r["value"] == pytest.approx(0.16)
    # Baseline: 1 of 20 in January = 0.05; delta 0.11.
    assert r["baseline"] == pytest.approx(0.05) and r["delta"] == pytest.approx(0.11)


def test_range_grain_with_start_after_end_has_no_records():
    records = compute(evidence(prs=[make_pr(1, merged_at="2026-03-03 10:00")]), Config(), grain="range",
                      start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 2))
    assert records.height == 0


# --- review window --------------------------------------------------------------------------------


def test_review_window_is_the_last_13_whole_weeks_that_ended_by_as_of():
    start, end = dt.date(2026, 6, 1), dt.date(2026, 11, 29)  # Monday to Sunday: 26 whole weeks
    # as_of Sunday Nov 29: the last week (Nov 23–29) ends on as_of's date; 13 weeks back from Nov 23 = Aug 31.
    assert review_window(start, end, "week", dt.datetime(2026, 11, 29, 12, tzinfo=UTC)) == (
        dt.date(2026, 8, 31), dt.date(2026, 11, 29))
    # as_of Saturday Nov 28: that week has not ended; the window moves back a week.
    assert review_window(start, end, "week", dt.datetime(2026, 11, 28, 12, tzinfo=UTC)) == (
        dt.date(2026, 8, 24), dt.date(2026, 11, 22))
    # A range of two whole weeks (Jun 1–14; Jun 15–16 is not whole): those two.
    assert review_window(start, dt.date(2026, 6, 16), "week", None) == (dt.date(2026, 6, 1), dt.date(2026, 6, 14))
    # No whole week inside the range, or none ended by as_of: no window.
    assert review_window(dt.date(2026, 6, 2), dt.date(2026, 6, 8), "week", None) is None
    assert review_window(start, end, "week", dt.datetime(2026, 6, 6, tzinfo=UTC)) is None


def test_review_window_in_months_is_the_last_3_whole_months():
    assert review_window(dt.date(2026, 1, 1), dt.date(2026, 11, 30), "month",
                         dt.datetime(2026, 12, 3, tzinfo=UTC)) == (dt.date(2026, 9, 1), dt.date(2026, 11, 30))
    # as_of Nov 15: November has not ended → August to October.
    assert review_window(dt.date(2026, 1, 1), dt.date(2026, 11, 30), "month",
                         dt.datetime(2026, 11, 15, tzinfo=UTC)) == (dt.date(2026, 8, 1), dt.date(2026, 10, 31))


# --- default baseline -----------------------------------------------------------------------------


def weekly_prs(ai_by_week: dict[int, int], weeks: int = 20, per_week: int = 20) -> list[dict]:
    """`per_week` PRs merged each Tuesday 10:00 of the weeks from Monday Jan 5 2026 (week 1); in week k,
    `ai_by_week.get(k, 0)` of them AI-assisted."""
    out = []
    for k in range(1, weeks + 1):
        day = dt.date(2026, 1, 6) + dt.timedelta(weeks=k - 1)
        out += [make_pr(k * 100 + i, merged_at=f"{day} 10:00", ai=i < ai_by_week.get(k, 0)) for i in range(per_week)]
    return out


def test_complete_weeks_lie_wholly_inside_the_span():
    # Tue Jan 6 10:00 – Tue May 19 10:00: the first whole week is Jan 12, the last May 11 (May 18's runs on).
    assert complete_weeks(ts("2026-01-06 10:00"), ts("2026-05-19 10:00")) == (dt.date(2026, 1, 12), dt.date(2026, 5, 11))
    # A span from Monday 00:00 to Sunday 23:59:59.999999 is one whole week.
    assert complete_weeks(ts("2026-01-05 00:00"), ts("2026-01-11 23:59:59.999999")) == (dt.date(2026, 1, 5),) * 2
    assert complete_weeks(None, None) is None


def test_default_baseline_is_the_13_complete_weeks_before_the_adoption_week():
    # Week 16 (Apr 20) is the first with ≥ 20 merged PRs of which ≥ 5% (1 of 20) are AI-assisted; week 3's
    # 1 of 25 = 4% is not enough. Span Tue Jan 6 – Tue May 19: complete weeks Jan 12 – May 11.
    prs = weekly_prs({16: 1, 17: 4}) + [make_pr(9000 + i, merged_at="2026-01-20 11:00", ai=i < 1) for i in range(5)]
    cube = prepare(evidence(prs=prs), Config()).cube
    found = baselines(cube, Config())
    # Apr 20 − 13 weeks = Jan 19 (after Jan 12): Jan 19 00:00 – Apr 19 23:59:59.999999.
    assert found.adoption_week == dt.date(2026, 4, 20) and found.pre_ai
    assert (found.default.start, found.default.end) == (ts("2026-01-19 00:00"), ts("2026-04-19 23:59:59.999999"))
    assert "13 complete weeks before AI adoption" in found.why


def test_configured_adoption_start_wins_and_fewer_weeks_are_used_when_the_data_starts_later():
    config = Config(rules=RulesConfig(ai_adoption_start=dt.date(2026, 2, 4)))  # a Wednesday: week of Feb 2
    found = baselines(prepare(evidence(prs=weekly_prs({16: 1})), config).cube, config)
    # Feb 2 − 13 weeks lies before the first complete week (Jan 12): Jan 12 – Feb 1, 3 weeks.
    assert found.adoption_week == dt.date(2026, 2, 2)
    assert (found.default.first_day, found.default.last_day) == (dt.date(2026, 1, 12), dt.date(2026, 2, 1))
    assert "3 complete weeks" in found.why and "[rules] ai_adoption_start" in found.why


def test_ai_from_the_start_gives_the_first_13_complete_weeks_labelled_not_pre_ai():
    found = baselines(prepare(evidence(prs=weekly_prs({k: 2 for k in range(1, 21)})), Config()).cube, Config())
    # Adoption = week 1 (Jan 5), before the first complete week (Jan 12): Jan 12 + 13 weeks − 1 day = Apr 12.
    assert not found.pre_ai
    assert (found.default.first_day, found.default.last_day) == (dt.date(2026, 1, 12), dt.date(2026, 4, 12))
    assert found.why.startswith("not pre-AI")


def test_the_baseline_never_depends_on_the_report_range():
    prs = weekly_prs({16: 1, 17: 4, 18: 6, 19: 8, 20: 10})
    ev = evidence(prs=prs)
    early = compute(ev, Config(), grain="week", start=dt.date(2026, 4, 27), end=dt.date(2026, 5, 3), metrics=["ai_merge_rate"])
    late = compute(ev, Config(), grain="week", start=dt.date(2026, 5, 11), end=dt.date(2026, 5, 17), metrics=["ai_merge_rate"])
    # Both read Jan 19 – Apr 19 (13 weeks × 20 = 260 PRs, no AI-assisted one): baseline 0.
    for records in (early, late):
        r = rows_of(records, "ai_merge_rate").row(0, named=True)
        assert (r["baseline"], r["baseline_start"], r["baseline_end"]) == (
            0.0, ts("2026-01-19 00:00"), ts("2026-04-19 23:59:59.999999"))


def test_cost_baseline_is_its_own_first_13_complete_weeks_with_spend_whatever_baseline_says():
    spend = [make_spend(f"s{k}", date=str(dt.date(2026, 3, 10) + dt.timedelta(weeks=k)), cost=10.0) for k in range(10)]
    config = Config(baseline=JANUARY)
    found = baselines(prepare(evidence(prs=weekly_prs({}), spend=spend), config).cube, config)
    # The first complete week with spend: Mar 9. 13 weeks would run to Jun 7, but the last complete week
    # of the span is May 11: Mar 9 – May 17, 10 weeks. [baseline] (January) does not apply to it.
    cost = found.window("ai_cost_per_unit")
    assert (cost.first_day, cost.last_day) == (dt.date(2026, 3, 9), dt.date(2026, 5, 17))
    assert "10 complete weeks with AI spend" in found.own_why["ai_cost_per_unit"]
    assert found.window("rollback_share").first_day == dt.date(2026, 1, 5)  # [baseline] for the others
    own = Config(baseline=BaselineConfig(window=JANUARY.window,
                                         per_metric={"ai_cost_per_unit": BaselineWindow(dt.date(2026, 2, 2), dt.date(2026, 2, 8))}))
    assert baselines(prepare(evidence(prs=weekly_prs({}), spend=spend), own).cube, own).window(
        "ai_cost_per_unit").first_day == dt.date(2026, 2, 2)


# --- as_of and provisional ------------------------------------------------------------------------


def provisional_scenario(unshipped_feb_24: bool = True):
    """acme/api ships each week's PRs; acme/web never deploys, so its PRs stay unshipped."""
    deps = [
        make_deployment("D1", sha="a", finished_at="2026-02-18 12:00"),
        make_deployment("D2", sha="b", finished_at="2026-02-25 12:00"),
        make_deployment("D3", sha="c", finished_at="2026-03-03 12:00"),
        make_deployment("D4", sha="d", finished_at="2026-03-12 10:00"),  # the latest instant: as_of
    ]
    prs = (
        [make_pr(1, merged_at="2026-02-17 09:00"), make_pr(2, merged_at="2026-02-17 09:00", repo="acme/web")]
        + [make_pr(3, merged_at="2026-02-24 09:00"), make_pr(4, merged_at="2026-02-24 09:00", ai=True)]
        + ([make_pr(5, merged_at="2026-02-24 09:00", repo="acme/web")] if unshipped_feb_24 else [])
        + [make_pr(6, merged_at="2026-03-02 09:00")]
    )
    return evidence(prs=prs, deployments=deps)


def provisional_by_week(records: pl.DataFrame, metric: str = "rollback_share", segment: str = "all") -> dict:
    rows = rows_of(records, metric, segment)
    return dict(zip(rows["period"].to_list(), rows["provisional"].to_list()))


def weeks(ev, **kw):
    return compute(ev, Config(), grain="week", start=dt.date(2026, 2, 16), end=dt.date(2026, 3, 2), **kw)


def test_as_of_is_the_latest_merge_or_deployment_capped_at_now():
    cube = prepare(provisional_scenario(), Config()).cube
    assert as_of(cube) == ts("2026-03-12 10:00")
    assert as_of(cube, ts("2026-03-05 00:00")) == ts("2026-03-05 00:00")
    assert as_of(prepare(evidence(tickets=[make_ticket("t", resolved_at="2026-03-02 10:00")]), Config()).cube) is None


def test_rollback_share_is_provisional_until_its_window_has_passed():
    records = weeks(provisional_scenario(unshipped_feb_24=False))
    # as_of Mar 12 10:00, window 7 days. Week Feb 16 ends Feb 23 00:00, + 7 d = Mar 2 ≤ as_of: settled.
    # Week Feb 23: Mar 2 + 7 d = Mar 9: settled. Week Mar 2: Mar 9 + 7 d = Mar 16 > as_of: provisional.
    assert provisional_by_week(records) == {dt.date(2026, 2, 16): False, dt.date(2026, 2, 23): False,
                                            dt.date(2026, 3, 2): True}
    # A metric that does not look ahead is never provisional.
    assert set(provisional_by_week(records, "ai_merge_rate").values()) == {False}


def test_an_unshipped_pr_keeps_rollback_share_provisional_for_twice_the_window():
    records = weeks(provisional_scenario(unshipped_feb_24=True))
    # Week Feb 16 counts unshipped #2, but Feb 23 + 14 d = Mar 9 ≤ as_of: settled. Week Feb 23 counts
    # unshipped #5: Mar 2 + 14 d = Mar 16 > as_of: provisional; its ai segment (only #4, shipped) is not.
    assert provisional_by_week(records) == {dt.date(2026, 2, 16): False, dt.date(2026, 2, 23): True,
                                            dt.date(2026, 3, 2): True}
    assert provisional_by_week(records, segment="ai") == {dt.date(2026, 2, 23): False}
    assert provisional_by_week(records, segment="non_ai")[dt.date(2026, 2, 23)] is True


def test_now_caps_as_of_and_a_range_record_is_provisional_by_its_last_day():
    ev = provisional_scenario(unshipped_feb_24=False)
    # now Mar 5: week Feb 16 has unshipped #2 and Feb 23 + 14 d = Mar 9 > Mar 5: provisional again.
    assert provisional_by_week(weeks(ev, now=ts("2026-03-05 00:00")))[dt.date(2026, 2, 16)] is True
    # A range Feb 16 – Mar 8 ends Mar 9 00:00; + 7 d = Mar 16 > Mar 12: provisional. Feb 16 – 22: settled
    # (Feb 23 + 7 d and + 14 d both before Mar 12).
    long = compute(ev, Config(), grain="range", start=dt.date(2026, 2, 16), end=dt.date(2026, 3, 8))
    short = compute(ev, Config(), grain="range", start=dt.date(2026, 2, 16), end=dt.date(2026, 2, 22))
    assert rows_of(long, "rollback_share")["provisional"].to_list() == [True]
    assert rows_of(short, "rollback_share")["provisional"].to_list() == [False]


def test_nothing_is_provisional_without_a_merge_or_deployment():
    tickets = [make_ticket(f"t{i}", resolved_at="2026-03-03 10:00", channel="ai_bot") for i in range(20)]
    records = compute(evidence(tickets=tickets), Config(), grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 2))
    assert records.height > 0 and not records["provisional"].any()


def test_evidence_until_ignores_what_happened_after_now():
    ev = provisional_scenario(unshipped_feb_24=False)
    then = ev.until(ts("2026-02-25 00:00"))
    # At Feb 25 00:00: D1 only (D2 finishes Feb 25 12:00); #6 was not created yet (created Mar 2 04:00);
    # #1–#4 merged (Feb 17, Feb 24).
    assert then.deployments["id"].to_list() == ["D1"]
    assert sorted(then.pull_requests.filter(pl.col("merged_at").is_not_null())["number"].to_list()) == [1, 2, 3, 4]
    assert 6 not in then.pull_requests["number"].to_list()
    records = compute(then, Config(), grain="week", start=dt.date(2026, 2, 23), end=dt.date(2026, 2, 23),
                      metrics=["rollback_share"])
    # as_of = Feb 24 09:00 (the latest merge); #3 and #4 are unshipped then: provisional.
    assert rows_of(records, "rollback_share")["provisional"].to_list() == [True]
