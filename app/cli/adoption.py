"""`scorecard adoption`: the vendor users no person claims, the per-tool economics and the use and cost per
API key, from the terminal.

An admin tool: the unmatched list names vendor users (e-mails, logins, API user ids) — per-person rows
the dashboard shows only to admins and analysts. The CLI has no sign-in (whoever can read the warehouse
already sees every row), so this command is for the people who administer the scorecard.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table

from app.cli.base import ConfigOpt, EndOpt, Failure, StartOpt, _config, _warehouse, command, out, range_from_dates
from app.cli.output import plain

# The commands import metrics, reports, warehouse, pipeline and polars inside their bodies: those load polars
# and SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).

UNMATCHED_COLUMNS = ("source", "tool", "vendor_user", "reason", "rows", "first_day", "last_day")
KEY_COLUMNS = ("tool", "api_key", "vendor_users", "requests", "tokens", "cost_usd")
ECONOMICS_COLUMNS = ("tool", "spend_usd", "spend_from", "merged_prs", "cost_per_merged_pr", "rollback_share",
                     "rollback_low", "rollback_high", "merge_rate", "status")


def by_key(usage: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Use and cost per API key over [start, end], whole org: KEY_COLUMNS (OpenAI's cost is each key's
    share of its projects' daily cost by tokens, metrics.openai_allocation), costliest first."""
    import polars as pl

    rows = usage.filter(pl.col("api_key").is_not_null() & pl.col("date").is_between(start, end))
    return rows.group_by("tool", "api_key").agg(
        vendor_users=pl.col("vendor_user").unique().sort().str.join(", "), requests=pl.col("requests").sum(),
        tokens=pl.col("tokens").sum(),
        cost_usd=pl.when(pl.col("cost_usd").is_not_null().any()).then(pl.col("cost_usd").sum()),
    ).sort(["cost_usd", "tool", "api_key"], descending=[True, False, False], nulls_last=True).select(KEY_COLUMNS)


def adoption_report(warehouse, config, start: dt.date, end: dt.date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(unmatched vendor users active in [start, end], per-tool economics over [start, end], use and cost
    per API key) — the same numbers as the Adoption page (reports.adoption_data, metrics.tool_economics)."""
    import polars as pl

    from metrics.scorecard import prepare
    from metrics.tool_economics import tool_economics
    from reports.adoption_data import load_adoption
    from reports.data import load_evidence

    data = load_adoption(warehouse)
    unmatched = data.unmatched.filter((pl.col("last_day") >= start) & (pl.col("first_day") <= end))
    prs = data.ai_tools if data.ai_tools is not None else pl.DataFrame(  # a schema without ai_tools: no PR names a tool
        schema={"id": pl.String, "merged_at": pl.Datetime("us", "UTC"), "closed_at": pl.Datetime("us", "UTC"),
                "ai_tools": pl.String})
    outcomes = prepare(load_evidence(warehouse), config).outcomes
    economics = tool_economics(data.spend, prs, outcomes, start=start, end=end + dt.timedelta(days=1),
                               min_sample=config.rules.min_sample, vendor_cost=data.usage)
    return unmatched.select(UNMATCHED_COLUMNS), economics.select(ECONOMICS_COLUMNS), by_key(data.usage, start, end)


def _money(value) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _share(value) -> str:
    return "—" if value is None else f"{value:.1%}"


@command()
def adoption(
    start: StartOpt = None,
    end: EndOpt = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """ADMIN TOOL: vendor users matched to no person, per-tool economics (spend, $ per merged PR,
    rollback share, merge rate) and use and cost per API key over --start..--end (default: the 26 weeks
    to today).

    The unmatched list names vendor users (e-mails, logins): per-person rows that the dashboard shows only
    to admins and analysts, never to viewers. The CLI has no sign-in, so run it only as someone who
    administers the scorecard, and do not paste its output where viewers read. Add the identities it lists
    to the people table (`scorecard import people FILE.csv`) to count their usage under their team."""
    if format not in ("table", "json"):
        raise Failure(f"--format must be table or json, not '{format}'")
    cfg = _config(config)
    first, last = range_from_dates("week", end.date() if end else None, start.date() if start else None)
    unmatched, economics, keys = adoption_report(_warehouse(cfg), cfg, first, last)
    if format == "json":
        def rows(frame: pl.DataFrame) -> list[dict]:
            return [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()}
                    for r in frame.iter_rows(named=True)]

        out.file.write(json.dumps({"start": first.isoformat(), "end": last.isoformat(), "unmatched": rows(unmatched),
                                   "tool_economics": rows(economics), "api_keys": rows(keys)}, indent=1) + "\n")
        return
    out.print(f"Adoption {first} to {last} (admin view: names vendor users)", highlight=False)
    if unmatched.height:
        table = Table(title="Vendor users matched to no person")
        for col in UNMATCHED_COLUMNS:
            table.add_column(col, justify="right" if col == "rows" else "left", no_wrap=col in ("tool", "vendor_user"))
        for r in unmatched.iter_rows(named=True):
            table.add_row(*(plain(r[c]) for c in UNMATCHED_COLUMNS))
        out.print(table)
    else:
        out.print("Every vendor user active in the range is matched to a person.", highlight=False)
    table = Table(title="Per-tool economics")
    for col in ("tool", "spend", "spend from", "merged PRs", "$ / merged PR", "rollback share", "95% CI", "merge rate"):
        table.add_column(col, justify="left" if col in ("tool", "spend from") else "right", no_wrap=col == "tool")
    for r in economics.iter_rows(named=True):
        ci = "—" if r["rollback_low"] is None else f"{r['rollback_low']:.1%}–{r['rollback_high']:.1%}"
        table.add_row(plain(r["tool"]), _money(r["spend_usd"]), plain(r["spend_from"]), f"{r['merged_prs']:,}",
                      _money(r["cost_per_merged_pr"]), _share(r["rollback_share"]), ci, _share(r["merge_rate"]))
    out.print(table)
    if keys.height:
        table = Table(title="By API key (OpenAI: each day's project cost shared out by tokens)")
        for col in KEY_COLUMNS:
            table.add_column(col, justify="right" if col in ("requests", "tokens", "cost_usd") else "left")
        for r in keys.iter_rows(named=True):
            table.add_row(plain(r["tool"]), plain(r["api_key"]), plain(r["vendor_users"]),
                          "—" if r["requests"] is None else f"{r['requests']:,}",
                          "—" if r["tokens"] is None else f"{r['tokens']:,}", _money(r["cost_usd"]))
        out.print(table)
