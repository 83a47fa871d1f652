"""Rollback share by repo (or any column): the drill-down's numbers, worked out by hand."""
import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics.breakdown import by_segment_columns, rollback_share_by

UTC = dt.timezone.utc
SINCE = dt.datetime(2026, 3, 2, tzinfo=UTC)
UNTIL = dt.datetime(2026, 3, 16, tzinfo=UTC)  # two weeks, [Mar 2, Mar 16)


def outcome(id, repo, merged, ai, rolled_back, team="payments"):
    return {"id": id, "repo": repo, "team": team, "merged_at": dt.datetime.fromisoformat(merged).replace(tzinfo=UTC),
            "ai_assisted": ai, "rolled_back": rolled_back}


OUTCOMES = pl.DataFrame([
    # acme/pay: 2 AI PRs (1 rolled back), 2 other PRs (0 rolled back)
    outcome("p1", "acme/pay", "2026-03-02 00:00", True, True),   # first instant of the range: in
    outcome("p2", "acme/pay", "2026-03-03 10:00", True, False),
    outcome("p3", "acme/pay", "2026-03-10 10:00", False, False),
    outcome("p4", "acme/pay", "2026-03-15 23:59", None, False),  # no flag: not AI-assisted
    # acme/web: 1 other PR, rolled back
    outcome("w1", "acme/web", "2026-03-11 10:00", False, True, team="web"),
    # outside [since, until): never counted
    outcome("x1", "acme/pay", "2026-03-16 00:00", True, True),
    outcome("x2", "acme/pay", "2026-03-01 23:59", True, True),
])


def test_share_by_repo_and_segment_with_wilson_intervals():
    shares = rollback_share_by(OUTCOMES, ["repo"], since=SINCE, until=UNTIL)
    # acme/pay all: 1/4; ai: 1/2; non_ai: 0/2. acme/web all: 1/1; non_ai: 1/1 (no AI PRs: no ai row).
    assert shares.select("repo", "segment", "merged_prs", "rolled_back").rows() == [
        ("acme/pay", "all", 4, 1), ("acme/pay", "ai", 2, 1), ("acme/pay", "non_ai", 2, 0),
        ("acme/web", "all", 1, 1), ("acme/web", "non_ai", 1, 1),
    ]
    pay_all = shares.filter((pl.col("repo") == "acme/pay") & (pl.col("segment") == "all")).row(0, named=True)
    # Wilson, x = 1, n = 4, z = 1.96: centre (0.25 + z²/8) / (1 + z²/4) = 0.37247,
    # half-width z/(1 + z²/4) · sqrt(0.25·0.75/4 + z²/64) = 0.32688 → [0.04559, 0.69935].
    assert pay_all["share"] == 0.25
    assert pay_all["ci_low"] == pytest.approx(0.04559, abs=1e-4)
    assert pay_all["ci_high"] == pytest.approx(0.69935, abs=1e-4)
    web = shares.filter((pl.col("repo") == "acme/web") & (pl.col("segment") == "all")).row(0, named=True)
    # x = n = 1: Wilson's upper bound is 1, lower 1/(1 + z²) = 0.20654.
    assert (web["share"], web["ci_high"]) == (1.0, 1.0)
    assert web["ci_low"] == pytest.approx(0.20654, abs=1e-4)


def test_share_by_period_needs_a_grain_and_splits_by_week():
    with pytest.raises(ValueError, match="grain"):
        rollback_share_by(OUTCOMES, ["period"], since=SINCE, until=UNTIL)
    weekly = rollback_share_by(OUTCOMES, ["period"], since=SINCE, until=UNTIL, grain="week").filter(pl.col("segment") == "all")
    # Week of Mar 2: p1 (rolled back), p2 → 1/2. Week of Mar 9: p3, p4, w1 (rolled back) → 1/3.
    assert weekly.select("period", "merged_prs", "rolled_back").rows() == [
        (dt.date(2026, 3, 2), 2, 1), (dt.date(2026, 3, 9), 3, 1),
    ]


def test_segments_side_by_side():
    wide = by_segment_columns(rollback_share_by(OUTCOMES, ["repo"], since=SINCE, until=UNTIL), ["repo"])
    expected = pl.DataFrame({
        "repo": ["acme/pay", "acme/web"],
        "all_share": [0.25, 1.0], "ai_share": [0.5, None], "non_ai_share": [0.0, 1.0],
        "ai_merged_prs": [2, None], "non_ai_rolled_back": [0, 1],
    }, schema_overrides={"ai_merged_prs": pl.Int64, "non_ai_rolled_back": pl.Int64})
    assert_frame_equal(wide.select(expected.columns), expected)
    with pytest.raises(ValueError, match="at least one key"):
        by_segment_columns(wide, [])


def test_no_prs_in_range_gives_no_rows():
    empty = rollback_share_by(OUTCOMES, ["repo"], since=UNTIL, until=UNTIL)
    assert empty.height == 0
    assert {"share", "ci_low", "ci_high"} <= set(empty.columns)
