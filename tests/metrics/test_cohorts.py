"""Adoption cohorts from PRs and from vendor usage, cohort segments, and the before/after comparison,
each with the numbers worked out by hand."""
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from metrics.cohorts import adoption_weeks, cohort_comparison, cohort_segments, pr_cohorts, usage_cohorts

D = dt.date
W1, W2 = D(2026, 11, 2), D(2026, 11, 9)  # two ISO weeks (Mondays)


def prs(*rows) -> pl.DataFrame:
    return pl.DataFrame([{"id": f"pr{i}", "author": a, "merged_at": dt.datetime(2026, m, d, 12) if d else None,
                          "ai_assisted": ai} for i, (a, m, d, ai) in enumerate(rows)],
                        schema={"id": pl.String, "author": pl.String, "merged_at": pl.Datetime("us", "UTC"),
                                "ai_assisted": pl.Boolean})


def test_pr_cohorts_from_the_trailing_28_days():
    frame = prs(
        ("ana", 10, 13, True), ("ana", 10, 20, False), ("ana", 11, 3, True), ("ana", 11, 10, False),
        ("bo", 11, 4, False), ("bo", 11, 5, False), ("bo", 11, None, True),  # bo's AI PR never merged
        ("cy", 11, 3, True), ("cy", 11, 4, False), ("cy", 11, 5, False), ("cy", 11, 6, False),
        ("eve", 11, 3, True), ("eve", 11, 4, True), ("eve", 11, 5, True), ("eve", 11, 6, False), ("eve", 11, 7, False),
        ("copilot-swe-agent[bot]", 11, 3, True),  # a bot is no author with a cohort
        ("dee", 11, 10, True), ("dee", 11, 11, False), ("dee", 11, 12, False), ("dee", 11, 13, False), ("dee", 11, 14, False),
    )
    out = pr_cohorts(frame, [W1, W2], "week")
    # W1's window is Oct 12 - Nov 8, W2's Oct 19 - Nov 15.
    # ana W1: Oct 13 AI, Oct 20, Nov 3 AI = 2/3 heavy; W2: Oct 20, Nov 3 AI, Nov 10 = 1/3 moderate.
    # bo: 0/2 none (the unmerged PR does not count). cy: 1/4 = 0.25, moderate (25 % is moderate).
    # eve: 3/5 = 0.60, still moderate (60 % is the top of moderate). dee: only in W2, 1/5 = 0.2 light.
    expected = pl.DataFrame({
        "period_start": [W1, W1, W1, W1, W2, W2, W2, W2, W2],
        "author": ["ana", "bo", "cy", "eve", "ana", "bo", "cy", "dee", "eve"],
        "n": [3, 2, 4, 5, 3, 2, 4, 5, 5], "ai": [2, 0, 1, 3, 1, 0, 1, 1, 3],
        "share": [2 / 3, 0.0, 0.25, 0.6, 1 / 3, 0.0, 0.25, 0.2, 0.6],
        "cohort": ["heavy", "none", "moderate", "moderate", "moderate", "none", "moderate", "light", "moderate"],
    }, schema={"period_start": pl.Date, "author": pl.String, "n": pl.UInt32, "ai": pl.UInt32,
               "share": pl.Float64, "cohort": pl.String})
    assert_frame_equal(out, expected)


def test_usage_cohorts_from_active_days():
    rows = []
    for i in range(20):  # ana: 20 active days in W2's window (Oct 19 - Nov 15), two tools on some days
        day = D(2026, 10, 19) + dt.timedelta(days=i)
        rows.append(("ana", day, True, "cursor"))
        if i % 2:
            rows.append(("ana", day, True, "claude-code"))
    rows += [("bo", D(2026, 11, 9) + dt.timedelta(days=i), True, "cursor") for i in range(7)]
    rows += [("cy", D(2026, 11, 10), True, "openai"), ("cy", D(2026, 11, 11), False, "cursor"),  # a seat, not used
             (None, D(2026, 11, 10), True, "cursor")]  # an unmatched vendor user has no author
    usage = pl.DataFrame(rows, schema={"person": pl.String, "date": pl.Date, "active": pl.Boolean, "tool": pl.String},
                         orient="row")
    out = usage_cohorts(usage, [W2], "week")
    # ana 20/28 = 0.714 heavy; bo 7/28 = 0.25 moderate; cy 1/28 = 0.036 light (the inactive day not counted).
    assert out.select("author", "ai", "cohort").rows() == [("ana", 20, "heavy"), ("bo", 7, "moderate"), ("cy", 1, "light")]
    assert out["n"].unique().to_list() == [28]


def events() -> tuple[pl.DataFrame, pl.DataFrame]:
    rows = [("a1", "ana", D(2026, 11, 3), False), ("a2", "ana", D(2026, 11, 4), True),
            ("a3", "ana", D(2026, 11, 10), False), ("a4", "ana", D(2026, 11, 11), False),
            ("a5", "ana", D(2026, 11, 12), True), ("b1", "bo", D(2026, 11, 3), False), ("b2", "bo", D(2026, 11, 10), False),
            ("x1", "zed", D(2026, 11, 10), True)]  # zed has no cohort
    ev = pl.DataFrame({"id": [r[0] for r in rows],
                       "at": [dt.datetime.combine(r[2], dt.time(9), tzinfo=dt.timezone.utc) for r in rows],
                       "team": ["web"] * len(rows), "segment": ["ai" if r[3] else "non_ai" for r in rows],
                       "hit": [r[3] for r in rows]})
    return ev, pl.DataFrame({"id": [r[0] for r in rows], "author": [r[1] for r in rows]})


COHORTS = pl.DataFrame({"period_start": [W1, W1, W2, W2], "author": ["ana", "bo", "ana", "bo"],
                        "cohort": ["none", "none", "heavy", "none"]})


def test_cohort_segments_repeat_each_pr_under_its_authors_cohort():
    ev, authors = events()
    out = cohort_segments(ev, authors, COHORTS, "week")
    # 8 original events + 7 repeated (zed has no cohort): ana's W1 PRs under none, W2 under heavy.
    assert out.height == 15 and out.head(8).equals(ev)
    tagged = out.slice(8).sort("id")
    assert tagged.select("id", "segment").rows() == [
        ("a1", "cohort:none"), ("a2", "cohort:none"), ("a3", "cohort:heavy"), ("a4", "cohort:heavy"),
        ("a5", "cohort:heavy"), ("b1", "cohort:none"), ("b2", "cohort:none")]


def test_cohort_comparison_before_and_after_adoption():
    ev, authors = events()
    assert adoption_weeks(COHORTS).rows() == [("ana", W2)]
    out = cohort_comparison(ev, authors, COHORTS, min_sample=2)
    got = {(r["cohort"], r["phase"]): r for r in out.iter_rows(named=True)}
    # ana is heavy now and adopted in W2: before = a1, a2 (1 hit of 2), after = a3, a4, a5 (1 of 3).
    assert (got["heavy", "before"]["n"], got["heavy", "before"]["hits"], got["heavy", "before"]["share"]) == (2, 1, 0.5)
    assert (got["heavy", "after"]["n"], got["heavy", "after"]["hits"]) == (3, 1)
    assert abs(got["heavy", "after"]["share"] - 1 / 3) < 1e-12
    # bo never adopted: all of his PRs are `none`, before (0 of 2).
    assert (got["none", "before"]["n"], got["none", "before"]["share"], got["none", "before"]["status"]) == (2, 0.0, "ok")
    for key in (("none", "after"), ("light", "before"), ("moderate", "after")):
        assert (got[key]["n"], got[key]["share"], got[key]["low"], got[key]["status"]) == (0, None, None, "not enough data")
    for row in out.filter(pl.col("status") == "ok").iter_rows(named=True):
        assert row["low"] <= row["share"] <= row["high"]
    assert out.height == 8  # every cohort × phase, also those without PRs


def test_lead_time_by_cohort_before_and_after_adoption():
    from metrics.cohorts import lead_time_comparison

    def shipped(id_, day: int, hour: int, hours: float) -> dict:  # lead_time_hours' event: shipped at, hours
        return {"id": id_, "at": dt.datetime(2026, 11, day, hour, tzinfo=dt.timezone.utc), "value": hours}

    events = pl.DataFrame([
        shipped("a1", 3, 19, 10.0), shipped("a2", 4, 11, 2.0),  # ana, shipped before her adoption week W2
        shipped("a3", 10, 13, 4.0), shipped("a4", 11, 15, 6.0), shipped("a5", 12, 11, 2.0),
        shipped("a6", 13, 9, 30.0), shipped("a7", 13, 10, 5.0),
        shipped("b1", 5, 9, 48.0),  # bo never adopted
        shipped("z1", 5, 9, 1.0),  # zed has no cohort
    ])
    authors = pl.DataFrame({"id": ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "b1", "z1"],
                            "author": ["ana"] * 7 + ["bo", "zed"]})
    out = lead_time_comparison(events, authors, COHORTS, min_sample=2)
    got = {(r["cohort"], r["phase"]): r for r in out.iter_rows(named=True)}
    # heavy before: [2, 10] → median 6; n = 2: j = max(1, ⌊1 − 1.386⌋) = 1 → 2, k = min(2, ⌈3.386⌉) = 2 → 10.
    before = got["heavy", "before"]
    assert (before["n"], before["median_hours"], before["low"], before["high"], before["status"]) == (2, 6.0, 2.0, 10.0, "ok")
    # heavy after: [2, 4, 5, 6, 30] → median 5; n = 5: j = max(1, ⌊2.5 − 2.191⌋ = 0) = 1 → 2;
    # k = min(5, ⌈1 + 2.5 + 2.191⌉ = 6) = 5 → 30.
    after = got["heavy", "after"]
    assert (after["n"], after["median_hours"], after["low"], after["high"], after["status"]) == (5, 5.0, 2.0, 30.0, "ok")
    # bo: one PR is below min_sample 2; zed counts nowhere.
    assert (got["none", "before"]["n"], got["none", "before"]["median_hours"], got["none", "before"]["low"],
            got["none", "before"]["status"]) == (1, None, None, "not enough data")
    assert out["n"].sum() == 8 and out.height == 8


def test_median_interval_of_twenty_as_the_metric():
    from metrics.cohorts import median_interval

    # 1..20 (shuffled): j = ⌊10 − 0.97998·√20⌋ = ⌊5.617⌋ = 5 → 5; k = ⌈11 + 4.383⌉ = 16 → 16 (as lead_time_hours).
    assert median_interval(pl.Series(range(20, 0, -1)).to_numpy().astype(float)) == (5.0, 16.0)
    assert median_interval(pl.Series([3.0]).to_numpy()) == (None, None)


def test_pr_cohort_keys_give_the_weekly_cohort_of_each_prs_author():
    from metrics.cohorts import pr_cohort_keys

    at = lambda d: dt.datetime(2026, 3, d, 12, tzinfo=dt.timezone.utc)  # noqa: E731
    outcomes = pl.DataFrame({
        "id": ["a1", "a2", "a3", "a4", "b1", "b2", "c1"],
        "author": ["ana", "ana", "ana", "ana", "bo", "bo", "ci[bot]"],
        "merged_at": [at(2), at(3), at(10), at(30), at(10), at(11), at(10)],
        "ai_assisted": [True, False, True, True, True, True, True],
    })
    got = dict(pr_cohort_keys(outcomes).iter_rows())
    # ana: a1, a2 in the week of 2 Mar (1 of 2 AI = 50 % → moderate); a3 in the week of 9 Mar, its 28 days
    # hold a1–a3: 2 of 3 = 67 % → heavy; a4 in the week of 30 Mar, 28 days from 9 Mar: a3, a4, both AI →
    # heavy. bo: 2 of 2 → heavy. The bot: no cohort.
    assert got == {"a1": "cohort:moderate", "a2": "cohort:moderate", "a3": "cohort:heavy", "a4": "cohort:heavy",
                   "b1": "cohort:heavy", "b2": "cohort:heavy"}
    weeks = [dt.date(2026, 3, 2), dt.date(2026, 3, 9), dt.date(2026, 3, 30)]
    weekly = pr_cohorts(outcomes, weeks, "week")  # the same cohorts, computed PRs × weeks
    by_week = dict(zip(zip(weekly["period_start"], weekly["author"]), weekly["cohort"]))
    assert [by_week[weeks[0], "ana"], by_week[weeks[1], "ana"], by_week[weeks[2], "ana"], by_week[weeks[1], "bo"]] == [
        "moderate", "heavy", "heavy", "heavy"]


def test_pr_cohort_keys_take_the_counts_of_earlier_weeks_from_the_warehouse():
    from metrics.cohorts import EarlierMerges, pr_cohort_keys

    at = lambda d: dt.datetime(2026, 3, d, 12, tzinfo=dt.timezone.utc)  # noqa: E731
    # The evidence holds two of ana's PRs: a0 (AI, Wed 11 Mar, week of 9 Mar) and a1 (not AI, Wed 18 Mar,
    # week of 16 Mar). The warehouse's counts of the weeks of 2 and 9 Mar: 4 merges, none AI; 1 merge, AI
    # (that one is a0, which the evidence also holds: it counts once).
    outcomes = pl.DataFrame({"id": ["a0", "a1"], "author": ["ana", "ana"], "merged_at": [at(11), at(18)],
                             "ai_assisted": [True, False]})
    earlier = EarlierMerges(weeks=(dt.date(2026, 3, 2), dt.date(2026, 3, 9)), weekly=pl.DataFrame({
        "author": ["ana", "ana"], "week": [dt.date(2026, 3, 2), dt.date(2026, 3, 9)], "n": [4, 1], "ai": [0, 1]}))
    got = dict(pr_cohort_keys(outcomes, earlier).iter_rows())
    # a0, week of 9 Mar, 28 days from 16 Feb: 4 + 1 merges, 1 AI = 20 % → light. a1, week of 16 Mar, 28 days
    # from 23 Feb: 4 + 1 + 1 (a1) merges, 1 AI = 17 % → light (a0 counted twice: 2 of 7 = 29 %, moderate;
    # without the earlier weeks: 1 of 2 = 50 %, moderate).
    assert got == {"a0": "cohort:light", "a1": "cohort:light"}
    assert dict(pr_cohort_keys(outcomes).iter_rows()) == {"a0": "cohort:heavy", "a1": "cohort:moderate"}


def _pr_cohorts_by_cross_join(prs_: pl.DataFrame, periods: list[dt.date], grain: str) -> pl.DataFrame:
    """pr_cohorts' definition taken literally: every merged PR against every period's window."""
    from metrics.cohorts import _finish, _windows

    merged = prs_.filter(pl.col("merged_at").is_not_null() & pl.col("author").is_not_null()
                         & ~pl.col("author").str.ends_with("[bot]")).select(
        "author", day=pl.col("merged_at").cast(pl.Date), ai=pl.col("ai_assisted").fill_null(False))
    joined = merged.join(_windows(periods, grain), how="cross").filter(
        (pl.col("day") >= pl.col("window_start")) & (pl.col("day") < pl.col("window_end")))
    out = joined.group_by("period_start", "author").agg(n=pl.len(), ai=pl.col("ai").sum().cast(pl.UInt32))
    return _finish(out.with_columns(share=pl.col("ai") / pl.col("n")))


def test_pr_cohorts_equal_every_pr_against_every_window():
    import random

    from metrics.periods import period_starts

    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for seed in range(30):
        r = random.Random(seed)
        authors = [f"a{i}" for i in range(r.randint(1, 20))] + ["x[bot]", None]
        frame = pl.DataFrame(
            [{"author": r.choice(authors), "ai_assisted": r.choice([True, False, None]),
              "merged_at": base + dt.timedelta(hours=r.randint(-2000, 6000)) if r.random() > 0.1 else None}
             for _ in range(r.choice([0, 1, 5, 60, 800]))],
            schema={"author": pl.String, "merged_at": pl.Datetime("us", "UTC"), "ai_assisted": pl.Boolean})
        grain = r.choice(["week", "month"])
        start = dt.date(2026, 1, 1) + dt.timedelta(days=r.randint(-60, 200))
        periods = period_starts(start, start + dt.timedelta(days=r.randint(0, 200)), grain)
        assert_frame_equal(pr_cohorts(frame, periods, grain), _pr_cohorts_by_cross_join(frame, periods, grain))


def test_events_that_carry_their_authors_count_as_those_joined_by_id():
    # The Adoption page's events carry each PR's author (authors None): ana's a2 and a5 and a second hit on
    # Nov 12 (a6, same day as a5: the day's two events counted together), a PR without an author.
    ev, authors = events()
    extra = pl.DataFrame({"id": ["a6", "n1"], "at": [dt.datetime(2026, 11, 12, 17, tzinfo=dt.timezone.utc)] * 2,
                          "team": ["web", "web"], "segment": ["ai", "ai"], "hit": [True, None]})
    ev = pl.concat([ev, extra])
    carried = ev.join(pl.concat([authors, pl.DataFrame({"id": ["a6", "n1"], "author": ["ana", None]})]), on="id",
                      how="left", maintain_order="left")
    out = cohort_comparison(carried, None, COHORTS, min_sample=2)
    got = {(r["cohort"], r["phase"]): (r["n"], r["hits"]) for r in out.iter_rows(named=True)}
    # ana heavy: before a1, a2 (1 hit of 2); after a3, a4, a5, a6 (2 of 4). bo none before: 0 of 2. zed and
    # the PR without an author: no cohort, not counted.
    assert got["heavy", "before"] == (2, 1) and got["heavy", "after"] == (4, 2) and got["none", "before"] == (2, 0)
    assert out["n"].sum() == 8
    assert_frame_equal(out, cohort_comparison(ev, carried.select("id", "author"), COHORTS, min_sample=2))


def test_cohort_segment_counts_as_the_repeated_events_counted():
    from app.views.adoption import segment_share_table, segment_shares
    from metrics.cohorts import cohort_segment_counts

    ev, authors = events()
    carried = ev.join(authors, on="id", how="left", maintain_order="left")
    counts = cohort_segment_counts(carried, COHORTS, "week")
    got = {r["segment"]: (r["n"], r["hits"]) for r in counts.iter_rows(named=True)}
    # ai: a2, a5, x1 (all hits); non_ai: a1, a3, a4, b1, b2; cohort:none: ana's W1 a1, a2 (a2 a hit) and
    # bo's b1, b2; cohort:heavy: ana's W2 a3, a4, a5 (a5 a hit); zed has no cohort.
    assert got == {"ai": (3, 3), "non_ai": (5, 0), "cohort:none": (4, 1), "cohort:heavy": (3, 1)}
    table = segment_share_table(cohort_segment_counts(carried, COHORTS, "week"), min_sample=2)
    assert table.select("segment", "n", "value").rows() == [
        ("ai", 3, 1.0), ("non_ai", 5, 0.0), ("cohort:none", 4, 0.25), ("cohort:heavy", 3, 1 / 3)]
    assert_frame_equal(table, segment_shares(cohort_segments(ev, authors, COHORTS, "week"), min_sample=2))


def test_lead_time_of_events_that_carry_their_authors():
    from metrics.cohorts import lead_time_comparison

    at = lambda d, h: dt.datetime(2026, 11, d, h, tzinfo=dt.timezone.utc)  # noqa: E731
    events = pl.DataFrame({"id": ["a1", "a2", "a3", "a4", "b1"],
                           "at": [at(3, 9), at(4, 9), at(10, 9), at(11, 9), at(5, 9)],
                           "value": [10.0, 2.0, 4.0, 8.0, 48.0], "author": ["ana", "ana", "ana", "ana", "bo"]})
    out = lead_time_comparison(events, None, COHORTS, min_sample=2)
    got = {(r["cohort"], r["phase"]): (r["n"], r["median_hours"]) for r in out.iter_rows(named=True)}
    # ana heavy, adopted in W2: before [10, 2] → median 6, after [4, 8] → 6; bo: 1 PR, below min_sample.
    assert got["heavy", "before"] == (2, 6.0) and got["heavy", "after"] == (2, 6.0)
    assert got["none", "before"] == (1, None)
    assert_frame_equal(out, lead_time_comparison(events.drop("author"), events.select("id", "author"), COHORTS,
                                                 min_sample=2))
