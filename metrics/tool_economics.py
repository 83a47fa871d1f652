"""Per-tool economics: spend by tool and model from every source, and for each tool its cost per merged
PR, rollback share and merge rate — one table a VP can decide from. Pure polars.

- Spend: `ai_spend` rows (every source: cost APIs, FOCUS files, seats, Copilot billing, Cursor, Claude Code)
  whose `date` lies in [start, end).
- A PR belongs to a tool when the tool is named in the PR's `ai_tools` (a JSON list of tool names, or a
  list column); a PR naming two tools counts for both.
- cost per merged PR = the tool's spend ÷ its PRs merged in [start, end) (null without merged PRs).
- rollback share = its merged PRs rolled back ÷ its merged PRs (`outcomes.rolled_back`), Wilson 95 %.
- merge rate = its PRs merged ÷ its PRs closed (merged or closed without merging) in [start, end).
- Tool names are shown as the AI tool registry names them (connectors.common.ai_tools: "Claude Code",
  "GitHub Copilot", "Cursor", "OpenAI Codex", ...), the names PRs carry in `ai_tools`. `canonical_tool`
  compares names in lower case with spaces and underscores as `-`, so the registry's names and aliases
  and the spend sources' tool values (`github-copilot`, `claude-code`, `cursor`, FOCUS `Claude`) all land
  on the registry name; a name no tool claims (the API bills `anthropic`, `openai`) is kept as given.
- Spend of a tool with no `ai_spend` row in the window may come from the vendors' per-person cost
  (`vendor_cost`: `ai_usage_people` date, tool, cost_usd — Claude Code's estimated cost, which its
  connector keeps out of `ai_spend` by default); a tool with `ai_spend` rows never adds it (Cursor writes
  both: counted once). `spend_from` says which: "billing", "vendor usage" or "none" — and with "none"
  the cost per merged PR is null, not $0.
- Below `min_sample` merged PRs a tool's ratios are shown as "not enough data" (null).
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl

from connectors.common.ai_tools import TOOLS
from metrics.stats import wilson


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


# Every registry name, alias and bot login, compared as `_key`, → the registry name.
TOOL_ALIASES = {_key(alias): tool.name for tool in TOOLS for alias in (*tool.bots, *tool.names)}


def canonical_tool(expr: pl.Expr) -> pl.Expr:
    """The registry name of a tool value (`github-copilot` → "GitHub Copilot"), or the value stripped."""
    name = expr.cast(pl.String).str.strip_chars()
    key = name.str.to_lowercase().str.replace_all(r"[\s_]+", "-")
    return pl.coalesce(key.replace_strict(TOOL_ALIASES, default=None, return_dtype=pl.String), name)


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def spend_by_tool_model(spend: pl.DataFrame, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Columns: tool (canonical), model ("(none)" where a source gives none), sources (the `source`
    values, comma-separated), cost_usd. Sorted by cost, largest first."""
    rows = spend.filter((pl.col("date") >= start) & (pl.col("date") < end))
    return (rows.with_columns(tool=canonical_tool(pl.col("tool")).fill_null("unknown"),
                              model=pl.col("model").fill_null("(none)"))
            .group_by("tool", "model")
            .agg(sources=pl.col("source").unique().sort().str.join(", "), cost_usd=pl.col("cost_usd").sum())
            .sort(["cost_usd", "tool", "model"], descending=[True, False, False]))


def _tools_per_pr(prs: pl.DataFrame) -> pl.DataFrame:
    tools = pl.col("ai_tools")
    if prs.schema.get("ai_tools") == pl.String:
        tools = tools.str.json_decode(pl.List(pl.String))
    return (prs.select("id", "merged_at", "closed_at", tool=tools.fill_null([]))
            .explode("tool").filter(pl.col("tool").is_not_null())
            .with_columns(tool=canonical_tool(pl.col("tool"))).unique(["id", "tool"]))


def _spend_per_tool(spend: pl.DataFrame, vendor_cost: pl.DataFrame | None, start: dt.date, end: dt.date) -> pl.DataFrame:
    """tool, spend_usd, spend_from: `ai_spend` per tool, else the vendors' per-person cost."""
    billed = spend_by_tool_model(spend, start=start, end=end).group_by("tool").agg(
        spend_usd=pl.col("cost_usd").sum()).with_columns(spend_from=pl.lit("billing"))
    if vendor_cost is None:
        return billed
    estimated = (vendor_cost.filter((pl.col("date") >= start) & (pl.col("date") < end) & pl.col("cost_usd").is_not_null())
                 .with_columns(tool=canonical_tool(pl.col("tool"))).filter(~pl.col("tool").is_in(billed["tool"].implode()))
                 .group_by("tool").agg(spend_usd=pl.col("cost_usd").sum()).with_columns(spend_from=pl.lit("vendor usage")))
    return pl.concat([billed, estimated.cast(billed.schema)])


def tool_economics(spend: pl.DataFrame, prs: pl.DataFrame, outcomes: pl.DataFrame, *, start: dt.date,
                   end: dt.date, min_sample: int, vendor_cost: pl.DataFrame | None = None) -> pl.DataFrame:
    """`prs`: id, merged_at, closed_at, ai_tools; `outcomes`: id, rolled_back (merged PRs); `vendor_cost`:
    date, tool, cost_usd (`ai_usage_people`, optional). Columns: tool (registry name), spend_usd,
    spend_from, merged_prs, cost_per_merged_pr, rolled_back, rollback_share, rollback_low, rollback_high,
    closed_prs, merge_rate, status ("ok" / "not enough data"). One row per tool with spend or PRs."""
    lo, hi = _utc(start), _utc(end)
    tagged = _tools_per_pr(prs)
    merged = tagged.filter(pl.col("merged_at").is_not_null() & (pl.col("merged_at") >= lo) & (pl.col("merged_at") < hi))
    merged = merged.join(outcomes.select("id", "rolled_back"), on="id", how="left")
    finished = pl.coalesce("merged_at", "closed_at")
    closed = tagged.filter(finished.is_not_null() & (finished >= lo) & (finished < hi))
    money = _spend_per_tool(spend, vendor_cost, start, end)
    counts = merged.group_by("tool").agg(merged_prs=pl.len().cast(pl.Int64),
                                         rolled_back=pl.col("rolled_back").fill_null(False).sum().cast(pl.Int64))
    closes = closed.group_by("tool").agg(closed_prs=pl.len().cast(pl.Int64),
                                         closed_merged=pl.col("merged_at").is_not_null().sum().cast(pl.Int64))
    tools = pl.concat([money.select("tool"), counts.select("tool"), closes.select("tool")]).unique()
    out = (tools.join(money, on="tool", how="left").join(counts, on="tool", how="left").join(closes, on="tool", how="left")
           .with_columns(pl.col("spend_usd").fill_null(0.0), pl.col("spend_from").fill_null("none"),
                         pl.col("merged_prs", "rolled_back", "closed_prs", "closed_merged").fill_null(0))
           .sort(["spend_usd", "tool"], descending=[True, False]))
    n = out["merged_prs"].to_numpy().astype(float)
    enough = n >= max(min_sample, 1)
    low, high = wilson(out["rolled_back"].to_numpy().astype(float), n)
    closed_n = out["closed_prs"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = out["rolled_back"].to_numpy() / n
        per_pr = out["spend_usd"].to_numpy() / n
        merge_rate = out["closed_merged"].to_numpy() / closed_n

    def keep(values, mask):
        return pl.Series(np.where(mask, values, np.nan)).fill_nan(None)

    return out.with_columns(
        cost_per_merged_pr=keep(per_pr, (n > 0) & (out["spend_from"] != "none").to_numpy()),
        rollback_share=keep(share, enough), rollback_low=keep(low, enough), rollback_high=keep(high, enough),
        merge_rate=keep(merge_rate, closed_n >= max(min_sample, 1)),
        status=pl.Series(np.where(enough, "ok", "not enough data")),
    ).select("tool", "spend_usd", "spend_from", "merged_prs", "cost_per_merged_pr", "rolled_back", "rollback_share", "rollback_low",
             "rollback_high", "closed_prs", "merge_rate", "status")
