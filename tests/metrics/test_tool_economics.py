"""Spend by tool and model from every source, and cost per merged PR, rollback share and merge rate per
tool — numbers worked out by hand."""
import datetime as dt
import json

import polars as pl

from metrics.tool_economics import spend_by_tool_model, tool_economics

D = dt.date
START, END = D(2026, 11, 1), D(2026, 12, 1)
SPEND = pl.DataFrame({
    "source": ["copilot", "github", "cursor", "cursor", "claude_code", "openai", "cursor"],
    "date": [D(2026, 11, 1), D(2026, 11, 3), D(2026, 11, 3), D(2026, 11, 4), D(2026, 11, 5), D(2026, 11, 6),
             D(2026, 10, 31)],  # the last is before the window
    "tool": ["github-copilot", "github-copilot", "cursor", "Cursor", "claude-code", "openai", "cursor"],
    "model": [None, "Claude Sonnet 4.5", "gpt-5", "gpt-5", "claude-sonnet-4-5", "gpt-5", "gpt-5"],
    "cost_usd": [190.0, 2.0, 40.0, 20.0, 30.0, 12.5, 999.0],
})


def pr(id_, merged: int | None, closed: int | None, tools) -> dict:
    at = lambda d: dt.datetime(2026, 11, d, 12, tzinfo=dt.timezone.utc) if d else None  # noqa: E731
    return {"id": id_, "merged_at": at(merged), "closed_at": at(closed or merged), "ai_tools": json.dumps(tools)}


PRS = pl.DataFrame([
    pr("p1", 2, None, ["copilot"]), pr("p2", 3, None, ["copilot"]), pr("p3", 4, None, ["copilot", "cursor"]),
    pr("p4", None, 5, ["copilot"]),  # closed without merging
    pr("p5", 6, None, ["cursor"]), pr("p6", 7, None, ["Cursor"]),
    pr("p7", 8, None, []), pr("p8", None, 9, ["claude-code"]),
], schema={"id": pl.String, "merged_at": pl.Datetime("us", "UTC"), "closed_at": pl.Datetime("us", "UTC"),
           "ai_tools": pl.String})
OUTCOMES = pl.DataFrame({"id": ["p1", "p2", "p3", "p5", "p6", "p7"],
                         "rolled_back": [False, True, False, False, False, True]})


def test_spend_by_tool_and_model_from_every_source():
    out = spend_by_tool_model(SPEND, start=START, end=END)
    # github-copilot → "GitHub Copilot" (the registry's name): seats 190 (no model) and 2.00 premium
    # requests; Cursor 40 + 20 = 60 on gpt-5 ("Cursor" and "cursor" are one tool); October's 999 is outside
    # the window; the OpenAI API bill names no coding tool and keeps its name.
    assert out.rows() == [
        ("GitHub Copilot", "(none)", "copilot", 190.0), ("Cursor", "gpt-5", "cursor", 60.0),
        ("Claude Code", "claude-sonnet-4-5", "claude_code", 30.0), ("openai", "gpt-5", "openai", 12.5),
        ("GitHub Copilot", "Claude Sonnet 4.5", "github", 2.0)]


def test_cost_per_merged_pr_rollback_share_and_merge_rate_per_tool():
    out = tool_economics(SPEND, PRS, OUTCOMES, start=START, end=END, min_sample=3)
    got = {r["tool"]: r for r in out.iter_rows(named=True)}
    # copilot: 192 USD ÷ 3 merged (p1, p2, p3) = 64.00; 1 of 3 rolled back; merged 3 of 4 closed = 0.75.
    c = got["GitHub Copilot"]
    assert (c["spend_usd"], c["merged_prs"], c["cost_per_merged_pr"], c["rolled_back"], c["closed_prs"]) == (192.0, 3, 64.0, 1, 4)
    assert abs(c["rollback_share"] - 1 / 3) < 1e-12 and c["merge_rate"] == 0.75 and c["status"] == "ok"
    assert c["rollback_low"] < 1 / 3 < c["rollback_high"]
    # cursor: 60 USD ÷ 3 merged (p3, p5, p6) = 20.00; none rolled back; 3 of 3 closed merged.
    u = got["Cursor"]
    assert (u["cost_per_merged_pr"], u["rollback_share"], u["merge_rate"]) == (20.0, 0.0, 1.0)
    # claude-code: 30 USD and no merged PR: no cost per PR; 1 closed PR is below min_sample.
    k = got["Claude Code"]
    assert (k["merged_prs"], k["cost_per_merged_pr"], k["rollback_share"], k["merge_rate"], k["status"]) == (
        0, None, None, None, "not enough data")
    # openai: spend, no PRs naming it. The PR naming no tool (p7) belongs to none.
    assert got["openai"]["merged_prs"] == 0 and set(got) == {"GitHub Copilot", "Cursor", "Claude Code", "openai"}
    assert out["tool"].to_list()[0] == "GitHub Copilot"  # largest spend first
    assert set(out["spend_from"]) == {"billing"}


def test_every_spend_and_usage_tool_value_lands_on_a_registry_name():
    from config.spend import CopilotSeatsConfig
    from connectors.common.ai_tools import TOOLS
    from connectors.github import settings
    from connectors.vendors import claude_code, cursor
    from metrics.tool_economics import canonical_tool

    values = [settings.COPILOT_TOOL, CopilotSeatsConfig().tool, claude_code.TOOL, cursor.TOOL,
              "GitHub Copilot", "copilot-swe-agent", "Claude", "claude_code", " Cursor ", "OpenAI Codex", "codex",
              "anthropic", "openai"]
    got = pl.DataFrame({"tool": values}).select(canonical_tool(pl.col("tool")))["tool"].to_list()
    assert got == ["GitHub Copilot"] * 2 + ["Claude Code", "Cursor", "GitHub Copilot", "GitHub Copilot", "Claude Code",
                                            "Claude Code", "Cursor", "OpenAI Codex", "OpenAI Codex", "anthropic", "openai"]
    assert {"Claude Code", "GitHub Copilot", "Cursor", "OpenAI Codex"} <= {t.name for t in TOOLS}


def test_vendor_cost_counts_only_for_tools_without_billing_and_no_spend_is_no_cost():
    prs = pl.DataFrame([pr("q1", 2, None, ["Claude Code"]), pr("q2", 3, None, ["Claude Code"]),
                        pr("q3", 4, None, ["Cursor"]), pr("q4", 5, None, ["Devin"])],
                       schema=PRS.schema)
    vendor = pl.DataFrame({"date": [D(2026, 11, 2), D(2026, 11, 3), D(2026, 11, 3), D(2026, 10, 1)],
                           "tool": ["claude-code", "claude-code", "cursor", "claude-code"],
                           "cost_usd": [7.0, 5.0, 500.0, 1000.0]})
    spend = SPEND.filter(pl.col("tool").str.to_lowercase() == "cursor")
    out = tool_economics(spend, prs, pl.DataFrame({"id": ["q1"], "rolled_back": [False]}), start=START, end=END,
                         min_sample=1, vendor_cost=vendor)
    got = {r["tool"]: r for r in out.iter_rows(named=True)}
    # Claude Code: no ai_spend row, vendor cost 7 + 5 = 12 in November (October's 1000 is out) ÷ 2 merged = 6.00.
    assert (got["Claude Code"]["spend_usd"], got["Claude Code"]["spend_from"], got["Claude Code"]["cost_per_merged_pr"]) == (
        12.0, "vendor usage", 6.0)
    # Cursor: billed 40 + 20 = 60 (the vendor's 500 per-person cost is the same money: not added) ÷ 1 merged.
    assert (got["Cursor"]["spend_usd"], got["Cursor"]["spend_from"], got["Cursor"]["cost_per_merged_pr"]) == (60.0, "billing", 60.0)
    # Devin: 1 merged PR, no spend anywhere: cost per merged PR unknown, not $0.
    assert (got["Devin"]["spend_usd"], got["Devin"]["spend_from"], got["Devin"]["cost_per_merged_pr"]) == (0.0, "none", None)
