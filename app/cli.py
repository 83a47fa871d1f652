"""`scorecard`: import, metrics, explain, export, demo and status from the terminal."""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import sys
from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn
from rich.table import Table

from config import Config, ConfigError, load_config
from metrics.registry import GRAINS, METRICS, OUTPUT_COLUMNS

app = typer.Typer(
    help="AI impact scorecard: is AI making us better, and what does it cost?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", help="Config file (default: $SCORECARD_CONFIG, else ./scorecard.toml)."),
]
GrainOpt = Annotated[str, typer.Option("--grain", help="Period grain: week or month.")]
StartOpt = Annotated[Optional[dt.datetime], typer.Option("--start", formats=["%Y-%m-%d"], help="First day of the report (default: 26 weeks / 12 months before --end).")]
EndOpt = Annotated[Optional[dt.datetime], typer.Option("--end", formats=["%Y-%m-%d"], help="Last day of the report (default: today, UTC).")]
TeamOpt = Annotated[Optional[str], typer.Option("--team", help="One team only (default: every team and the whole org).")]


class Failure(Exception):
    """A problem the user can fix: one line on stderr and exit code 1 (see `command`)."""


def command(*args, **kwargs):
    """`app.command` that turns a `Failure` into its message and exit code 1 (use it for every command)."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            try:
                return fn(*a, **kw)
            except Failure as exc:
                err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
                raise typer.Exit(1) from None
        return app.command(*args, **kwargs)(wrapper)
    return decorate


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise Failure(str(exc)) from None


def _warehouse(config: Config):
    from app.data import warehouse_for
    from warehouse import WarehouseError

    try:
        warehouse = warehouse_for(config)
    except WarehouseError as exc:
        raise Failure(str(exc)) from None
    from governance.changes import record_config_version

    record_config_version(warehouse, config)  # the change history: a new config or metric version is recorded once
    return warehouse


def default_range(grain: str, end: dt.date | None, start: dt.date | None) -> tuple[dt.date, dt.date]:
    """The report range when not given: up to today (UTC), 26 weeks or 12 months back."""
    end = end or dt.datetime.now(dt.timezone.utc).date()
    if start is None:
        if grain == "week":
            start = end - dt.timedelta(weeks=26)
        else:
            month = end.month - 11
            start = dt.date(end.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    if start > end:
        raise Failure(f"--start {start} is after --end {end}")
    return start, end


def _check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise Failure(f"--grain must be one of {', '.join(GRAINS)}, not '{grain}'")


class TerminalProgress:
    """The CLI's progress bar (see connectors.common.progress)."""

    def __init__(self) -> None:
        self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                 TimeElapsedColumn(), console=err, transient=True)
        self._task = None

    def __enter__(self):
        self._bar.start()
        self._task = self._bar.add_task("", total=None)
        return self

    def __exit__(self, *exc):
        self._bar.stop()

    def update(self, done: int, total: int | None, message: str) -> None:
        self._bar.update(self._task, completed=done, total=total, description=message)


@command("import")
def import_(
    entity: Annotated[str, typer.Argument(help="pull_requests, deployments, deployment_prs, incidents, tickets, ai_spend or ai_usage.")],
    file: Annotated[Path, typer.Argument(help="The CSV file (UTF-8, header line first).")],
    format: Annotated[str, typer.Option("--format", help="csv (our columns) or focus (a FinOps FOCUS 1.x billing export, CSV or Parquet; ai_spend only).")] = "csv",
    config: ConfigOpt = None,
) -> None:
    """Import a CSV file into the warehouse: all rows or, if any row is bad, none."""
    from connectors.csv import CsvImportError, read_csv
    from warehouse.ingest import ingest

    cfg = _config(config)
    if format == "focus":
        return _import_focus(entity, file, cfg)
    if format != "csv":
        raise Failure(f"--format must be csv or focus, not '{format}'")
    try:
        parsed = read_csv(file, entity, cfg)
    except CsvImportError as exc:
        raise Failure(str(exc)) from None
    for warning in parsed.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    warehouse = _warehouse(cfg)
    counts = ingest(warehouse, f"csv:{entity}", parsed.frames, detail={"file": str(file), "entity": entity, "rows": parsed.rows})
    for table, c in counts.items():
        out.print(f"{table}: {parsed.rows} rows read — {c.inserted} new, {c.updated} updated, {c.unchanged} unchanged", highlight=False)
    _refresh_cube(warehouse, cfg)


def _import_focus(entity: str, file: Path, cfg: Config) -> None:
    """A FOCUS export, streamed in batches into one transaction (see connectors.spend.focus)."""
    from connectors.spend.focus import FocusImportError, FocusSummary, read_focus
    from warehouse.ingest import ingest_batches

    if entity != "ai_spend":
        raise Failure(f"--format focus imports ai_spend (FOCUS is a billing format), not '{entity}'")
    warehouse = _warehouse(cfg)
    summary = FocusSummary(str(file))
    try:
        with TerminalProgress() as progress:
            counts = ingest_batches(warehouse, "focus", read_focus(file, cfg, summary, progress=progress),
                                    detail=summary.as_detail)
    except FocusImportError as exc:
        raise Failure(str(exc)) from None
    c = counts.get("ai_spend")
    skipped = ", ".join(f"{n:,} {why}" for why, n in summary.skipped.most_common()) or "none"
    out.print(f"ai_spend: {summary.rows:,} FOCUS rows read, {summary.imported:,} AI rows kept (skipped: {skipped}) — "
              f"{summary.spend_rows:,} spend rows: {c.inserted if c else 0:,} new, {c.updated if c else 0:,} updated, "
              f"{c.unchanged if c else 0:,} unchanged", highlight=False)
    for currency, n in summary.converted.items():
        out.print(f"  {n:,} rows in {currency} converted at {cfg.spend.usd_rates.get(currency, '?')} USD each", highlight=False)
    _refresh_cube(warehouse, cfg)


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
    first, last = default_range(grain, end.date() if end else None, start.date() if start else None)
    cfg = _config(config)
    from app.data import load_cube

    cube = load_cube(_warehouse(cfg), cfg)
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


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "usd":
        return f"${value:,.2f}"
    return f"{value:,.2f}"


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
        ci = f"{_fmt(r['ci_low'], unit)}–{_fmt(r['ci_high'], unit)}" if r["ci_low"] is not None else "—"
        style = _STATUS_STYLE.get(r["status"], "white")
        table.add_row(r["metric"], str(r["period"]), r["team"] or "(org)", r["segment"], _fmt(r["value"], unit), ci,
                      str(r["n"]), _fmt(r["baseline"], unit), _fmt(r["delta"], unit), f"[{style}]{r['status']}[/{style}]")
    out.print(table)


@command()
def explain(
    metric: Annotated[str, typer.Argument(help="The metric id, e.g. rollback_share.")],
    period: Annotated[Optional[dt.datetime], typer.Option("--period", formats=["%Y-%m-%d"], help="The period's first day (e.g. 2026-03-02).")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="List the baseline window's rows instead of a period's.")] = False,
    grain: GrainOpt = "week",
    team: TeamOpt = None,
    segment: Annotated[str, typer.Option("--segment", help="all, ai or non_ai.")] = "all",
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
    if segment not in METRICS[metric].segments:
        raise Failure(f"{metric} has segments {', '.join(METRICS[metric].segments)}, not '{segment}'")
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
    table = Table(title=f"{title}, team {team or '(org)'}, segment {segment}: {rows.height} rows")
    for col in ("id", "at", "team", "segment", "counted", "reason"):
        table.add_column(col)
    for r in rows.head(200).iter_rows(named=True):
        table.add_row(r["id"], str(r["at"])[:16], r["team"], r["segment"] or "", r["counted"], r["reason"])
    out.print(table)
    if rows.height > 200:
        out.print(f"(first 200 of {rows.height}; --format csv lists all)")


@command()
def export(
    name: Annotated[str, typer.Argument(help="A table (pull_requests, ...), a metric id, or 'scorecard' for every metric.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the file.")],
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    grain: GrainOpt = "week",
    start: StartOpt = None,
    end: EndOpt = None,
    team: TeamOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Export a table or metric with the dashboard's filters (CSV is formula-safe; the export is audit-logged)."""
    from app.export import FORMATS, ExportFilters, encode, export_frame, export_names, record_export
    from warehouse.runs import default_actor

    if format not in FORMATS:
        raise Failure(f"--format must be csv or parquet, not '{format}'")
    if name not in export_names():
        raise Failure(f"unknown export '{name}'; choose one of: {', '.join(export_names())}")
    _check_grain(grain)
    is_metric = name == "scorecard" or name in METRICS
    first, last = default_range(grain, end.date() if end else None, start.date() if start else None) if is_metric else (
        start.date() if start else None, end.date() if end else None)
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    filters = ExportFilters(grain=grain, start=first, end=last, team=team)
    frame = export_frame(warehouse, cfg, name, filters)
    data = encode(frame, format)
    tmp = out_file.with_name(out_file.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(out_file)  # never a half-written file at the destination
    record_export(warehouse, name, format, filters, frame.height, default_actor(), str(out_file))
    out.print(f"{name}: {frame.height} rows written to {out_file}", highlight=False)


@command()
def demo(
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed and end date give the same data.")] = 7,
    scale: Annotated[str, typer.Option("--scale", help="small (a 6-team org, 18 months) or large (50 teams, 3 years, ~9M rows).")] = "small",
    end: Annotated[Optional[dt.datetime], typer.Option("--end", formats=["%Y-%m-%d"], help="Last day of the demo data (default: today, UTC).")] = None,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only seed when the warehouse holds no evidence yet.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Seed the warehouse with a synthetic organisation (marked as demo data)."""
    import time

    from connectors.demo.generator import SCALES, generate
    from warehouse.ingest import ingest
    from warehouse.schema import DATA_TABLES

    if scale not in SCALES:
        raise Failure(f"--scale must be one of {', '.join(SCALES)}, not '{scale}'")
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    holdings = _row_counts(warehouse, DATA_TABLES)
    if sum(holdings.values()):
        if if_empty:
            out.print(f"The warehouse at {warehouse.display_url} already holds data: demo not seeded.", highlight=False)
            return
        real = _non_demo_rows(warehouse)
        if real:
            raise Failure(
                f"the warehouse at {warehouse.display_url} holds {real} rows that are not demo data; "
                "seed the demo into its own warehouse (SCORECARD_WAREHOUSE_URL=sqlite:///data/demo.db scorecard demo)"
            )
    day = end.date() if end else dt.datetime.now(dt.timezone.utc).date()
    started = time.perf_counter()
    with TerminalProgress() as progress:
        progress.update(0, None, f"generating the {scale} demo organisation")
        frames = generate(scale, seed=seed, end=day, ai_detection=cfg.ai_detection)
        total = sum(f.height for f in frames.values())
        progress.update(0, total, f"writing {total:,} rows")
        counts = ingest(warehouse, "demo", frames, action="demo", detail={"scale": scale, "seed": seed, "end": day})
        progress.update(total, total, "building the scorecard cache")
        _refresh_cube(warehouse, cfg)
    elapsed = time.perf_counter() - started
    for table, c in counts.items():
        out.print(f"{table}: {frames[table].height:,} rows ({c.inserted:,} new, {c.updated:,} updated, {c.unchanged:,} unchanged)")
    out.print(f"Demo organisation ({scale}, seed {seed}, ending {day}) written to {warehouse.display_url} in {elapsed:.1f} s.", highlight=False)


def _refresh_cube(warehouse, config: Config) -> None:
    """Rebuild the scorecard cache after a write, so the dashboard's next load is fast."""
    from app.data import refresh_cube

    refresh_cube(warehouse, config)


def _row_counts(warehouse, tables) -> dict[str, int]:
    import sqlalchemy as sa

    with warehouse.engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for name, t in tables.items()}


def _non_demo_rows(warehouse) -> int:
    import sqlalchemy as sa

    from warehouse.schema import DATA_TABLES

    total = 0
    with warehouse.engine.connect() as conn:
        for table in DATA_TABLES.values():
            total += conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.source != "demo")).scalar_one()
    return total


@command()
def sync(
    source: Annotated[Optional[str], typer.Option("--source", help="Only this source (default: every configured one).")] = None,
    full: Annotated[bool, typer.Option("--full", help="Ignore the cursors and fetch everything again (still idempotent).")] = False,
    config: ConfigOpt = None,
) -> None:
    """Pull new evidence from every configured source into the warehouse (incremental)."""
    from connectors.sources import run_sources, sources

    cfg = _config(config)
    available = sources()
    configured = [s for s in available.values() if s.is_configured(cfg)]
    if source is None and not configured:
        hints = "; ".join(f"{s.name}: {s.config_hint}" for s in available.values()) or "no connectors installed"
        raise Failure(f"no sources configured in {cfg.source_path or 'scorecard.toml'} ({hints}). "
                      "CSV files can be imported with `scorecard import`.")
    warehouse = _warehouse(cfg)
    try:
        with TerminalProgress() as progress:
            reports = run_sources(warehouse, cfg, only=source, full=full, progress=progress)
    except KeyError as exc:
        raise Failure(str(exc.args[0])) from None
    if any(r.rows for r in reports):
        _refresh_cube(warehouse, cfg)
    failed = False
    for r in reports:
        colour = {"success": "green", "partial": "yellow"}.get(r.status, "red")
        tables = ", ".join(f"{t} {c.inserted} new/{c.updated} updated" for t, c in r.tables.items()) or "nothing new"
        calls = f", {r.stats['calls']} API calls" if "calls" in r.stats else ""
        out.print(f"[{colour}]{r.source}: {r.status}[/{colour}] — {tables}{calls}", highlight=False)
        for w in r.warnings:
            out.print(f"  [yellow]warning:[/yellow] {w}", highlight=False)
        if r.rejected:
            out.print(f"  {len(r.rejected)} records could not be read, e.g. {r.rejected[0].record_id}: {r.rejected[0].reason}", highlight=False)
        if r.error:
            out.print(f"  [red]error:[/red] {r.error}", highlight=False)
        failed |= r.status == "failed"
    if failed:
        raise typer.Exit(1)


@command()
def status(config: ConfigOpt = None) -> None:
    """What the warehouse holds and when each source last synced."""
    from warehouse.runs import last_runs
    from warehouse.schema import DATA_TABLES

    cfg = _config(config)
    warehouse = _warehouse(cfg)
    out.print(f"Warehouse: {warehouse.display_url}", highlight=False)
    counts = Table(title="Rows")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for name, count in _row_counts(warehouse, DATA_TABLES).items():
        counts.add_row(name, f"{count:,}")
    out.print(counts)
    runs = last_runs(warehouse)
    if not runs:
        out.print("No syncs or imports yet. Seed the demo (scorecard demo) or import a CSV (scorecard import).")
        return
    table = Table(title="Sources")
    for col in ("source", "last run", "status", "rows", "last success", "error"):
        table.add_column(col)
    for r in runs:
        last = r["last_run"]
        table.add_row(r["source"], str(last["started_at"])[:19], last["status"], str(last["rows"]),
                      str(r["last_success"])[:19] if r["last_success"] else "never", (last["error"] or "")[:80])
    out.print(table)


@command()
def alerts(
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    as_of: Annotated[Optional[dt.datetime], typer.Option("--as-of", formats=["%Y-%m-%d"], help="Judge as of this day (default: the last day with spend data).")] = None,
    webhook: Annotated[bool, typer.Option("--webhook/--no-webhook", help="POST new alerts to the webhook in [spend.alerts] webhook_url_env.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Open AI spend alerts (anomalous days, budgets pacing over); exits 1 when there are any (for cron and CI)."""
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
    from app.cli_governance import with_stop_conditions

    result = with_stop_conditions(warehouse, cfg, result)  # workflows past a stop condition alert too
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
                table.add_row(r["id"], r["team"], r["owner"] or "", r["message"])
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


# Governance commands (inventory, audit log) live beside this module; importing registers them.
from app import cli_governance as _governance_commands  # noqa: E402,F401

if __name__ == "__main__":
    main()
