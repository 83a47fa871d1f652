"""The registry is executable: a new metric is one spec and one events function, and the scorecard, the
cube and `explain` count it with no other change. Numbers worked out by hand in the comments."""
import dataclasses
import datetime as dt

import polars as pl
import pytest

from config import BaselineConfig, BaselineWindow, Config
from metrics.explain import record_events
from metrics.registry import METRICS, MetricSpec, TwoProportionTest, counting_columns
from metrics.scorecard import compute, prepare
from tests.factories import evidence, make_ticket

WEEK = dt.date(2026, 3, 2)  # a Monday
CONFIG = Config(baseline=BaselineConfig(window=BaselineWindow(dt.date(2026, 1, 5), dt.date(2026, 2, 1))))


def bot_share_events(facts, reasons: bool = True) -> pl.DataFrame:
    """Resolved tickets; a hit when the AI bot resolved it."""
    resolved = facts.evidence.tickets.filter(pl.col("resolved_at").is_not_null())
    return resolved.select(
        "id", at="resolved_at", team="team", segment=pl.lit(None, pl.String), hit=pl.col("channel") == "ai_bot",
        reason=pl.format("resolved via {}", "channel") if reasons else pl.lit(None, pl.String),
    )


BOT_SHARE = MetricSpec(
    id="bot_share", title="AI bot share", short_title="Bot share", unit="share", kind="ratio", segments=("all",),
    segment_rule="", numerator="tickets the AI bot resolved", denominator="resolved tickets",
    counting_time="ticket resolved_at", better="higher", better_text="higher", interval="Wilson 95%",
    description="Share of resolved tickets the AI bot resolved.", events=bot_share_events, interval_method="wilson",
    status=TwoProportionTest(), counted_at=(("tickets", "resolved_at"),),
)


def tickets(n: int, bot: int, resolved_at: str, start: int) -> list[dict]:
    return [make_ticket(f"T-{start + i}", resolved_at=resolved_at, channel="ai_bot" if i < bot else "human")
            for i in range(n)]


def test_a_new_metric_is_one_spec_and_one_events_function(monkeypatch):
    monkeypatch.setitem(METRICS, BOT_SHARE.id, BOT_SHARE)
    # The week: 10 of 20 tickets by the bot; the January baseline: 4 of 40.
    ev = evidence(tickets=tickets(20, 10, "2026-03-03 10:00", 1) + tickets(40, 4, "2026-01-07 10:00", 100))
    records = compute(ev, CONFIG, grain="week", start=WEEK, end=WEEK, metrics=[BOT_SHARE.id])
    # The whole org and the tickets' team (`unassigned`), the same numbers.
    assert records["team"].to_list() == [None, "unassigned"]
    r = records.row(0, named=True)
    assert (r["value"], r["numerator"], r["n"], r["baseline"], r["baseline_n"]) == (0.5, 10, 20, 0.1, 40)
    # Wilson of 10/20, z² = 3.841459: d = 1.192073, centre 0.5, half = 1.644168 · sqrt(0.0125 + 0.002401) =
    # 1.644168 · 0.122069 = 0.200702 → [0.299298, 0.700702].
    assert r["ci_low"] == pytest.approx(0.299298, abs=1e-5) and r["ci_high"] == pytest.approx(0.700702, abs=1e-5)
    # Two proportions: pooled 14/60 = 0.233333; se = sqrt(0.233333 · 0.766667 · (1/20 + 1/40)) = 0.115830;
    # z = 0.4 / 0.115830 = 3.4533 → p = 0.00055 < 5%, and higher is better.
    assert r["test_p"] == pytest.approx(0.000554, abs=2e-5)
    assert r["status"] == "better"
    # `explain` lists the rows behind it from the same events function.
    rows = record_events(prepare(ev, CONFIG), BOT_SHARE.id, grain="week", period=WEEK)
    assert rows["counted"].to_list().count("numerator") == 10 and rows.height == 20
    assert set(rows["reason"]) == {"resolved via ai_bot", "resolved via human"}


def test_every_spec_says_what_the_code_does():
    for spec in METRICS.values():
        assert callable(spec.events), spec.id
        assert spec.counted_at, spec.id
        if spec.better != "info":
            assert spec.status is not None, spec.id  # a red or green status needs a test
        if spec.guardrail is not None:
            assert spec.guardrail.metric in METRICS, spec.id
        if spec.tile is not None and spec.tile.scorecard:
            assert spec.empty_hint and spec.drill_down, spec.id
        # the order statistics need the values one by one
        assert spec.interval_method != "order_statistics" or spec.cube_table == "values", spec.id
    counting_columns()  # no table is counted at two different columns


def test_definition_leaves_the_code_out():
    spec = METRICS["rollback_share"]
    definition = spec.definition()
    assert "events" not in definition and "status" not in definition
    assert definition["lookahead"] == dataclasses.asdict(spec.lookahead)
