"""Commands that put data in and take it out: import, export, demo, sync, status."""
from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from app.cli.base import (
    ConfigOpt, EndOpt, Failure, GrainOpt, StartOpt, TeamOpt, TerminalProgress, _check_grain, _config,
    _refresh_cube, _warehouse, allow_quick_exit, command, err, out, range_from_dates,
)
from app.cli.output import OutputPathError, check_out_path, plain, write_out
from config import Config
from config.schedule import fmt_duration, parse_duration
from scheduling.plan import stale_message

# The commands import metrics, reports, warehouse, pipeline and polars inside their bodies: those load polars
# and SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).

# `scorecard sync` exit codes (README: Scheduling syncs): a cron job can tell the three outcomes apart.
EXIT_COMPLETE, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 3


@command("import")
def import_(
    entity: Annotated[str, typer.Argument(help="pull_requests, deployments, deployment_prs, incidents, tickets, ai_spend or ai_usage.")],
    file: Annotated[Path, typer.Argument(help="The CSV file (UTF-8, header line first).")],
    format: Annotated[str, typer.Option("--format", help="csv (our columns) or focus (a FinOps FOCUS 1.x billing export, CSV or Parquet; ai_spend only).")] = "csv",
    config: ConfigOpt = None,
) -> None:
    """Import a CSV file into the warehouse: all rows or, if any row is bad, none."""
    from connectors.csv import CsvImportError, csv_source
    from pipeline import run_source

    cfg = _config(config)
    if format == "focus":
        return _import_focus(entity, file, cfg)
    if format != "csv":
        raise Failure(f"--format must be csv or focus, not '{format}'")
    try:
        source = csv_source(entity)
        from warehouse import open_postgres_ahead

        open_postgres_ahead(cfg.warehouse.url)  # PostgreSQL: the write's connection is opened meanwhile
        warehouse = _warehouse(cfg)
        # PostgreSQL: a large PR file is parsed a slice at a time beside the COPY of the slices before (the
        # parse holds the writer's lock, not a reader's). SQLite's writer binds rows in-process, nothing to
        # overlap, and its write lock would be held through the parse: the file is parsed whole first.
        report = run_source(warehouse, cfg, source, path=file, in_key_order=warehouse.dialect == "postgresql")
    except CsvImportError as exc:
        raise Failure(str(exc)) from None
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/yellow] {plain(warning)}", highlight=False)
    rows = report.detail["rows"]
    for table, c in report.tables.items():
        out.print(f"{table}: {rows} rows read — {c.inserted} new, {c.updated} updated, {c.unchanged} unchanged", highlight=False)
    _refresh_cube(warehouse, cfg)
    _done_with(warehouse)


def _done_with(warehouse) -> None:
    """Close what the import opened, so the process may end without the interpreter's teardown: after a
    1M-PR import, collecting and freeing every module's objects took ~0.3 CPU-s once the rows were
    committed (app.cli.base.allow_quick_exit). Not while another thread that the process would wait for
    is still running."""
    warehouse.engine.dispose()  # SQLite's pool keeps none; PostgreSQL's pooled connections closed here
    if all(t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        allow_quick_exit()


def _import_focus(entity: str, file: Path, cfg: Config) -> None:
    """A FOCUS export, streamed in batches into one transaction (see connectors.spend.focus)."""
    from connectors.spend.focus import SOURCE_SPEC, FocusImportError
    from pipeline import run_source

    if entity != "ai_spend":
        raise Failure(f"--format focus imports ai_spend (FOCUS is a billing format), not '{entity}'")
    warehouse = _warehouse(cfg)
    try:
        with TerminalProgress() as progress:
            report = run_source(warehouse, cfg, SOURCE_SPEC, path=file, progress=progress)
    except FocusImportError as exc:
        raise Failure(str(exc)) from None
    c = report.tables.get("ai_spend")
    read = report.detail
    skipped = ", ".join(f"{n:,} {why}" for why, n in sorted(read["skipped"].items(), key=lambda s: -s[1])) or "none"
    out.print(f"ai_spend: {read['rows']:,} FOCUS rows read, {read['imported']:,} AI rows kept (skipped: {plain(skipped)}) — "
              f"{read['spend_rows']:,} spend rows: {c.inserted if c else 0:,} new, {c.updated if c else 0:,} updated, "
              f"{c.unchanged if c else 0:,} unchanged", highlight=False)
    for currency, n in read["converted"].items():
        out.print(f"  {n:,} rows in {plain(currency)} converted at {cfg.spend.usd_rates.get(currency, '?')} USD each", highlight=False)
    _refresh_cube(warehouse, cfg)


@command(computes=lambda arguments: arguments.get("name") == "scorecard")  # every metric's records
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
    from metrics.registry import METRICS
    from reports.export import FORMATS, ExportFilters, encode, export_frame, export_names, record_export
    from warehouse.runs import default_actor

    try:
        check_out_path(out_file)  # before the work: a bad path is found in a moment, not after the export
    except OutputPathError as exc:
        raise Failure(str(exc)) from None

    if format not in FORMATS:
        raise Failure(f"--format must be csv or parquet, not '{format}'")
    if name not in export_names():
        raise Failure(f"unknown export '{name}'; choose one of: {', '.join(export_names())}")
    _check_grain(grain)
    is_metric = name == "scorecard" or name in METRICS
    first, last = range_from_dates("month" if grain == "month" else "week", end.date() if end else None,
                                   start.date() if start else None) if is_metric else (
        start.date() if start else None, end.date() if end else None)
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    filters = ExportFilters(grain=grain, start=first, end=last, team=team)
    frame = export_frame(warehouse, cfg, name, filters)
    data = encode(frame, format)
    try:
        write_out(out_file, data)  # atomically: never a half-written file at the destination
    except OutputPathError as exc:
        raise Failure(str(exc)) from None
    record_export(warehouse, name, format, filters, frame.height, default_actor(), str(out_file))
    out.print(f"{name}: {frame.height} rows written to {plain(out_file)}", highlight=False)


@command()
def demo(
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed and end date give the same data.")] = 7,
    scale: Annotated[str, typer.Option("--scale", help="small (a 6-team org, 18 months) or large (50 teams, 3 years, ~9M rows).")] = "small",
    end: Annotated[Optional[dt.datetime], typer.Option("--end", formats=["%Y-%m-%d"], help="Last day of the demo data (default: today, UTC).")] = None,
    prs: Annotated[Optional[int], typer.Option("--prs", min=1, help="Resize the scale to this many pull requests (deployments, incidents and tickets in proportion; teams, repos and weeks kept), e.g. --scale large --prs 3000000.")] = None,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only seed when the warehouse holds no evidence yet.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Seed the warehouse with a synthetic organisation (marked as demo data)."""
    from connectors.demo.generator import SCALES, generate
    from pipeline import ingest
    from warehouse.schema import DATA_TABLES

    if scale not in SCALES:
        raise Failure(f"--scale must be one of {', '.join(SCALES)}, not '{scale}'")
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    holdings = _row_counts(warehouse, DATA_TABLES)
    if sum(holdings.values()):
        if if_empty:
            out.print(f"The warehouse at {plain(warehouse.display_url)} already holds data: demo not seeded.", highlight=False)
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
        frames = generate(scale, seed=seed, end=day, ai_detection=cfg.ai_detection, prs=prs)
        total = sum(f.height for f in frames.values())
        progress.update(0, total, f"writing {total:,} rows")
        counts = ingest(warehouse, "demo", frames, action="demo", detail={"scale": scale, "seed": seed, "end": day, **({"prs": prs} if prs else {})})
        progress.update(total, total, "building the scorecard cache")
        _refresh_cube(warehouse, cfg)
    elapsed = time.perf_counter() - started
    for table, c in counts.items():
        out.print(f"{table}: {frames[table].height:,} rows ({c.inserted:,} new, {c.updated:,} updated, {c.unchanged:,} unchanged)")
    out.print(f"Demo organisation ({scale}, seed {seed}, ending {day}) written to {plain(warehouse.display_url)} in {elapsed:.1f} s.", highlight=False)


def _row_counts(warehouse, tables) -> dict[str, int]:
    import sqlalchemy as sa

    with warehouse.engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for name, t in tables.items()}


# Below this many rows by PostgreSQL's estimate, `status` counts exactly: it costs nothing.
EXACT_BELOW = 100_000


def _row_counts_or_estimates(warehouse, tables) -> dict[str, tuple[int, bool]]:
    """Each table's rows and whether the figure is exact. SQLite: counted (its smallest index scanned: 0.2 s
    for 10.8M rows in the page cache). PostgreSQL: a large table's estimate from `pg_class.reltuples`
    (kept by ANALYZE and autovacuum; counting 4.2M rows took 1.3 s of the server's time at 1M PRs), exact
    below EXACT_BELOW rows or when the table was never analysed."""
    if warehouse.dialect != "postgresql":
        return {name: (count, True) for name, count in _row_counts(warehouse, tables).items()}
    import sqlalchemy as sa

    with warehouse.engine.connect() as conn:
        estimates = dict(conn.execute(sa.text(
            "SELECT c.relname, c.reltuples FROM pg_class c WHERE c.oid = ANY(CAST(:names AS regclass[]))"),
            {"names": list(tables)}).all())
    large = {name for name, estimate in estimates.items() if estimate >= EXACT_BELOW}
    exact = _row_counts(warehouse, {name: t for name, t in tables.items() if name not in large})
    return {name: ((exact[name], True) if name in exact else (round(estimates[name]), False)) for name in tables}


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
    all_: Annotated[bool, typer.Option("--all", help="Every configured source, once (for cron; the same as no --source).")] = False,
    full: Annotated[bool, typer.Option("--full", help="Ignore the cursors and fetch everything again (still idempotent).")] = False,
    wait: Annotated[str, typer.Option("--wait", help="How long to wait for a source another process is syncing (e.g. 0, 30s, 10m); then it is skipped.")] = "10m",
    config: ConfigOpt = None,
) -> None:
    """Pull new evidence from every configured source into the warehouse (incremental).

    Exit code: 1 when a source failed; with --all, 0 every source complete, 1 a source failed, 3 partial
    (records rejected, a source skipped because another process was syncing it, or stopped by a signal)."""
    from connectors.sources import sources
    from pipeline import run_sources, stop_when
    from scheduling.runner import graceful_stop

    if all_ and source:
        raise Failure("--all and --source exclude each other")
    wait_seconds = parse_duration(wait) if wait.strip() not in ("0", "") else 0.0
    if wait_seconds is None:
        raise Failure(f"--wait must be a duration such as 30s or 10m, not '{wait}'")
    cfg = _config(config)
    available = sources()
    configured = [s for s in available.values() if s.is_configured(cfg)]
    if source is None and not configured:
        hints = "; ".join(f"{s.name}: {s.config_hint}" for s in available.values()) or "no connectors installed"
        raise Failure(f"no sources configured in {cfg.source_path or 'scorecard.toml'} ({hints}). "
                      "CSV files can be imported with `scorecard import`.")
    warehouse = _warehouse(cfg)
    stop = threading.Event()
    signalled: list[str] = []

    def on_stop(name: str) -> None:
        signalled.append(name)
        err.print(f"{name}: stopping after the batch being written (again to stop at once)", highlight=False)

    try:
        with TerminalProgress() as progress, graceful_stop(stop, on_stop), \
                stop_when(lambda: signalled[0] if signalled else None):
            reports = run_sources(warehouse, cfg, only=source, full=full, progress=progress, wait=wait_seconds,
                                  on_wait=lambda h: err.print(f"{h.describe()}: waiting up to {wait}…", highlight=False))
    except KeyError as exc:
        raise Failure(str(exc.args[0])) from None
    if any(r.rows for r in reports):
        _refresh_cube(warehouse, cfg)
    for r in reports:
        colour = {"success": "green", "partial": "yellow", "interrupted": "yellow", "skipped": "yellow"}.get(r.status, "red")
        tables = ", ".join(f"{t} {c.inserted} new/{c.updated} updated" for t, c in r.tables.items()) or "nothing new"
        calls = f", {r.stats['calls']} API calls" if "calls" in r.stats else ""
        out.print(f"[{colour}]{plain(r.source)}: {r.status}[/{colour}] — {plain(tables)}{calls}", highlight=False)
        for w in r.warnings:
            out.print(f"  [yellow]warning:[/yellow] {plain(w)}", highlight=False)
        if r.rejected:
            out.print(plain(f"  {len(r.rejected)} records could not be read, e.g. {r.rejected[0].record_id}: "
                            f"{r.rejected[0].reason}"), highlight=False)
        if r.error:
            out.print(f"  [{colour}]{'error' if colour == 'red' else 'note'}:[/{colour}] {plain(r.error)}", highlight=False)
    code = sync_exit_code(reports)
    if code:
        raise typer.Exit(code)


def sync_exit_code(reports) -> int:
    """0 every source complete, 1 any failed, 3 partial (rejected records, skipped or interrupted)."""
    if any(r.status == "failed" for r in reports):
        return EXIT_FAILED
    return EXIT_COMPLETE if all(r.status == "success" for r in reports) else EXIT_PARTIAL


@command()
def rebuild(config: ConfigOpt = None) -> None:
    """Build the scorecard cube again from every row of the warehouse (it is otherwise kept current by
    each import and sync, for the days they reach)."""
    from reports.data import rebuild_cube

    cfg = _config(config)
    warehouse = _warehouse(cfg)
    started = time.monotonic()
    with TerminalProgress() as progress:
        rebuild_cube(warehouse, cfg, progress)
    out.print(f"rebuilt the scorecard cube in {time.monotonic() - started:.1f} s", highlight=False)


@command()
def status(
    check: Annotated[bool, typer.Option("--check", help="Only judge freshness: exit 1 when a configured source is stale (a liveness probe).")] = False,
    exact: Annotated[bool, typer.Option("--exact", help="Count every table's rows (PostgreSQL otherwise shows its own estimate, marked ≈, for tables over 100,000 rows).")] = False,
    config: ConfigOpt = None,
) -> None:
    """What the warehouse holds, when each source last synced, its schedule and next run, and what is stale."""
    from scheduling.freshness import source_plans
    from warehouse.lease import current_holders
    from warehouse.runs import last_runs
    from warehouse.schema import DATA_TABLES

    cfg = _config(config)
    warehouse = _warehouse(cfg)
    now = dt.datetime.now(dt.timezone.utc)
    plans = source_plans(warehouse, cfg, now)
    stale = [p for p in plans if p.stale]
    if check:
        for p in stale:
            out.print(f"stale: {plain(stale_message(p, now))}", highlight=False)
        if not stale:
            out.print(f"ok: {len(plans)} configured source{'s' if len(plans) != 1 else ''}, none stale", highlight=False)
        raise typer.Exit(1 if stale else 0)
    out.print(f"Warehouse: {plain(warehouse.display_url)}", highlight=False)
    counts = Table(title="Rows")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    figures = ({name: (count, True) for name, count in _row_counts(warehouse, DATA_TABLES).items()} if exact
               else _row_counts_or_estimates(warehouse, DATA_TABLES))
    for name, (count, is_exact) in figures.items():
        counts.add_row(name, f"{count:,}" if is_exact else f"≈{count:,}")
    out.print(counts)
    if not all(is_exact for _, is_exact in figures.values()):
        out.print("≈ PostgreSQL's estimate (pg_class.reltuples, kept by ANALYZE and autovacuum); "
                  "`scorecard status --exact` counts every row.", highlight=False)
    runs = last_runs(warehouse)
    if plans:
        out.print(_schedule_table(plans, current_holders(warehouse), now))
    if not runs:
        out.print("No syncs or imports yet. Seed the demo (scorecard demo) or import a CSV (scorecard import).")
        return
    table = Table(title="Sources")
    for col in ("source", "last run", "status", "rows", "last success", "error"):
        table.add_column(col)
    for r in runs:
        last = r["last_run"]
        table.add_row(plain(r["source"]), str(last["started_at"])[:19], plain(last["status"]), str(last["rows"]),
                      str(r["last_success"])[:19] if r["last_success"] else "never", plain((last["error"] or "")[:80]))
    out.print(table)


def _schedule_table(plans, holders, now: dt.datetime) -> Table:
    table = Table(title=escape("Schedule ([schedule] in scorecard.toml; `scorecard schedule` follows it)"))
    for col in ("source", "every", "last success", "next run", "state"):
        table.add_column(col)
    for p in plans:
        nxt = "due now" if p.next_run <= now else f"{p.next_run:%Y-%m-%d %H:%M} UTC"
        if p.failures and p.last_status == "failed":
            nxt += f" (retry after {p.failures} failure{'s' if p.failures != 1 else ''})"
        state = "[red]stale[/red]" if p.stale else "[green]fresh[/green]"
        if p.source in holders:
            state += f" · syncing: {escape(holders[p.source].holder)}"
        last = f"{p.last_success:%Y-%m-%d %H:%M} UTC" if p.last_success else "never"
        table.add_row(plain(p.source), fmt_duration(p.interval), last, nxt, state)
    return table
