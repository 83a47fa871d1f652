"""OpenAI cost shared out to users and API keys by tokens, worked by hand (metrics.openai_allocation)."""
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from metrics.openai_allocation import allocate, with_allocated_cost

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def spend() -> pl.DataFrame:
    rows = [  # the costs connector's rows: id openai:<day>:<project>:<line item>, model = the line item's model
        ("openai:2026-11-01:proj_pay:gpt-5, input", "openai", D1, "gpt-5", 3.00),
        ("openai:2026-11-01:proj_pay:gpt-5, output", "openai", D1, "gpt-5", 1.50),
        ("openai:2026-11-01:proj_pay:GPT-5-mini, input", "openai", D1, "GPT-5-mini", 0.12),  # any case
        ("openai:2026-11-01:proj_pay:web search tool calls", "openai", D1, "web search tool calls", 0.80),
        ("openai:2026-11-01:proj_web:gpt-5, input", "openai", D1, "gpt-5", 2.00),  # nobody used proj_web
        ("cursor:2026-11-01:ana@acme.dev:gpt-5", "cursor", D1, "gpt-5", 9.99),  # another source: not OpenAI's
    ]
    return pl.DataFrame(rows, schema={"id": pl.String, "source": pl.String, "date": pl.Date, "model": pl.String,
                                      "cost_usd": pl.Float64}, orient="row")


def usage() -> pl.DataFrame:
    rows = [
        ("u1", "openai_usage", D1, "proj_pay", "gpt-5", 1000, None),  # user-ana, key_ana
        ("u2", "openai_usage", D1, "proj_pay", "gpt-5", 3000, None),  # api_key:key_svc
        ("u3", "openai_usage", D1, "proj_pay", "gpt-5-mini", 1000, None),  # user-ana, key_ana
        ("u4", "openai_usage", D2, "proj_pay", "o3", 500, None),  # no cost row that day
        ("c1", "cursor", D1, None, "gpt-5", 10, 9.99),  # another tool's row keeps its own cost
    ]
    return pl.DataFrame(rows, schema={"id": pl.String, "source": pl.String, "date": pl.Date, "project": pl.String,
                                      "model": pl.String, "tokens": pl.Int64, "cost_usd": pl.Float64}, orient="row")


def test_each_days_project_cost_is_shared_by_tokens_model_first():
    allocated, unallocated = allocate(spend(), usage())
    # proj_pay on Nov 1: gpt-5 lines $3.00 + $1.50 = $4.50 over the gpt-5 rows' 1000 + 3000 tokens → u1 $1.125,
    # u2 $3.375; gpt-5-mini $0.12 → u3 alone; web search $0.80 (no usage row names it) over all 5000 tokens →
    # u1 $0.16, u2 $0.48, u3 $0.16. u1 = 1.285, u2 = 3.855, u3 = 0.28: together $5.42, the project's day.
    expected = pl.DataFrame({"id": ["u1", "u2", "u3"], "cost_usd": [1.285, 3.855, 0.28]})
    assert_frame_equal(allocated, expected, abs_tol=1e-9)
    # proj_web's $2.00 has no usage row to go to: listed, not dropped.
    assert unallocated.rows() == [(D1, "proj_web", 2.0)]


def test_usage_rows_get_the_cost_and_others_keep_theirs():
    out, _ = with_allocated_cost(usage(), spend())
    got = dict(zip(out["id"], out["cost_usd"]))
    # u4 has no cost line for Nov 2: unknown (null), not $0; Cursor's row keeps its own $9.99.
    assert (round(got["u1"], 6), round(got["u2"], 6), round(got["u3"], 6), got["u4"], got["c1"]) == (
        1.285, 3.855, 0.28, None, 9.99)
    assert out.columns == usage().columns


def test_a_model_whose_rows_used_no_tokens_goes_to_the_whole_project():
    cost = spend().filter(pl.col("id") == "openai:2026-11-01:proj_pay:GPT-5-mini, input")
    rows = usage().with_columns(tokens=pl.when(pl.col("id") == "u3").then(0).otherwise(pl.col("tokens")))
    allocated, _ = allocate(cost, rows)
    # gpt-5-mini's $0.12: its only row used 0 tokens, so it is shared over proj_pay's 1000 + 3000 + 0 tokens.
    assert allocated.rows() == [("u1", 0.03), ("u2", 0.09), ("u3", 0.0)]
