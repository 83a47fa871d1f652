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
from reports.adoption_data import USAGE_COLUMNS, load_adoption
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


def test_adoption_sums_equal_every_row(warehouse):
    ingest(warehouse, "demo", generate("small", end=DEMO_END), action="demo")
    ingest(warehouse, "csv", _openai_rows())
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


def _config(warehouse):
    from config import Config, WarehouseConfig

    return Config(warehouse=WarehouseConfig(url=warehouse.display_url))
