"""The spend kept beside the cube, worked out by hand on small warehouses (SQLite and PostgreSQL): built whole,
kept by the upkeep after a write (not rebuilt).

- The Adoption page's spend sums (reports.adoption_data.spend_sums_by_day, stored by reports/derived.py, read by
  `stored_spend_sums`): the same rows, order and bits as the GROUP BY over every spend row (`load_spend_sums`)
  that the page read before.
- The AI spend page's rollup (metrics.cube.spend_rollup): per day, team, tool, model and workflow, seat-priced
  rows apart.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from config import Config, WarehouseConfig
from metrics.cube import SPEND_ROLLUP_SCHEMA, spend_rollup
from pipeline import ingest
from reports.adoption_data import SPEND_SCHEMA, SPEND_SUMS_PART, load_spend_sums, stored_spend_sums
from reports.data import load_cube, refresh_cube
from warehouse import open_warehouse
from warehouse.cube_store import read_cube_parts, read_facts
from warehouse.schema import TABLES
from warehouse.types import polars_schema

MAR_2, MAR_3, APR_1 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 4, 1)


def _spend(key: str, day: dt.date, tool: str | None, model: str | None, cost: float, source: str = "csv") -> dict:
    return {"id": f"t:{key}", "source": source, "date": day, "team": "web", "tool": tool, "model": model,
            "cost_usd": cost}


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(TABLES["ai_spend"], list(rows[0])), orient="row")


SPEND = [
    _spend("s1", MAR_2, "cursor", "m1", 1.25),
    _spend("s2", MAR_2, "cursor", "m1", 2.5),
    _spend("s3", MAR_2, "copilot", None, 10.0),
    _spend("o1", MAR_2, "openai", "gpt-4o", 4.0, source="openai"),  # OpenAI's cost lines: one row each, with its id
    _spend("o2", MAR_2, "openai", "gpt-4o", 6.0, source="openai"),
    # Added one by one in the order they were written: (0.1 + 0.2) + 0.3, not 0.6.
    _spend("s7", MAR_3, "cursor", "m1", 0.1),
    _spend("s8", MAR_3, "cursor", "m1", 0.2),
    _spend("s9", MAR_3, "cursor", "m1", 0.3),
    _spend("s6", APR_1, "cursor", "m1", 0.5),
]


def _sums(rows: list[tuple]) -> pl.DataFrame:
    """(id, source, date, tool, model, cost_usd) rows as `load_spend_sums` gives them."""
    return pl.DataFrame(rows, schema=SPEND_SCHEMA, orient="row")


def test_spend_sums_by_hand_kept_by_the_upkeep_as_the_group_by_over_every_row_gives_them(warehouse_url):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    try:
        ingest(wh, "csv", {"ai_spend": _frame(SPEND)})
        load_cube(wh, config)
        # By id (null first: every source but OpenAI's), source, date, tool (null first), model.
        march_3 = 0.1 + 0.2 + 0.3
        assert march_3 == 0.6000000000000001
        want = _sums([
            (None, "csv", MAR_2, "copilot", None, 10.0),
            (None, "csv", MAR_2, "cursor", "m1", 3.75),  # 1.25 + 2.5
            (None, "csv", MAR_3, "cursor", "m1", march_3),
            (None, "csv", APR_1, "cursor", "m1", 0.5),
            ("t:o1", "openai", MAR_2, "openai", "gpt-4o", 4.0),
            ("t:o2", "openai", MAR_2, "openai", "gpt-4o", 6.0),
        ])
        assert_frame_equal(stored_spend_sums(wh), want, check_exact=True)
        assert_frame_equal(load_spend_sums(wh), want, check_exact=True)
        # Stored by day: the part's April chunk holds April's sum alone.
        assert read_facts(wh, SPEND_SUMS_PART, APR_1).select("day", "cost_usd").rows() == [(APR_1, 0.5)]
        assert SPEND_SUMS_PART not in read_cube_parts(wh)  # no reader of the cube sees them

        # A row on 3 March and s6 repriced 0.5 → 1.5: folded in by the upkeep from 3 March on, not a rebuild.
        ingest(wh, "csv", {"ai_spend": _frame([_spend("s10", MAR_3, "cursor", "m1", 0.4),
                                               _spend("s6", APR_1, "cursor", "m1", 1.5)])})
        assert refresh_cube(wh, config) == "updated"
        march_3 = 0.1 + 0.2 + 0.3 + 0.4  # 0.6000000000000001 + 0.4
        assert march_3 == 1.0
        want = _sums([
            (None, "csv", MAR_2, "copilot", None, 10.0),
            (None, "csv", MAR_2, "cursor", "m1", 3.75),
            (None, "csv", MAR_3, "cursor", "m1", march_3),
            (None, "csv", APR_1, "cursor", "m1", 1.5),
            ("t:o1", "openai", MAR_2, "openai", "gpt-4o", 4.0),
            ("t:o2", "openai", MAR_2, "openai", "gpt-4o", 6.0),
        ])
        assert_frame_equal(stored_spend_sums(wh), want, check_exact=True)
        assert_frame_equal(load_spend_sums(wh), want, check_exact=True)
        # The upkeep summed the days from 3 March on only.
        assert_frame_equal(load_spend_sums(wh, MAR_3), want.filter(pl.col("date") >= MAR_3), check_exact=True)
    finally:
        wh.engine.dispose()


def _row(key: str, day: dt.date, team: str | None, tool: str, cost: float, tokens: int | None,
         requests: int | None) -> dict:
    return {"id": f"t:{key}", "source": "csv", "date": day, "team": team, "tool": tool,
            "model": "m1" if tool == "cursor" else None, "workflow": None, "cost_usd": cost, "tokens": tokens,
            "requests": requests}


ROLLED = [
    _row("r1", MAR_2, "web", "cursor", 1.5, 100, 2),
    _row("r2", MAR_2, "web", "cursor", 2.25, 50, None),
    _row("r3", MAR_2, None, "copilot", 10.0, None, None),  # seat-priced (no tokens), no team: unassigned
    _row("r4", MAR_2, "web", "copilot", 5.0, None, None),
    _row("r5", MAR_2, "web", "cursor", 0.25, None, 1),  # r1's day, team, tool and model, but seat-priced: apart
    _row("r6", APR_1, "web", "cursor", 4.0, 10, 1),
]


def _rollup(rows: list[tuple]) -> pl.DataFrame:
    """(day, team, tool, model, cost_usd, tokens, requests, rows) as metrics.cube.spend_rollup gives them."""
    return pl.DataFrame([(d, team, tool, model, None, *rest) for d, team, tool, model, *rest in rows],
                        schema=SPEND_ROLLUP_SCHEMA, orient="row")


# r1 + r2: $3.75, 150 tokens, 2 requests (r2 reports none), 2 rows; then each seat-priced group in the order its
# first row comes; April apart.
ROLLUP = [
    (MAR_2, "web", "cursor", "m1", 3.75, 150, 2, 2),
    (MAR_2, "unassigned", "copilot", None, 10.0, None, None, 1),
    (MAR_2, "web", "copilot", None, 5.0, None, None, 1),
    (MAR_2, "web", "cursor", "m1", 0.25, None, 1, 1),
    (APR_1, "web", "cursor", "m1", 4.0, 10, 1, 1),
]


def test_spend_rollup_by_hand():
    rows = pl.DataFrame(ROLLED, schema=polars_schema(TABLES["ai_spend"], list(ROLLED[0])), orient="row")
    assert_frame_equal(spend_rollup(rows.with_columns(pl.col("team").fill_null("unassigned"))), _rollup(ROLLUP))


def test_spend_rollup_kept_by_the_upkeep(warehouse_url):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    key = ["day", "team", "tool", "model", "tokens"]
    try:
        ingest(wh, "csv", {"ai_spend": _frame(ROLLED)})
        load_cube(wh, config)
        kept = read_facts(wh, "spend_rollup", dt.date(2026, 1, 1))
        assert_frame_equal(kept.sort(key, nulls_last=True), _rollup(ROLLUP).sort(key, nulls_last=True))
        assert "spend_rollup" not in read_cube_parts(wh)

        # One more row of r1's group: folded in by the upkeep (4.75, 151 tokens, 3 requests, 3 rows).
        ingest(wh, "csv", {"ai_spend": _frame([_row("r7", MAR_2, "web", "cursor", 1.0, 1, 1)])})
        assert refresh_cube(wh, config) == "updated"
        kept = read_facts(wh, "spend_rollup", dt.date(2026, 1, 1))
        want = [(MAR_2, "web", "cursor", "m1", 4.75, 151, 3, 3), *ROLLUP[1:]]
        assert_frame_equal(kept.sort(key, nulls_last=True), _rollup(want).sort(key, nulls_last=True))
    finally:
        wh.engine.dispose()


def _pr(number: int, merged: dt.datetime) -> dict:
    return {"id": f"gh:acme/web#{number}", "source": "csv", "repo": "acme/web", "number": number,
            "title": f"change {number}", "author": "ana", "created_at": merged - dt.timedelta(hours=2),
            "merged_at": merged, "ai_assisted": False, "is_revert": False}


def test_the_upkeep_sums_the_spend_again_only_after_a_write_of_spend(warehouse_url, monkeypatch):
    """`cube_state.spend_pending` (migration 0016): a write of PRs leaves the spend's parts as stored (no read of
    the spend rows); a write of spend sets it and the upkeep sums the spend from its cut."""
    import reports.derived as derived
    from warehouse.cube_store import read_state

    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    summed = []
    real = derived._spend_parts
    monkeypatch.setattr(derived, "_spend_parts", lambda *a, **k: summed.append(a[2]) or real(*a, **k))
    prs = TABLES["pull_requests"]
    try:
        ingest(wh, "csv", {"ai_spend": _frame(SPEND)})
        load_cube(wh, config)
        assert summed == [None] and read_state(wh).spend_pending is False  # the build summed every day

        pr = _pr(1, dt.datetime(2026, 3, 3, 12, tzinfo=dt.timezone.utc))
        ingest(wh, "csv", {"pull_requests": pl.DataFrame([pr], schema=polars_schema(prs, list(pr)), orient="row")})
        assert read_state(wh).spend_pending is False and read_state(wh).pending_from is not None
        assert refresh_cube(wh, config) == "updated"
        assert summed == [None]  # the PR's upkeep did not sum the spend
        before = stored_spend_sums(wh)

        ingest(wh, "csv", {"ai_spend": _frame([_spend("s6", APR_1, "cursor", "m1", 1.5)])})
        assert read_state(wh).spend_pending is True
        assert refresh_cube(wh, config) == "updated"
        assert summed[1:] == [APR_1] and read_state(wh).spend_pending is False
        after = stored_spend_sums(wh)
        assert after.filter(pl.col("date") == APR_1).get_column("cost_usd").to_list() == [1.5]  # was 0.5
        assert_frame_equal(after.filter(pl.col("date") < APR_1), before.filter(pl.col("date") < APR_1), check_exact=True)
    finally:
        wh.engine.dispose()
