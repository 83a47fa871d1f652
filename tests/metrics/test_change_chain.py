"""The change chain, edge by edge (DESIGN.md "The scorecard, second set"): incident causes, change failure,
lead time, rework and senior review load, each with its expected numbers worked out by hand."""
import dataclasses
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from config.model import BaselineConfig, BaselineWindow, Config, PeopleConfig, RulesConfig, ServiceConfig
from metrics import change_chain
from metrics.change_chain import FIX_FILE_BLOCK, first_fixes, first_follow_ups, follow_up_fixes
from metrics.scorecard import compute, prepare
from tests.factories import evidence, make_deployment, make_incident, make_person, make_pr, make_review

WEEK = dt.date(2026, 3, 2)  # Monday
# The baseline the hand-worked numbers use: the 13 weeks (91 days) just before WEEK, set explicitly (the
# revision-2 default baseline is found from the data's adoption week, which these small scenarios lack).
CONFIG = Config(services={"checkout": ServiceConfig(repos=("acme/web*",))},
                baseline=BaselineConfig(window=BaselineWindow(WEEK - dt.timedelta(days=91), WEEK - dt.timedelta(days=1))))


def records(ev, config=CONFIG, start=WEEK, end=WEEK, **kw) -> pl.DataFrame:
    return compute(ev, config, grain="week", start=start, end=end, **kw)


def record(frame: pl.DataFrame, metric: str, segment: str = "all", team: str | None = None, period=WEEK) -> dict | None:
    rows = frame.filter(
        (pl.col("metric") == metric) & (pl.col("segment") == segment) & (pl.col("period") == period)
        & (pl.col("team").is_null() if team is None else pl.col("team") == team)
    )
    assert rows.height <= 1
    return rows.row(0, named=True) if rows.height else None


def dep(id, sha, at, **kw):
    return make_deployment(id, sha=sha, finished_at=at, team=kw.pop("team", "api"), **kw)


# --- the incident's causing deployment ---------------------------------------------------------


def incident_scenario(**rules):
    config = dataclasses.replace(CONFIG, rules=RulesConfig(**rules))
    ev = evidence(
        deployments=[
            dep("d1", "a", "2026-03-02 10:00"),
            dep("d2", "b", "2026-03-02 10:00"),  # same instant as d1: the higher id wins
            dep("d3", "c", "2026-03-03 09:00"),
            dep("d4", "a", "2026-03-05 10:00"),  # sha a again, b and c between: a rollback, never a cause
            make_deployment("w1", sha="w", finished_at="2026-03-02 08:00", repo="acme/web-shop", team="web"),
            dep("s1", "x", "2026-03-02 09:30", environment="staging"),  # not production
        ],
        incidents=[
            make_incident("i1", started_at="2026-03-02 10:00", resolved_at="2026-03-02 12:00", team="api"),
            make_incident("i2", started_at="2026-03-04 09:00", resolved_at=None, team="api"),  # exactly 24 h after d3
            make_incident("i3", started_at="2026-03-04 09:00:01", resolved_at=None, team="api"),  # 24 h + 1 s: none
            make_incident("i4", started_at="2026-03-05 11:00", resolved_at=None, team="api"),  # only the rollback is near
            make_incident("i5", started_at="2026-03-02 11:00", resolved_at=None),  # unassigned, no service entry
            make_incident("i6", started_at="2026-03-02 09:00", resolved_at=None, team="api", service="Checkout"),
            make_incident("i7", started_at="2026-03-20 00:00", resolved_at=None, team="api", caused_by="d1"),
            make_incident("i8", started_at="2026-03-02 10:00", resolved_at=None, team="api", caused_by="s1"),
        ],
    )
    chain = prepare(ev, config).chain
    return {r["id"]: r for r in chain.incidents.to_dicts()}, chain


def test_incident_causes_edge_by_edge():
    causes, _ = incident_scenario()
    pick = {i: (r["caused_by_deployment_id"], r["cause_how"]) for i, r in causes.items()}
    assert pick == {
        "i1": ("d2", "inferred"),  # d1 and d2 finished at its start: the highest id
        "i2": ("d3", "inferred"),  # started exactly incident_link_hours after d3: linked (≤)
        "i3": (None, None),  # one second more: no candidate
        "i4": (None, None),  # d4 is a rollback; d3 is 50 h before
        "i5": (None, None),  # unassigned without a [services] entry
        "i6": ("w1", "inferred"),  # [services.checkout] (case-insensitive): web's repos, not team api's
        "i7": ("d1", "source"),  # a source link stands, whatever the window
        "i8": ("s1", "source"),  # it stands even naming a staging deployment...
    }
    assert causes["i8"]["cause_production"] is False  # ...which then counts in no change failure
    assert causes["i7"]["cause_production"] is True
    assert "within 24 h before the start (0.0 h before)" in causes["i1"]["cause_rule"]
    assert causes["i3"]["cause_rule"] == "not linked: no production deployment of team api within 24 h before the start"
    assert causes["i5"]["cause_rule"] == "not linked: unassigned incident without a [services] entry"
    assert "the repos of [services.Checkout]" in causes["i6"]["cause_rule"]


def test_incident_link_hours_zero_keeps_source_links_only():
    causes, _ = incident_scenario(incident_link_hours=0)
    linked = {i: r["caused_by_deployment_id"] for i, r in causes.items() if r["caused_by_deployment_id"]}
    assert linked == {"i7": "d1", "i8": "s1"}
    assert causes["i1"]["cause_rule"] == "not linked: incident_link_hours = 0 keeps source links only"


# --- change failure, deployment frequency, lead time, MTTR by causing change --------------------


def delivery_scenario():
    return evidence(
        prs=[
            make_pr(1, merged_at="2026-03-02 08:00", ai=True, team="api"),
            make_pr(2, merged_at="2026-03-02 08:30", team="api"),
            make_pr(3, merged_at="2026-03-03 08:00", team="api"),
            make_pr(4, merged_at="2026-03-04 08:00", ai=True, team="api"),
            make_pr(5, merged_at="2026-03-05 12:00", team="api", title='Revert "Change 3"',
                    revert_ref={"repo": None, "number": 3, "sha": None, "title": None}),
        ],
        deployments=[
            dep("d1", "a", "2026-03-02 10:00"),  # ships #1 (AI) and #2
            dep("d2", "b", "2026-03-03 10:00"),  # ships #3, which #5 reverts after it: failed
            dep("d3", "b", "2026-03-03 10:30", environment="prod"),  # the same sha in a second environment: no PRs
            dep("d4", "c", "2026-03-04 10:00"),  # ships #4 (AI); incident i1 two hours later: failed
            dep("d5", "d", "2026-03-05 09:00"),  # ships nothing (no PR merged since d4)
            make_deployment("w1", sha="w", finished_at="2026-02-10 10:00", repo="acme/web", team="web"),
        ],
        incidents=[make_incident("i1", started_at="2026-03-04 12:00", resolved_at="2026-03-04 15:00", team="api")],
    )


def test_change_failure_rate_by_ai_change():
    out = records(delivery_scenario())
    # Production deployments, not rollbacks, finished in the week: d1..d5. Failed: d2 (#3 reverted by #5
    # at Mar 5 12:00, after d2 and within 7 days of #3's merge) and d4 (caused i1): 2/5.
    r = record(out, "change_failure_rate", team="api")
    assert (r["numerator"], r["n"], r["value"], r["status"]) == (2, 5, 0.4, "insufficient_data")
    # ai: d1 and d4 shipped an AI-assisted PR, d4 failed: 1/2. non_ai: d2 shipped only #3: 1/1.
    # d3 and d5 shipped no PR: in `all` only.
    assert (record(out, "change_failure_rate", "ai", "api")["numerator"], record(out, "change_failure_rate", "ai", "api")["n"]) == (1, 2)
    assert (record(out, "change_failure_rate", "non_ai", "api")["numerator"], record(out, "change_failure_rate", "non_ai", "api")["n"]) == (1, 1)
    assert record(out, "change_failure_rate")["n"] == 5  # whole org: web did not deploy this week


def test_deployment_frequency_zero_is_a_value():
    out = records(delivery_scenario())
    # api: 5 deployments / 7 days. web deployed only in February: still a record, 0 per day; info always.
    api = record(out, "deployment_frequency", team="api")
    assert (api["numerator"], api["denominator"], api["n"], api["status"]) == (5, 7, 5, "info")
    assert api["value"] == pytest.approx(5 / 7)
    web = record(out, "deployment_frequency", team="web")
    assert (web["value"], web["n"], web["status"]) == (0, 0, "info")
    # web's baseline: 1 deployment in the 13 weeks (91 days) before the week.
    assert web["baseline"] == pytest.approx(1 / 91)
    assert record(out, "deployment_frequency")["value"] == pytest.approx(5 / 7)


def test_lead_time_median_p90_and_interval():
    out = records(delivery_scenario())
    # Created 5 h before merge (the factory). #1 03:00 → d1 10:00 = 7 h; #2 03:30 → 6.5 h; #3 → d2 7 h;
    # #4 → d4 7 h; #5 is not shipped. Values [6.5, 7, 7, 7]: median 7; p90 at rank 0.9·3 = 2.7 → 7;
    # total 27.5 h over 4. Interval n = 4: j = max(1, ⌊2 − 0.97998·2⌋ = 0) = 1 → 6.5; k = min(4, ⌈1 + 2 +
    # 1.95996⌉ = 5) = 4 → 7.
    r = record(out, "lead_time_hours", team="api")
    assert (r["value"], r["median"], r["p90"], r["numerator"], r["n"]) == (7, 7, 7, 27.5, 4)
    assert (r["ci_low"], r["ci_high"]) == (6.5, 7)
    assert record(out, "lead_time_hours", "non_ai", "api")["value"] == 6.75  # 6.5 and 7


def test_lead_time_interval_of_twenty():
    # Lead times 1..20 h: median 10.5; p90 at rank 0.9·19 = 17.1 → 18.1; j = ⌊10 − 0.97998·√20⌋ =
    # ⌊5.617⌋ = 5 → 5 h; k = ⌈11 + 4.3826⌉ = 16 → 16 h.
    prs = [make_pr(i, merged_at="2026-03-02 00:00", created_at=f"2026-03-01 {24 - i:02d}:00" if i < 24 else None,
                   team="api") for i in range(1, 21)]
    # Deployment at Mar 2 00:00 ships them all: PR i created i hours before.
    ev = evidence(prs=prs, deployments=[dep("d", "a", "2026-03-02 00:00")])
    r = record(records(ev), "lead_time_hours", team="api")
    assert (r["value"], r["p90"], r["ci_low"], r["ci_high"], r["n"]) == (10.5, pytest.approx(18.1), 5, 16, 20)


def test_mttr_by_causing_change_counts_each_incident_once_in_all():
    out = records(delivery_scenario())
    # i1 took 3 h; its cause d4 shipped the AI-assisted #4.
    assert (record(out, "mttr_hours", "ai_change", "api")["value"], record(out, "mttr_hours", "ai_change", "api")["n"]) == (3, 1)
    assert record(out, "mttr_hours", "non_ai_change", "api") is None
    assert record(out, "mttr_hours", team="api")["n"] == 1


# --- rework --------------------------------------------------------------------------------------


def rework_scenario():
    revert = {"repo": None, "number": 14, "sha": None, "title": None}
    prs = [
        make_pr(10, merged_at="2026-03-02 10:00", team="api"),
        make_pr(11, merged_at="2026-03-23 10:00", title="Fix crash in a", team="api"),  # exactly 21 days after #10
        make_pr(12, merged_at="2026-03-03 10:00", ai=True, team="api"),
        make_pr(13, merged_at="2026-03-24 10:00:01", title="Tidy", labels=["Bug"], team="api"),  # 21 days + 1 s
        make_pr(14, merged_at="2026-03-04 10:00", ai=True, team="api"),
        make_pr(15, merged_at="2026-03-05 10:00", title='Revert "Change 14"', labels=["hotfix"], revert_ref=revert, team="api"),
        make_pr(16, merged_at="2026-03-04 10:00", team="api"),
        make_pr(17, merged_at="2026-03-04 10:00", title="fix: e", team="api"),  # same instant as #16
        make_pr(18, repo="acme/web", merged_at="2026-03-02 10:00", team="web"),
        make_pr(19, repo="Acme/API", merged_at="2026-03-02 11:00", team="api"),
    ]
    files = {
        "github:acme/api#10": ["a.py", "b.py"], "github:acme/api#11": [" a.py "], "github:acme/api#12": ["c.py"],
        "github:acme/api#13": ["c.py"], "github:acme/api#14": ["d.py"], "github:acme/api#15": ["d.py", ""],
        "github:acme/api#16": ["e.py"], "github:acme/api#17": ["e.py"], "github:acme/web#18": ["a.py"],
        "github:Acme/API#19": ["a.py"],
    }
    return evidence(prs=prs, files=files)


def test_follow_up_fixes_with_reasons():
    chain = prepare(rework_scenario(), CONFIG).chain
    pairs = {(r["pr_id"].split("#")[1], r["fix_id"].split("#")[1], r["how"]) for r in chain.follow_ups.to_dicts()}
    assert pairs == {
        ("10", "11", "fix touching a.py"),  # 21 days to the second; " a.py " trimmed
        ("19", "11", "fix touching a.py"),  # repos compare case-insensitively
        ("14", "15", "revert"),  # a revert that is also a fix (label hotfix, touches d.py): one pair
    }
    # Not: #13 fixes #12 one second too late; #17 merged at the same instant as #16; #18 is another repo.


def test_rework_rate():
    out = records(rework_scenario())
    # Merged in the week (P's merged_at): #10, #12, #14, #15, #16, #17, #19 (api) and #18 (web) = 8.
    # Reworked: #10, #14, #19 → 3/8. ai: #12, #14 → 1/2. non_ai: #10, #15, #16, #17, #18, #19 → 2/6.
    r = record(out, "rework_rate")
    assert (r["numerator"], r["n"], r["value"]) == (3, 8, 3 / 8)
    assert (record(out, "rework_rate", "ai")["numerator"], record(out, "rework_rate", "ai")["n"]) == (1, 2)
    assert (record(out, "rework_rate", "non_ai")["numerator"], record(out, "rework_rate", "non_ai")["n"]) == (2, 6)
    assert (record(out, "rework_rate", team="api")["numerator"], record(out, "rework_rate", team="api")["n"]) == (3, 7)


def test_without_file_data_only_reverts_make_rework():
    ev = rework_scenario()
    ev = ev.replace(pull_request_files=ev.pull_request_files.clear())
    pairs = {(r["pr_id"], r["fix_id"]) for r in prepare(ev, CONFIG).chain.follow_ups.to_dicts()}
    assert pairs == {("github:acme/api#14", "github:acme/api#15")}


def first_fix_scenario():
    """One repo: fixes whose files are matched block by block (`FIX_FILE_BLOCK`), at the window's edges, tied in
    time, and a revert that is also a fix."""
    revert = {"repo": None, "number": 3, "sha": None, "title": None}
    prs = [
        make_pr(1, merged_at="2026-03-02 10:00"),
        make_pr(2, merged_at="2026-03-03 10:00"),
        make_pr(3, merged_at="2026-03-10 10:00"),
        make_pr(4, merged_at="2026-03-31 10:00", title="fix: z"),  # exactly 21 days after #3
        make_pr(5, merged_at="2026-03-05 10:00", title="fix: a and b"),  # two paths shared with #1
        make_pr(9, merged_at="2026-03-06 10:00", title="fix: again"),
        make_pr(10, merged_at="2026-03-06 10:00", title="fix: the same instant as #9"),  # "…#10" < "…#9" as text
        make_pr(8, merged_at="2026-03-24 10:00:01", title="fix: late"),  # 21 days and a second after #2
        make_pr(11, merged_at="2026-03-11 10:00", title='Revert "Change 3"', labels=["hotfix"], revert_ref=revert),
    ]
    files = {
        "github:acme/api#1": ["b.py", "a.py"], "github:acme/api#2": ["a.py"], "github:acme/api#3": ["z.py"],
        "github:acme/api#4": ["z.py"], "github:acme/api#5": ["b.py", "a.py"], "github:acme/api#9": ["a.py"],
        "github:acme/api#10": ["a.py"], "github:acme/api#8": ["a.py"], "github:acme/api#11": ["z.py"],
    }
    return evidence(prs=prs, files=files)


@pytest.mark.parametrize("block", [1, 2, FIX_FILE_BLOCK])
def test_first_follow_ups_by_hand_whatever_the_blocks(monkeypatch, block):
    monkeypatch.setattr(change_chain, "FIX_FILE_BLOCK", block)
    ev = prepare(first_fix_scenario(), CONFIG).evidence
    rules = CONFIG.rules
    args = (ev.pull_requests, ev.pull_request_files, rules.rework_window_days, rules.fix_labels, rules.fix_title_pattern)
    pairs = {(r["pr_id"].split("#")[1], r["fix_id"].split("#")[1], r["how"]) for r in follow_up_fixes(*args).to_dicts()}
    assert pairs == {
        ("1", "5", "fix touching a.py"), ("1", "9", "fix touching a.py"), ("1", "10", "fix touching a.py"),
        ("2", "5", "fix touching a.py"), ("2", "9", "fix touching a.py"), ("2", "10", "fix touching a.py"),
        ("5", "9", "fix touching a.py"), ("5", "10", "fix touching a.py"), ("5", "8", "fix touching a.py"),
        ("9", "8", "fix touching a.py"), ("10", "8", "fix touching a.py"),
        ("3", "4", "fix touching z.py"),  # exactly 21 days
        ("3", "11", "revert"),  # a revert that also touches z.py and is labelled hotfix: one pair
        ("11", "4", "fix touching z.py"),  # the revert touched z.py too
    }
    # Not: #2 and #8 (21 days and a second), #9 and #10 (the same instant), #1 and #8 (22 days).
    first = {r["id"].split("#")[1]: (r["follow_ups"], r["fixed_by"].split("#")[1], r["fixed_at"].strftime("%d %H:%M"),
                                      r["fix_how"]) for r in first_follow_ups(*args).to_dicts()}
    assert first == {
        "1": (3, "5", "05 10:00", "fix touching a.py"),
        "2": (3, "5", "05 10:00", "fix touching a.py"),
        "5": (3, "10", "06 10:00", "fix touching a.py"),  # #9 and #10 at the same instant: the lower id as text
        "9": (1, "8", "24 10:00", "fix touching a.py"),
        "10": (1, "8", "24 10:00", "fix touching a.py"),
        "3": (2, "11", "11 10:00", "revert"),
        "11": (1, "4", "31 10:00", "fix touching z.py"),
    }
    assert_frame_equal(first_follow_ups(*args).sort("id"), first_fixes(follow_up_fixes(*args)).sort("id"),
                       check_column_order=False)


def test_rework_events_from_the_chains_first_fixes():
    from metrics.rework import rework_events

    rows = prepare(first_fix_scenario(), CONFIG)
    # the chain's first fixes without its pairs made first (the same rows as the pairs' first fixes)
    assert "follow_ups" not in rows.chain.__dict__
    first = rows.chain.first_fixes
    assert "follow_ups" not in rows.chain.__dict__
    assert_frame_equal(first.sort("id"), first_fixes(rows.chain.follow_ups).sort("id"), check_column_order=False)
    events = {r["id"].split("#")[1]: (r["hit"], r["reason"]) for r in rework_events(rows.outcomes, rows.chain).to_dicts()}
    # by hand, as in test_first_follow_ups_by_hand_whatever_the_blocks: #1, #2, #5, #9, #10, #3, #11 reworked
    assert events == {
        "1": (True, "reworked: fix touching a.py by github:acme/api#5 at 2026-03-05 10:00 UTC (3 follow-up fix(es))"),
        "2": (True, "reworked: fix touching a.py by github:acme/api#5 at 2026-03-05 10:00 UTC (3 follow-up fix(es))"),
        "3": (True, "reworked: revert by github:acme/api#11 at 2026-03-11 10:00 UTC (2 follow-up fix(es))"),
        "4": (False, "no follow-up fix"),
        "5": (True, "reworked: fix touching a.py by github:acme/api#10 at 2026-03-06 10:00 UTC (3 follow-up fix(es))"),
        "8": (False, "no follow-up fix"),
        "9": (True, "reworked: fix touching a.py by github:acme/api#8 at 2026-03-24 10:00 UTC (1 follow-up fix(es))"),
        "10": (True, "reworked: fix touching a.py by github:acme/api#8 at 2026-03-24 10:00 UTC (1 follow-up fix(es))"),
        "11": (True, "reworked: fix touching z.py by github:acme/api#4 at 2026-03-31 10:00 UTC (1 follow-up fix(es))"),
    }


def test_fix_file_blocks_never_split_a_fixs_rows():
    q = pl.Series([1, 1, 2, 2, 2, 3, 4, 4, 5], dtype=pl.UInt32)
    assert change_chain._blocks(q, 2) == [(0, 2), (2, 5), (5, 6), (6, 8), (8, 9)]
    assert change_chain._blocks(q, 4) == [(0, 5), (5, 8), (8, 9)]
    assert change_chain._blocks(q, 100) == [(0, 9)]
    assert change_chain._blocks(pl.Series([7, 7, 7], dtype=pl.UInt32), 1) == [(0, 3)]
    assert change_chain._blocks(pl.Series([], dtype=pl.UInt32), 1) == []


def test_first_follow_ups_without_merged_prs_or_fixes():
    ev = prepare(first_fix_scenario(), CONFIG).evidence
    rules = CONFIG.rules
    args = (rules.rework_window_days, rules.fix_labels, rules.fix_title_pattern)
    none = first_follow_ups(ev.pull_requests.clear(), ev.pull_request_files, *args)
    assert none.height == 0 and none.columns == ["id", "follow_ups", "fixed_by", "fixed_at", "fix_how"]
    unfixed = ev.pull_requests.filter(pl.col("number") <= 3)  # no fix among them
    assert first_follow_ups(unfixed, ev.pull_request_files, *args).height == 0


# --- senior review load ------------------------------------------------------------------------


def senior_scenario():
    ai_pr, plain_pr = "github:acme/api#1", "github:acme/api#2"
    return evidence(
        prs=[make_pr(1, merged_at="2026-03-02 08:00", ai=True, team="api"), make_pr(2, merged_at="2026-03-02 09:00", team="api")],
        people=[
            make_person("alice", team="api", level="Senior "),
            make_person("carol", team="api", level="staff", since="2026-03-05 12:00"),  # senior from Thursday noon
            make_person("dave", team="api", level="junior"),
            make_person("erin", team="web", level="principal", since="2026-04-01"),  # no senior weeks in March
        ],
        reviews=[
            make_review(ai_pr, "alice", "2026-03-02 11:00"),
            make_review(ai_pr, "alice", "2026-03-03 11:00", state="COMMENTED"),
            make_review(ai_pr, "alice", "2026-03-04 11:00", state="DISMISSED"),
            make_review(ai_pr, "alice", "2026-03-04 12:00", state="PENDING"),  # not submitted
            make_review(ai_pr, "alice", None, state="COMMENTED"),  # no submitted_at
            make_review(plain_pr, "carol", "2026-03-04 11:00"),  # before she became senior
            make_review(plain_pr, "carol", "2026-03-06 11:00"),
            make_review(plain_pr, "dave", "2026-03-03 11:00"),  # not senior
            make_review(ai_pr, "BOB", "2026-03-03 12:00"),  # [people] senior = ["bob"], no people row
        ],
    )


SENIOR_CONFIG = Config(people=PeopleConfig(senior=("Bob",)))


def test_senior_review_load():
    out = records(senior_scenario(), SENIOR_CONFIG, end=WEEK + dt.timedelta(days=7))
    # api: alice's 3 submitted reviews (all on the AI-assisted #1) + carol's 1 after Thursday noon = 4.
    # Senior weeks: alice 7 days = 1; carol Thu 12:00 → Mon 00:00 = 3.5 days = 0.5 → 1.5.
    api = record(out, "senior_review_load", team="api")
    assert (api["numerator"], api["denominator"], api["n"], api["status"]) == (4, 1.5, 4, "insufficient_data")
    assert api["value"] == pytest.approx(4 / 1.5)
    assert record(out, "senior_review_load", "ai", "api")["value"] == pytest.approx(3 / 1.5)
    # bob is in no team: unassigned, 1 review in 1 week.
    assert record(out, "senior_review_load", team="unassigned")["value"] == 1
    # web's only senior starts in April: no record (a period with no seniors).
    assert record(out, "senior_review_load", team="web") is None
    # Whole org: 5 reviews over 1 + 0.5 + 1 weeks; 4 of them on the AI-assisted PR.
    org = record(out, "senior_review_load")
    assert (org["numerator"], org["denominator"], org["value"]) == (5, 2.5, 2.0)
    assert record(out, "senior_review_load", "ai")["value"] == pytest.approx(4 / 2.5)
    # The next week nobody reviewed: api has 2 senior weeks and 0 reviews — a record, value 0.
    nxt = record(out, "senior_review_load", team="api", period=WEEK + dt.timedelta(days=7))
    assert (nxt["value"], nxt["denominator"], nxt["n"], nxt["status"]) == (0, 2, 0, "insufficient_data")
    assert record(out, "senior_review_load", "non_ai", "api") is None  # segments: all and ai


def test_senior_review_load_status_against_baseline():
    ev = senior_scenario()
    baseline_reviews = [make_review("github:acme/api#2", "alice", f"2026-02-{d:02d} 10:00") for d in (3, 5, 10, 12)]
    ev = ev.replace(reviews=pl.concat([ev.reviews, evidence(reviews=baseline_reviews).reviews]))
    config = dataclasses.replace(
        SENIOR_CONFIG, rules=RulesConfig(min_sample=1),
        baseline=BaselineConfig(window=BaselineWindow(dt.date(2026, 2, 2), dt.date(2026, 2, 15))),
    )
    out = records(ev, config)
    # Baseline, team api: alice's 4 reviews over 2 weeks (carol was not senior yet) = 2.0 per week.
    # This week 4/1.5 = 2.67 > 2.0 × 1.2 = 2.4: worse. The ai segment is info.
    api = record(out, "senior_review_load", team="api")
    assert (api["baseline"], api["status"]) == (2.0, "worse")
    assert record(out, "senior_review_load", "ai", "api")["status"] == "info"


# --- explain: the rows behind a record, with how each link was made ------------------------------


def test_explain_lists_failed_deployments_and_linked_incidents():
    from metrics.explain import record_events

    prepared = prepare(delivery_scenario(), CONFIG)
    rows = record_events(prepared, "change_failure_rate", grain="week", period=WEEK, team="api")
    by_id = {r["id"]: r for r in rows.to_dicts()}
    assert sorted(by_id) == ["d1", "d2", "d3", "d4", "d5"]
    assert by_id["d2"]["reason"] == "failed: github:acme/api#3 it shipped was reverted by github:acme/api#5 at 2026-03-05 12:00 UTC"
    assert by_id["d4"]["reason"] == "failed: caused incident i1 (inferred link)"
    assert (by_id["d5"]["counted"], by_id["d5"]["shipped_prs"]) == ("denominator", 0)
    incidents = record_events(prepared, "mttr_hours", grain="week", period=WEEK, team="api")
    # Segment all lists the incident once, with its cause and the PRs that deployment shipped.
    assert incidents.height == 1
    i1 = incidents.row(0, named=True)
    assert (i1["caused_by_deployment_id"], i1["cause_how"], i1["cause_prs"]) == ("d4", "inferred", "github:acme/api#4")
    change = record_events(prepared, "mttr_hours", grain="week", period=WEEK, team="api", segment="ai_change")
    assert change["reason"].to_list() == ["resolved in 3.0 h; caused by d4 (inferred), which shipped github:acme/api#4"]


def test_explain_rework_names_the_fix():
    from metrics.explain import record_events

    rows = record_events(prepare(rework_scenario(), CONFIG), "rework_rate", grain="week", period=WEEK, segment="ai")
    reasons = dict(zip(rows["number"].to_list(), rows["reason"].to_list()))
    assert reasons == {
        14: "reworked: revert by github:acme/api#15 at 2026-03-05 10:00 UTC (1 follow-up fix(es))",
        12: "no follow-up fix",
    }


def test_look_ahead_windows_of_the_specs():
    from metrics.registry import METRICS

    rules = RulesConfig(rollback_window_days=7, incident_link_hours=200, rework_window_days=21)
    # change_failure_rate: the longer of 7 days and 200 hours (8 d 8 h).
    assert METRICS["change_failure_rate"].lookahead.of(rules) == dt.timedelta(hours=200)
    assert METRICS["change_failure_rate"].lookahead.of(RulesConfig()) == dt.timedelta(days=7)
    assert METRICS["rework_rate"].lookahead.of(rules) == dt.timedelta(days=21)
    assert METRICS["rollback_share"].lookahead.of(rules) == dt.timedelta(days=7)
    for metric in ("deployment_frequency", "senior_review_load"):  # provisional only while the period runs
        assert METRICS[metric].lookahead.of(rules) == dt.timedelta(0)
    assert METRICS["lead_time_hours"].lookahead is None
