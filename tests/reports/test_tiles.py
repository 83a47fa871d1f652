"""The scorecard's tiles, headline and teams table, read from scorecard records."""
import datetime as dt

import polars as pl

from metrics.scorecard import empty_records
from reports.tiles import STATUS_SUFFIX, TILES, headline, scorecard_tiles, status_words, team_glance

W1, W2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)


def rec(metric, period, value, baseline, status, n=50, segment="all", team=None) -> dict:
    return {"metric": metric, "grain": "week", "period": period, "team": team, "segment": segment, "value": value,
            "numerator": value * n, "denominator": float(n), "n": n, "ci_low": None, "ci_high": None,
            "baseline": baseline, "delta": None if baseline is None else value - baseline, "status": status,
            "median": None, "p90": None, "baseline_n": 100}


def records(rows) -> pl.DataFrame:
    return pl.concat([empty_records(), pl.DataFrame(rows, schema=empty_records().schema)])


ORG = records([
    rec("ai_merge_rate", W1, 0.30, 0.05, "info"), rec("ai_merge_rate", W2, 0.40, 0.05, "info"),
    rec("rollback_share", W2, 0.05, 0.03, "at_baseline"),
    rec("rollback_share", W1, 0.12, 0.03, "worse", segment="ai"), rec("rollback_share", W2, 0.09, 0.03, "worse", segment="ai"),
    rec("mttr_hours", W1, 3.0, 4.0, "better"),  # nothing in W2: the tile shows W1
    rec("deflection_rate", W2, 0.50, 0.25, "worse"), rec("csat", W2, 3.9, 4.3, "worse"),
    rec("csat", W1, 4.4, 4.3, "at_baseline"),
    rec("ai_cost_per_unit", W2, 2.0, 1.0, "insufficient_data", n=5),
    rec("rollback_share", W2, 0.50, 0.02, "worse", segment="ai", team="payments"),
    rec("ai_merge_rate", W2, 0.45, 0.05, "info", team="payments"),
    rec("ai_merge_rate", W2, 0.35, 0.05, "info", team="web"),
])


def test_each_tile_is_the_latest_period_with_a_record_of_its_segment():
    tiles = {t.spec.metric: t for t in scorecard_tiles(ORG, None)}
    assert [t.spec.metric for t in scorecard_tiles(ORG, None)] == [s.metric for s in TILES]
    assert (tiles["ai_merge_rate"].period, tiles["ai_merge_rate"].value) == (W2, 0.40)
    assert tiles["ai_merge_rate"].trend == (0.30, 0.40)
    # The rollback tile is the AI-assisted segment, not the org's all-PR share.
    assert (tiles["rollback_share"].value, tiles["rollback_share"].status) == (0.09, "worse")
    assert tiles["mttr_hours"].period == W1
    # Deflection carries CSAT of the same period (W2), the guardrail that made it red.
    assert tiles["deflection_rate"].companion.value == 3.9
    assert status_words(tiles["deflection_rate"]) == "worse: CSAT guardrail"
    assert status_words(tiles["rollback_share"]) == "worse than baseline"
    payments = {t.spec.metric: t for t in scorecard_tiles(ORG, "payments")}
    assert payments["rollback_share"].value == 0.50
    assert payments["mttr_hours"].empty


def test_headline_puts_significant_changes_first_and_never_a_handful_of_events():
    changes = headline(ORG, None, "week")
    # Significant (worse/better) by relative size: rollback (ai) +200%, deflection +100%, mttr −25%, csat −9%.
    assert [(c.metric, c.segment) for c in changes] == [("rollback_share", "ai"), ("deflection_rate", "all"),
                                                        ("mttr_hours", "all")]
    assert changes[0].sentence == ("Rollback share, AI PRs rose to 9.0% from a baseline of 3.0% (+6.0 pp, 3.0× the "
                                   "baseline) in the week of 9 Mar 2026 — worse than baseline.")
    assert "yet counted as worse: CSAT fell" in changes[1].sentence
    assert all(c.metric != "ai_cost_per_unit" for c in headline(ORG, None, "week", limit=10))  # n = 5: too few
    assert headline(ORG, "web", "week")[0].metric == "ai_merge_rate"  # only information left


def test_teams_table_shows_each_teams_latest_values_worst_first():
    glance = team_glance(ORG)
    assert glance["team"].to_list() == ["payments", "web"]  # one red tile beats none
    row = glance.row(0, named=True)
    assert row["Rollback share, AI PRs"] == "50.0%"
    assert row["Rollback share, AI PRs" + STATUS_SUFFIX] == "worse"
    assert row["Mean time to restore"] == "—" and row["Mean time to restore" + STATUS_SUFFIX] is None
    assert row["worse"] == 1
