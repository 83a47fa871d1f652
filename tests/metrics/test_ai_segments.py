"""Tool and mode segments of the rollback share (DESIGN.md: `tool:<name>` for each tool in `ai_tools`, a
PR with two tools counting in both; AI-assisted PRs only; the baseline is segment `all`)."""
import datetime as dt

import polars as pl

from config import Config, RulesConfig
from metrics.explain import record_events
from metrics.scorecard import compute, prepare
from tests.factories import evidence, make_deployment, make_pr


def march() -> tuple:
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-03 10:00"),
            make_deployment("D3", sha="a", finished_at="2026-03-05 10:00"),  # restores a: rolls back D2
        ],
        prs=[
            make_pr(1, merged_at="2026-03-02 09:00", ai=True, tools=["Claude Code"], mode="co_authored"),  # D2
            make_pr(2, merged_at="2026-03-02 10:00", ai=True, tools=["Claude Code", "Cursor"], mode="agent"),  # D2
            make_pr(3, merged_at="2026-03-02 11:00", ai=True, tools=["Cursor"], mode="co_authored"),  # D2
            make_pr(4, merged_at="2026-03-05 12:00", ai=True, tools=["Cursor"], mode="labelled"),  # not shipped
            make_pr(5, merged_at="2026-03-01 08:00"),  # D1, not AI-assisted
            make_pr(6, merged_at="2026-03-06 12:00", ai=True, tools=[], mode="labelled"),  # a label naming no tool
        ],
    )
    config = Config(rules=RulesConfig(min_sample=1))
    return ev, config


def test_rollback_share_by_tool_and_mode_worked_by_hand():
    ev, config = march()
    records = compute(ev, config, grain="month", start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31),
                      metrics=["rollback_share"]).filter(pl.col("team").is_null())
    got = {r["segment"]: (r["numerator"], r["n"], r["baseline"]) for r in records.iter_rows(named=True)}
    # D3 rolls back D2, which shipped #1, #2 and #3. Baseline (segment all, default window: the 13 weeks
    # before March) has no PRs: null for every segment.
    assert got == {
        "all": (3, 6, None),  # #1–#6
        "ai": (3, 5, None),  # #1, #2, #3, #4, #6
        "non_ai": (0, 1, None),  # #5
        # Cohorts (all six by "dev"): #5 merged Sun 1 Mar, week of 23 Feb, whose 28 days hold only #5 (not
        # AI) → none; #1–#4 and #6 merged in the week of 2 Mar, whose 28 days hold #1–#6: 5 of 6 AI → heavy.
        "cohort:heavy": (3, 5, None),  # #1, #2, #3 rolled back
        "cohort:none": (0, 1, None),  # #5
        "mode:agent": (1, 1, None),  # #2
        "mode:co_authored": (2, 2, None),  # #1, #3
        "mode:labelled": (0, 2, None),  # #4, #6
        "tool:Claude Code": (2, 2, None),  # #1, #2
        "tool:Cursor": (2, 3, None),  # #2 (also Claude Code), #3, #4
    }
    # Ordered all, ai, non_ai, then the cohort and AI segments by name.
    assert records["segment"].to_list() == list(got)


def test_a_tool_segment_lists_its_prs_in_the_drill_down():
    ev, config = march()
    rows = record_events(prepare(ev, config), "rollback_share", grain="month", period=dt.date(2026, 3, 1),
                         segment="tool:Cursor")
    assert sorted(rows["number"].to_list()) == [2, 3, 4]
    assert rows.filter(pl.col("counted") == "numerator")["number"].sort().to_list() == [2, 3]


def test_cohort_segments_per_author_and_week_in_records_and_drill_down():
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-11 10:00"),
            make_deployment("D3", sha="a", finished_at="2026-03-12 10:00"),  # restores a: rolls back D2
        ],
        prs=[
            make_pr(1, merged_at="2026-02-24 09:00", author="ana", ai=True, tools=["Cursor"]),  # D1
            make_pr(2, merged_at="2026-02-25 09:00", author="ana"),  # D1
            make_pr(3, merged_at="2026-02-26 09:00", author="ana"),  # D1
            make_pr(4, merged_at="2026-03-10 09:00", author="ana"),  # D2 (rolled back)
            make_pr(5, merged_at="2026-03-10 10:00", author="bo"),  # D2 (rolled back)
            make_pr(6, merged_at="2026-03-10 11:00", author="bo"),  # D2 (rolled back)
            make_pr(7, merged_at="2026-03-10 12:00", author="renovate[bot]"),  # D2: a bot has no cohort
        ],
    )
    config = Config(rules=RulesConfig(min_sample=1))
    records = compute(ev, config, grain="week", start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 15),
                      metrics=["rollback_share"]).filter(pl.col("team").is_null())
    got = {r["segment"]: (r["numerator"], r["n"]) for r in records.iter_rows(named=True)}
    # Week of 9 Mar, its 28 days from 16 Feb: ana merged #1–#4, 1 AI-assisted of 4 = 25 % → moderate
    # (25–60 % inclusive); bo merged #5, #6, none AI → none. #4, #5, #6 and #7 shipped in D2, rolled back.
    assert got["all"] == (4, 4)
    assert (got["cohort:moderate"], got["cohort:none"]) == ((1, 1), (2, 2))
    assert not any(s in got for s in ("cohort:light", "cohort:heavy"))
    rows = record_events(prepare(ev, config), "rollback_share", grain="week", period=dt.date(2026, 3, 9),
                         segment="cohort:none")
    assert sorted(rows["number"].to_list()) == [5, 6]


def test_rework_rate_has_cohort_segments():
    ev = evidence(prs=[
        make_pr(1, merged_at="2026-03-02 09:00", author="ana", ai=True),
        make_pr(2, merged_at="2026-03-10 09:00", author="ana"),
        make_pr(3, merged_at="2026-03-10 10:00", author="bo"),
        make_pr(4, merged_at="2026-03-11 10:00", author="bo", title="Revert Change 2", reverts_pr_id="github:acme/api#2"),
    ])
    config = Config(rules=RulesConfig(min_sample=1))
    records = compute(ev, config, grain="week", start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 15),
                      metrics=["rework_rate"]).filter(pl.col("team").is_null())
    got = {r["segment"]: (r["numerator"], r["n"]) for r in records.iter_rows(named=True)}
    # Merged in the week of 9 Mar: #2, #3, #4; #2 reworked (reverted by #4). Cohorts over the 28 days from
    # 16 Feb: ana #1 (AI), #2 → 1 of 2 = 50 % → moderate; bo #3, #4, none AI → none.
    assert got == {"all": (1, 3), "non_ai": (1, 3), "cohort:moderate": (1, 1), "cohort:none": (0, 2)}  # no AI PR: no ai record
    rows = record_events(prepare(ev, config), "rework_rate", grain="week", period=dt.date(2026, 3, 9),
                         segment="cohort:moderate")
    assert rows["number"].to_list() == [2] and rows["counted"].to_list() == ["numerator"]


def test_lead_time_has_cohort_segments_by_the_merge_weeks_cohort():
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-03 12:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-10 18:00"),
        ],
        prs=[
            make_pr(1, created_at="2026-03-03 07:00", merged_at="2026-03-03 09:00", author="ana", ai=True),  # D1, 5 h
            make_pr(6, created_at="2026-03-08 08:00", merged_at="2026-03-08 12:00", author="ana", ai=True),  # D2, 58 h
            make_pr(2, created_at="2026-03-10 08:00", merged_at="2026-03-10 09:00", author="ana"),  # D2, 10 h
            make_pr(7, created_at="2026-03-10 11:00", merged_at="2026-03-10 12:00", author="ana"),  # D2, 7 h
            make_pr(3, created_at="2026-03-09 10:00", merged_at="2026-03-10 10:00", author="bo"),  # D2, 32 h
            make_pr(4, created_at="2026-03-10 16:00", merged_at="2026-03-10 17:00", author="bo"),  # D2, 2 h
            make_pr(5, created_at="2026-03-10 12:00", merged_at="2026-03-10 13:00", author="renovate[bot]"),  # D2, 6 h
        ],
    )
    config = Config(rules=RulesConfig(min_sample=1))
    records = compute(ev, config, grain="week", start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 15),
                      metrics=["lead_time_hours"]).filter(pl.col("team").is_null())
    got = {r["segment"]: (r["value"], r["n"], r["numerator"], r["ci_low"], r["ci_high"])
           for r in records.iter_rows(named=True)}
    # Counted in the week of 9 Mar (D2 finished 10 Mar 18:00): #6 58 h, #2 10, #7 7, #3 32, #4 2, #5 6.
    # Cohorts by the PR's merge week: ana's week of 2 Mar (28 days from 9 Feb: #1, #6, both AI) → heavy, so
    # #6 (merged Sunday 8 Mar) is heavy although it ships in the next week; her week of 9 Mar (from 16 Feb:
    # #1, #6 AI, #2, #7 not) 2 of 4 = 50 % → moderate; bo (#3, #4, no AI) → none; the bot has no cohort.
    # all: [2, 6, 7, 10, 32, 58] median 8.5, total 115 h. n = 6: j = max(1, ⌊3 − 2.4⌋ = 0) = 1 → 2;
    # k = min(6, ⌈4 + 2.4⌉ = 7) = 6 → 58. moderate [7, 10]: median 8.5, j = 1 → 7, k = min(2, 4) → 10.
    # none [2, 32]: median 17. heavy [58]: one value, no interval.
    assert got == {
        "all": (8.5, 6, 115.0, 2.0, 58.0),
        "ai": (58.0, 1, 58.0, None, None),
        "non_ai": (7.0, 5, 57.0, 2.0, 32.0),
        "cohort:heavy": (58.0, 1, 58.0, None, None),
        "cohort:moderate": (8.5, 2, 17.0, 7.0, 10.0),
        "cohort:none": (17.0, 2, 34.0, 2.0, 32.0),
    }
    rows = record_events(prepare(ev, config), "lead_time_hours", grain="week", period=dt.date(2026, 3, 9),
                         segment="cohort:heavy")
    assert rows["number"].to_list() == [6] and rows["value"].to_list() == [58.0]


def test_lead_time_has_tool_segments_worked_by_hand():
    # DESIGN.md, settled points: tool segments exist for rollback_share, lead_time_hours and rework_rate and
    # count only AI-assisted PRs (a PR with two tools counts in both); lead time has no mode segments.
    ev = evidence(
        deployments=[
            make_deployment("D1", sha="a", finished_at="2026-03-01 10:00"),
            make_deployment("D2", sha="b", finished_at="2026-03-03 10:00"),
        ],
        prs=[
            make_pr(1, created_at="2026-03-02 07:00", merged_at="2026-03-02 09:00", ai=True, tools=["Claude Code"],
                    mode="co_authored"),  # D2: 27 h
            make_pr(2, created_at="2026-03-02 04:00", merged_at="2026-03-02 10:00", ai=True,
                    tools=["Claude Code", "Cursor"], mode="agent"),  # D2: 30 h
            make_pr(3, created_at="2026-03-01 11:00", merged_at="2026-03-02 11:00", ai=True, tools=["Cursor"],
                    mode="co_authored"),  # D2: 47 h
            make_pr(5, created_at="2026-03-01 06:00", merged_at="2026-03-01 08:00"),  # D1: 4 h, not AI
        ],
    )
    config = Config(rules=RulesConfig(min_sample=1))
    records = compute(ev, config, grain="month", start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31),
                      metrics=["lead_time_hours"]).filter(pl.col("team").is_null())
    got = {r["segment"]: (r["value"], r["n"], r["numerator"], r["ci_low"], r["ci_high"])
           for r in records.iter_rows(named=True)}
    # all [4, 27, 30, 47]: median 28.5, total 108; n = 4: j = max(1, ⌊2 − 1.96⌋) = 1 → 4, k = min(4, ⌈4.96⌉) = 4
    # → 47. ai [27, 30, 47]: median 30; n = 3: j = 1 → 27, k = min(3, ⌈4.197⌉) = 3 → 47. n = 2: j = 1, k = 2.
    # Cohorts ("dev" wrote all four): #5 merged Sun 1 Mar, week of 23 Feb, its 28 days hold only #5 → none;
    # #1–#3 merged in the week of 2 Mar, whose 28 days hold #1, #2, #3 (AI) and #5 → 75 % → heavy.
    assert got == {
        "all": (28.5, 4, 108.0, 4.0, 47.0),
        "ai": (30.0, 3, 104.0, 27.0, 47.0),
        "non_ai": (4.0, 1, 4.0, None, None),
        "cohort:heavy": (30.0, 3, 104.0, 27.0, 47.0),
        "cohort:none": (4.0, 1, 4.0, None, None),
        "tool:Claude Code": (28.5, 2, 57.0, 27.0, 30.0),  # #1 27 h, #2 30 h
        "tool:Cursor": (38.5, 2, 77.0, 30.0, 47.0),  # #2 30 h, #3 47 h
    }
    assert records["segment"].to_list() == list(got)
    rows = record_events(prepare(ev, config), "lead_time_hours", grain="month", period=dt.date(2026, 3, 1),
                         segment="tool:Cursor")
    assert sorted(rows["number"].to_list()) == [2, 3] and sorted(rows["value"].to_list()) == [30.0, 47.0]


def test_rework_rate_has_tool_segments_worked_by_hand():
    ev = evidence(prs=[
        make_pr(1, merged_at="2026-03-10 09:00", ai=True, tools=["Claude Code"], mode="co_authored"),
        make_pr(2, merged_at="2026-03-10 10:00", ai=True, tools=["Claude Code", "Cursor"], mode="agent"),
        make_pr(3, merged_at="2026-03-10 11:00", ai=True, tools=["Cursor"], mode="co_authored"),
        make_pr(4, merged_at="2026-03-11 10:00", title="Revert Change 2", reverts_pr_id="github:acme/api#2"),
    ])
    config = Config(rules=RulesConfig(min_sample=1))
    records = compute(ev, config, grain="week", start=dt.date(2026, 3, 9), end=dt.date(2026, 3, 15),
                      metrics=["rework_rate"]).filter(pl.col("team").is_null())
    got = {r["segment"]: (r["numerator"], r["n"]) for r in records.iter_rows(named=True)}
    # Merged in the week of 9 Mar: #1–#4; #2 is reworked (reverted by #4). Its tools: Claude Code (#1, #2)
    # and Cursor (#2, #3) each 1 of 2. Cohort ("dev", 28 days from 16 Feb: 3 of 4 AI = 75 %) → heavy.
    assert got == {
        "all": (1, 4), "ai": (1, 3), "non_ai": (0, 1), "cohort:heavy": (1, 4),
        "tool:Claude Code": (1, 2), "tool:Cursor": (1, 2),
    }
    rows = record_events(prepare(ev, config), "rework_rate", grain="week", period=dt.date(2026, 3, 9),
                         segment="tool:Claude Code")
    assert sorted(rows["number"].to_list()) == [1, 2]
