"""`scorecard governance` (what AI runs, who owns it, which workflows are past a stop condition) and
`scorecard audit` (the audit log and the change history), registered on the Typer app of app.cli.base."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from app.cli.base import ConfigOpt, Failure, _config, _warehouse, command, out
from app.cli.output import OutputPathError, check_out_path, plain, write_out

# The commands import metrics, reports, warehouse, pipeline and polars inside their bodies: those load polars
# and SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).

TodayOpt = Annotated[Optional[dt.datetime], typer.Option(
    "--today", formats=["%Y-%m-%d"], help="Judge stop conditions as of this day (default: today, UTC).")]


def _today(today: dt.datetime | None) -> dt.date:
    return today.date() if today else dt.datetime.now(dt.timezone.utc).date()


def with_stop_conditions(warehouse, config, result, *, today: dt.date | None = None):
    """Spend alerts (reports.alerts.SpendAlerts) plus a `stop_condition` alert per workflow past one."""
    import polars as pl

    from reports.alerts import SpendAlerts
    from reports.data import load_cube
    from reports.governance_data import has_policies, load_spend_rows, policy_alerts, policy_status

    if not has_policies(config):
        return result
    when = today or (result.as_of + dt.timedelta(days=1) if result.as_of else _today(None))
    status = policy_status(load_cube(warehouse, config), config, load_spend_rows(warehouse), today=when)
    stops = policy_alerts(status, config)
    if stops.height == 0:
        return result
    as_of = result.as_of or stops.get_column("date").max()
    return SpendAlerts(as_of, pl.concat([result.alerts, stops], how="vertical_relaxed"), result.budgets)


def _json_rows(frame: pl.DataFrame) -> list[dict]:
    rows = []
    for row in frame.iter_rows(named=True):
        rows.append({k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in row.items()})
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return plain(", ".join(str(v) for v in value))
    if isinstance(value, float):
        return f"{value:,.2f}"
    return plain(value)


def _print_table(title: str, frame: pl.DataFrame, columns: list[str]) -> None:
    table = Table(title=plain(title))
    for col in columns:
        table.add_column(plain(col), overflow="fold")
    for row in frame.select(columns).iter_rows():
        table.add_row(*[_cell(v) for v in row])
    out.print(table)


@command()
def governance(
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    today: TodayOpt = None,
    config: ConfigOpt = None,
) -> None:
    """What AI runs (the inventory and what the data shows), what nobody owns, and which workflows are past a stop condition."""
    import polars as pl

    from governance.inventory import found_in_data, inventory, unapproved_models, unowned
    from reports.data import load_cube
    from reports.governance_data import load_identities, load_spend_rows, policy_status

    if format not in ("table", "json"):
        raise Failure(f"--format must be table or json, not '{format}'")
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    spend = load_spend_rows(warehouse)
    identities = load_identities(warehouse, cfg, spend)
    found = found_in_data(identities.partials, cfg.governance)
    items = inventory(cfg.governance, identities.prs, found, spend)
    ghosts = unowned(found)
    models = unapproved_models(spend, cfg.governance)
    policies = policy_status(load_cube(warehouse, cfg), cfg, spend, today=_today(today)).verdicts
    if format == "json":
        out.file.write(json.dumps({"inventory": _json_rows(items), "unowned": _json_rows(ghosts),
                                   "unapproved_models": _json_rows(models), "policies": _json_rows(policies)},
                                  indent=1) + "\n")
        return
    if items.height == 0:
        out.print(plain("No AI tools or workflows are declared: add [governance.tools.<id>] / [governance.workflows.<id>] "
                        "to scorecard.toml (see scorecard.toml.example). Everything found below is unowned."))
    else:
        _print_table("AI inventory", items, ["kind", "id", "risk_tier", "business_owner", "technical_owner",
                                             "security_owner", "prs", "spend_usd", "last_seen", "gaps"])
    if ghosts.height:
        _print_table(f"Unowned: {ghosts.height} AI identities in the data nobody declared", ghosts,
                     ["kind", "name", "rows", "cost_usd", "first_seen", "last_seen", "examples"])
    else:
        out.print("Unowned: none — every AI identity in the data is declared.")
    if models.height:
        _print_table("Spend on models their owner did not approve", models,
                     ["tool", "model", "owned_by", "rows", "cost_usd", "last_seen"])
    if policies.height:
        _print_table("Stop conditions", policies.with_columns(team=pl.col("team").fill_null("(org)")),
                     ["workflow", "condition", "team", "verdict", "period", "value", "baseline"])
        for flow, index, rule in policies.select("workflow", "condition", "rule").unique(maintain_order=True).iter_rows():
            out.print(plain(f"  {flow} condition {index}: {rule}"), highlight=False)
    else:
        out.print(plain("Stop conditions: none declared ([[governance.workflows.<id>.stop]])."))


@command()
def audit(
    action: Annotated[Optional[list[str]], typer.Option("--action", help="Only this action (repeatable): sync, import, export, config change, sign-in, view, ...")] = None,
    since: Annotated[Optional[dt.datetime], typer.Option("--since", formats=["%Y-%m-%d"], help="From this day (UTC).")] = None,
    history: Annotated[bool, typer.Option("--history", help="The change history: each config / metric-definition version.")] = False,
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write to this file (csv or json) instead of stdout.")] = None,
    config: ConfigOpt = None,
) -> None:
    """The audit log (who synced, imported, exported, signed in or changed the config, and when); exporting it is audited too."""
    import polars as pl

    from governance.changes import config_versions
    from reports.export import encode
    from warehouse import read_table
    from warehouse.runs import audit as write_audit

    if format not in ("table", "csv", "json"):
        raise Failure(f"--format must be table, csv or json, not '{format}'")
    if out_file is not None and format == "table":
        raise Failure("--out needs --format csv or json")
    if out_file is not None:
        try:
            check_out_path(out_file)
        except OutputPathError as exc:
            raise Failure(str(exc)) from None
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    rows = read_table(warehouse, "audit_log").sort("id", descending=True)
    if since:
        rows = rows.filter(pl.col("ts") >= dt.datetime.combine(since.date(), dt.time(), dt.timezone.utc))
    if action:
        rows = rows.filter(pl.col("action").is_in(action))
    frame = config_versions(rows) if history else rows
    shown = frame if history or format != "table" else frame.with_columns(
        detail=pl.col("detail").str.slice(0, 160))  # a config change holds the whole config: --format json shows it
    name = "config_history" if history else "audit_log"
    if format == "table":
        _print_table(f"{name.replace('_', ' ').capitalize()}: {frame.height} rows, latest first", shown.head(200),
                     list(shown.columns))
        if frame.height > 200:
            out.print(f"(first 200 of {frame.height}; --format csv lists all)")
        return
    data = encode(frame, "csv") if format == "csv" else (json.dumps(_json_rows(frame), indent=1) + "\n").encode()
    if out_file is None:
        sys.stdout.buffer.write(data)
    else:
        try:
            write_out(out_file, data)
        except OutputPathError as exc:
            raise Failure(str(exc)) from None
        out.print(f"{name}: {frame.height} rows written to {plain(out_file)}", highlight=False)
    write_audit(warehouse, "export", {"name": name, "format": format, "rows": frame.height,
                                      "destination": str(out_file) if out_file else "stdout",
                                      "filters": {"action": action, "since": since.date() if since else None}})
