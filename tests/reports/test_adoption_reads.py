"""The Adoption page's spend and PR tools (reports/adoption_data.load_adoption) come from sums in SQL and
the PRs that name a tool, not every row: the spend per tool and model, the per-tool economics and the
OpenAI cost shared out to usage rows equal what every spend row and every PR give, over the demo
organisation (with OpenAI cost and usage rows added: the allocation reads each cost line's id), for
ranges at the end and in the middle of the data, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from connectors.demo.generator import generate
from metrics.openai_allocation import with_allocated_cost
from metrics.scorecard import prepare
from metrics.tool_economics import spend_by_tool_model, tool_economics
from pipeline import ingest
from reports.adoption_data import USAGE_COLUMNS, load_adoption, load_tool_prs
from reports.data import load_evidence
from tests.app.conftest import DEMO_END
from warehouse import read_table
from warehouse.schema import TABLES
from warehouse.types import polars_schema

D1, D2 = DEMO_END - dt.timedelta(days=3), DEMO_END - dt.timedelta(days=2)


def _frame(rows: list[dict], table: str) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(TABLES[table], list(rows[0])), orient="row")


def _openai_rows() -> dict[str, pl.DataFrame]:
    """Two days of an OpenAI project's cost lines and its users' tokens (the allocation's input)."""
    spend = [{"id": f"openai:{day}:proj_pay:{line}", "source": "openai", "date": day, "team": "payments",
              "tool": "openai", "model": line.split(",")[0], "cost_usd": cost}
             for day in (D1, D2) for line, cost in (("gpt-5, input", 3.0), ("gpt-5, output", 1.5), ("web search", 0.8))]
    usage = [{"id": f"u{i}", "source": "openai_usage", "date": day, "tool": "openai", "vendor_user": user,
              "project": "proj_pay", "model": "gpt-5", "tokens": tokens}
             for i, (day, user, tokens) in enumerate([(D1, "user-ana", 1000), (D1, "user-bo", 3000), (D2, "user-ana", 500)])]
    return {"ai_spend": _frame(spend, "ai_spend"), "ai_usage_people": _frame(usage, "ai_usage_people")}


def _closed_unmerged() -> dict[str, pl.DataFrame]:
    """Two PRs naming Cursor closed without merging: one three days before the demo's end, one 50 weeks before."""
    rows = [{"id": f"t:closed{i}", "source": "csv", "repo": "acme/payments-api", "number": 90_000 + i,
             "title": "An abandoned try", "author": "ana", "created_at": closed - dt.timedelta(hours=5),
             "merged_at": None, "closed_at": closed, "ai_assisted": True, "is_revert": False,
             "ai_tools": '["Cursor"]'}
            for i, closed in enumerate([_utc(D1), _utc(DEMO_END - dt.timedelta(weeks=50))])]
    return {"pull_requests": _frame(rows, "pull_requests")}


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9), dt.timezone.utc)


def test_adoption_sums_equal_every_row(warehouse):
    ingest(warehouse, "demo", generate("small", end=DEMO_END), action="demo")
    ingest(warehouse, "csv", _openai_rows())
    ingest(warehouse, "csv", _closed_unmerged())
    data = load_adoption(warehouse)
    rows = read_table(warehouse, "ai_spend", ["id", "source", "date", "tool", "model", "cost_usd"])
    prs = read_table(warehouse, "pull_requests", ["id", "merged_at", "closed_at", "ai_tools"])
    assert data.spend.height < rows.height / 5  # sums, not rows
    assert 0 < data.ai_tools.height < prs.height  # the PRs that name a tool
    # The OpenAI cost shared out as from every row: each usage row's cost, and nothing unallocated.
    usage, unallocated = with_allocated_cost(read_table(warehouse, "ai_usage_people", USAGE_COLUMNS), rows)
    openai = data.usage.filter(pl.col("source") == "openai_usage").sort("id").select("id", "cost_usd")
    assert_frame_equal(openai, usage.filter(pl.col("source") == "openai_usage").sort("id").select("id", "cost_usd"))
    assert openai.get_column("cost_usd").sum() == pl.Series([5.3, 5.3]).sum()  # both days' lines shared out
    assert_frame_equal(data.unallocated, unallocated)
    outcomes = prepare(load_evidence(warehouse), _config(warehouse)).outcomes
    for weeks_back in (0, 20):
        end = DEMO_END - dt.timedelta(weeks=weeks_back)
        start = end - dt.timedelta(weeks=13) + dt.timedelta(days=1)
        got = spend_by_tool_model(data.spend, start=start, end=end)
        want = spend_by_tool_model(rows, start=start, end=end)
        assert got.height == want.height > 2
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-9)
        economics = tool_economics(data.spend, data.ai_tools, outcomes, start=start, end=end, min_sample=5)
        assert economics.get_column("merged_prs").sum() > 0
        assert_frame_equal(economics, tool_economics(rows, prs, outcomes, start=start, end=end, min_sample=5),
                           check_exact=False, rel_tol=1e-9)
        # The range's PRs naming a tool (load_tool_prs): the same economics as from every such PR.
        in_range = load_tool_prs(warehouse, start, end)
        assert 0 < in_range.height < data.ai_tools.height
        assert_frame_equal(tool_economics(data.spend, in_range, outcomes, start=start, end=end, min_sample=5), economics)
        # The PR closed unmerged three days before the end is read for the range at the end only; the one
        # closed 50 weeks back for neither (the ranges: the 13 weeks to the end, and to 20 weeks before it).
        closed = sorted(in_range.filter(pl.col("merged_at").is_null()).get_column("id").to_list())
        assert closed == (["t:closed0"] if weeks_back == 0 else [])


def _config(warehouse):
    from config import Config, WarehouseConfig

    return Config(warehouse=WarehouseConfig(url=warehouse.display_url))


def test_the_range_tool_prs_are_read_from_the_partial_index_alone(warehouse):
    """`load_tool_prs`' two reads name the PRs' partial index of those naming a tool (migration 0014): SQLite
    reads it as a covering index (no table row), PostgreSQL plans it once told not to scan the table. Its
    predicate is the reads' own; a PR without tools is not in the index."""
    import sqlalchemy as sa

    from reports.adoption_data import tool_pr_conditions

    ingest(warehouse, "csv", _closed_unmerged())
    start, end = D1 - dt.timedelta(days=90), DEMO_END
    with warehouse.engine.connect() as conn:
        for where in tool_pr_conditions(warehouse, start, end):
            sql = f"SELECT id, merged_at, closed_at, ai_tools FROM pull_requests WHERE {where}"
            if warehouse.dialect == "sqlite":
                plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
                assert "USING COVERING INDEX ix_pull_requests_tools_merged_at" in plan, plan
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
                assert "ix_pull_requests_tools_merged_at" in plan, plan
    # t:closed0 (closed unmerged in range, naming Cursor) is read; t:closed1 closed before the range is not.
    assert load_tool_prs(warehouse, start, end).get_column("id").to_list() == ["t:closed0"]
