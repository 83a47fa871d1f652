"""Commands that read the scorecard: metrics, explain, alerts."""
from __future__ import annotations

import datetime as dt
import json
import math
import sys
from typing import Annotated, Optional

import polars as pl
import typer
from rich.table import Table

from app.cli.base import (
    ConfigOpt, EndOpt, Failure, GrainOpt, StartOpt, TeamOpt, _check_grain, _config, _warehouse, command,
    default_range, err, out,
)
from app.cli.output import plain
from app.views.format import fmt_delta, fmt_interval, fmt_value
from config import ConfigError
from metrics.registry import METRICS, OUTPUT_COLUMNS

@command()
def metrics(
    grain: GrainOpt = "week",
    start: StartOpt = None,
    end: EndOpt = None,
    team: TeamOpt = None,
    metric: Annotated[Optional[list[str]], typer.Option("--metric", help="Only this metric (repeatable).")] = None,
    format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The scorecard records: value, interval, baseline, delta and status per metric × period × team × segment."""
    from metrics.scorecard import compute, select_output

    _check_grain(grain)
    if format not in ("table", "json", "csv"):
        raise Failure(f"--format must be table, json or csv, not '{format}'")
    for m in metric or []:
        if m not in METRICS:
            raise Failure(f"unknown metric '{m}'; known: {', '.join(METRICS)}")
    cfg = _config(config)
    from app.data import load_cube

    cube = load_cube(_warehouse(cfg), cfg)
    if start is None and end is None:
        # The dashboard's default: the last 26 complete weeks (12 months) that have data.
        from app.views.filters import default_range as dashboard_range

        first, last = dashboard_range(cube.last_day(), dt.datetime.now(dt.timezone.utc).date(), grain)
    else:
        first, last = default_range(grain, end.date() if end else None, start.date() if start else None)
    records = select_output(compute(cube, cfg, grain=grain, start=first, end=last, team=team, metrics=metric))
    if format == "json":
        out.file.write(records_json(records) + "\n")
    elif format == "csv":
        from app.export import encode

        sys.stdout.buffer.write(encode(records, "csv"))
    else:
        _print_records(records, first, last)


def records_json(records: pl.DataFrame) -> str:
    """DESIGN.md's metric output as a JSON array of objects with exactly those keys."""
    rows = []
    for row in records.select(OUTPUT_COLUMNS).iter_rows(named=True):
        row["period"] = row["period"].isoformat()
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    return json.dumps(rows, indent=1)


_STATUS_STYLE = {"better": "green", "worse": "red", "at_baseline": "white", "info": "blue", "insufficient_data": "dim"}


def _print_records(records: pl.DataFrame, first: dt.date, last: dt.date) -> None:
    if records.height == 0:
        out.print(f"No records between {first} and {last}: nothing was counted. Import data (scorecard import) or seed the demo (scorecard demo).")
        return
    table = Table(title=f"Scorecard {first} to {last}", show_lines=False)
    for col in ("metric", "period", "team", "segment", "value", "95% CI", "n", "baseline", "delta", "status"):
        table.add_column(col, justify="right" if col in ("value", "n", "baseline", "delta") else "left")
    for r in records.iter_rows(named=True):
        unit = METRICS[r["metric"]].unit
        ci = fmt_interval(r["ci_low"], r["ci_high"], unit) or "—"
        style = _STATUS_STYLE.get(r["status"], "white")
        table.add_row(plain(r["metric"]), str(r["period"]), plain(r["team"] or "(org)"), plain(r["segment"]), fmt_value(r["value"], unit), ci,
                      str(r["n"]), fmt_value(r["baseline"], unit), fmt_delta(r["delta"], unit), f"[{style}]{r['status']}[/{style}]")
    out.print(table)


@command()
def explain(
    metric: Annotated[str, typer.Argument(help="The metric id, e.g. rollback_share.")],
    period: Annotated[Optional[dt.datetime], typer.Option("--period", formats=["%Y-%m-%d"], help="The period's first day (e.g. 2026-03-02).")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="List the baseline window's rows instead of a period's.")] = False,
    grain: GrainOpt = "week",
    team: TeamOpt = None,
    segment: Annotated[str, typer.Option("--segment", help="all, ai or non_ai; for rollback_share also tool:<name> or mode:<mode>.")] = "all",
    format: Annotated[str, typer.Option("--format", help="table or csv.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The rows behind one record, each with the reason it counted."""
    from app.data import load_evidence
    from metrics.explain import record_events
    from metrics.periods import baseline_window
    from metrics.scorecard import prepare

    _check_grain(grain)
    if metric not in METRICS:
        raise Failure(f"unknown metric '{metric}'; known: {', '.join(METRICS)}")
    if not METRICS[metric].has_segment(segment):
        families = "".join(f", {f}:<…>" for f in METRICS[metric].segment_families)
        raise Failure(f"{metric} has segments {', '.join(METRICS[metric].segments)}{families}, not '{segment}'")
    if period is None:
        raise Failure("give --period (the period's first day); with --baseline, the first reported period")
    cfg = _config(config)
    prepared = prepare(load_evidence(_warehouse(cfg)), cfg)
    day = period.date()
    if baseline:
        window = baseline_window(metric, cfg.baseline, day)
        rows = record_events(prepared, metric, grain=grain, window=window, team=team, segment=segment)
        title = f"{metric} baseline {window.label}"
    else:
        rows = record_events(prepared, metric, grain=grain, period=day, team=team, segment=segment)
        title = f"{metric} {grain} of {day}"
    if format == "csv":
        from app.export import encode

        sys.stdout.buffer.write(encode(rows, "csv"))
        return
    table = Table(title=plain(f"{title}, team {team or '(org)'}, segment {segment}: {rows.height} rows"))
    for col in ("id", "at", "team", "segment", "counted", "reason"):
        table.add_column(col)
    for r in rows.head(200).iter_rows(named=True):
        table.add_row(plain(r["id"]), str(r["at"])[:16], plain(r["team"]), plain(r["segment"]), plain(r["counted"]),
                      plain(r["reason"]))
    out.print(table)
    if rows.height > 200:
        out.print(f"(first 200 of {rows.height}; --format csv lists all)")


@command()
def alerts(
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    as_of: Annotated[Optional[dt.datetime], typer.Option("--as-of", formats=["%Y-%m-%d"], help="Judge as of this day (default: the last day with spend data).")] = None,
    webhook: Annotated[bool, typer.Option("--webhook/--no-webhook", help="POST new alerts to the webhook in [spend.alerts] webhook_url_env.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Open alerts (AI spend: anomalous days, budgets pacing over; workflow stop conditions; stale sources);
    exits 1 when there are any (for cron and CI)."""
    from app.alerts import WebhookError, alerts_json, load_spend, post_new_alerts, spend_alerts
    from connectors.common.secrets import MissingSecret

    if format not in ("table", "json"):
        raise Failure(f"--format must be table or json, not '{format}'")
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    try:
        result = spend_alerts(load_spend(warehouse), cfg, as_of=as_of.date() if as_of else None)
    except ConfigError as exc:
        raise Failure(str(exc)) from None
    from app.cli.governance import with_stop_conditions

    result = with_stop_conditions(warehouse, cfg, result)  # workflows past a stop condition alert too
    from scheduling.freshness import with_stale_sources

    result = with_stale_sources(warehouse, cfg, result, dt.datetime.now(dt.timezone.utc))  # and stale sources
    if format == "json":
        out.file.write(alerts_json(result) + "\n")
    elif result.as_of is None and result.alerts.height == 0:
        out.print("No AI spend in the warehouse: nothing to judge. Import or sync spend first (see README, Track AI spend).")
    else:
        today = dt.datetime.now(dt.timezone.utc).date()
        if as_of is None and (today - result.as_of).days > 3:
            err.print(f"[yellow]warning:[/yellow] the spend data ends on {result.as_of}; run `scorecard sync` for newer days", highlight=False)
        if result.alerts.height == 0:
            out.print(f"No open AI spend alerts as of {result.as_of}.", highlight=False)
        else:
            table = Table(title=f"Open alerts (AI spend, workflow stop conditions) as of {result.as_of}")
            table.add_column("id", overflow="fold")
            for col in ("team", "owner", "alert"):
                table.add_column(col)
            for r in result.alerts.iter_rows(named=True):
                table.add_row(plain(r["id"]), plain(r["team"]), plain(r["owner"]), plain(r["message"]))
            out.print(table)
    if webhook:
        try:
            sent = post_new_alerts(warehouse, cfg, result)
        except (WebhookError, MissingSecret) as exc:
            raise Failure(str(exc)) from None
        if sent:
            err.print(f"{sent} new alert(s) posted to the webhook", highlight=False)
    if result.alerts.height:
        raise typer.Exit(1)
