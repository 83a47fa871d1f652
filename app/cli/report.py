"""Commands that read the scorecard: metrics, explain, alerts."""
from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated, Optional

import typer
from rich.table import Table

from app.cli.base import (
    ConfigOpt, EndOpt, Failure, GrainOpt, StartOpt, TeamOpt, TerminalProgress, _check_grain, _config, _warehouse,
    allow_quick_exit, command, err, out, range_from_dates,
)
from app.cli.governance import with_stop_conditions
from app.cli.output import plain
from config import ConfigError
from connectors.common.secrets import MissingSecret

# The commands import metrics, reports, warehouse, pipeline and polars inside their bodies: those load polars
# and SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).

AsOfOpt = Annotated[Optional[dt.datetime], typer.Option(
    "--as-of", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
    help="Report as if it were this instant (UTC; a bare date is 00:00): later events are ignored, "
         "and provisional records are judged at it. For reproducible reports.")]


def _as_of(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def load_report_cube(cfg, as_of: dt.datetime | None, warehouse=None):
    """The warehouse's cube; with --as-of, one built from the evidence as it stood then."""
    from metrics.scorecard import prepare
    from reports.data import load_cube, load_evidence

    warehouse = warehouse or _warehouse(cfg)
    if as_of is None and not _stale_and_read_only(warehouse, cfg):
        with TerminalProgress() as progress:  # drawn only while the cube is being rebuilt or updated
            return load_cube(warehouse, cfg, progress=progress)
    evidence = load_evidence(warehouse)
    return prepare(evidence.until(as_of) if as_of is not None else evidence, cfg).cube


def _stale_and_read_only(warehouse, cfg) -> bool:
    """A read-only warehouse whose stored cube cannot be used as it is (another config, writes pending):
    the cube is then built in memory from the evidence, slowly, and never stored."""
    from reports.data import cube_is_current

    if not warehouse.read_only or cube_is_current(warehouse, cfg):
        return False
    err.print("[yellow]note:[/yellow] the warehouse is read-only and its stored scorecard cube is not current "
              "for this configuration: computing it from the evidence (slow; a command on a writable copy "
              "stores it)", highlight=False, soft_wrap=True)
    return True


def range_cube(cfg, grain: str, start: dt.datetime | None, end: dt.datetime | None, as_of: dt.datetime | None, *,
               review_table: bool, early=None):
    """The cube a report of one range reads, and the range's [first, last] days (`report_range`).

    Without --as-of, only the months the report's days (the review window's, for the review table) and the
    baseline windows lie in are read from the stored cube (reports.cube_months), not its whole history: at
    1M PRs that is a tenth of its rows, and the records are the same. When reading it needs no write (the
    usual case), through one read-only connection without SQLAlchemy (reports.cube_months.start_current_cube);
    else the ordinary way, which migrates, brings the cube up to date and records the config version.
    `early`: that read begun before the configuration was loaded (reports.early_cube), used when it is of
    this configuration's warehouse."""
    from reports.cube_months import start_current_cube
    from warehouse.readonly import WarehouseError

    if as_of is None:
        opening = early.opening_for(cfg) if early is not None else None
        if opening is None:
            opening = start_current_cube(cfg)
        # While the warehouse answers (connecting, the checks, the outline's chunks: 0.02-0.05 s of waiting
        # on PostgreSQL), this thread loads what comes next: pyarrow for the chunks, the compute.
        import pyarrow  # noqa: F401

        import metrics.scorecard  # noqa: F401

        try:
            current = opening.result()
        except WarehouseError as exc:
            raise Failure(str(exc)) from None
        if current is not None:
            with current:
                outline = current.outline()
                first, last = report_range(outline, grain, start, end, None)
                cube = current.days(_report_spans(outline, cfg, grain, first, last, review_table))
            allow_quick_exit()  # nothing was written and the one connection is closed
            return cube, first, last
    from reports.data import cube_is_current, load_cube_days, load_cube_outline

    warehouse = _warehouse(cfg)
    if as_of is not None or (warehouse.read_only and not cube_is_current(warehouse, cfg)):
        cube = load_report_cube(cfg, as_of, warehouse)
        return (cube, *report_range(cube, grain, start, end, as_of))
    with TerminalProgress() as progress:  # drawn only while the cube is being rebuilt or updated
        outline = load_cube_outline(warehouse, cfg, progress=progress)
    first, last = report_range(outline, grain, start, end, None)
    return load_cube_days(warehouse, _report_spans(outline, cfg, grain, first, last, review_table)), first, last


def _report_spans(outline, cfg, grain: str, first: dt.date, last: dt.date,
                  review_table: bool) -> list[tuple[dt.date, dt.date]]:
    """The (first, last) day spans a report reads from the cube: its days (the review window's, for the
    review table) and every baseline window — but a cost metric's own window, whose spend and units the
    outline holds over all their history (reports.cube_months.whole_history_parts): at 1M PRs its months
    would add 2 of the default review table's 10."""
    from metrics.baseline import as_of as data_as_of, baselines
    from metrics.periods import review_window
    from metrics.registry import METRICS

    if review_table and grain != "range":
        days = review_window(first, last, grain, data_as_of(outline))
    else:
        days = _report_days(grain, first, last)
    windows = baselines(outline, cfg)
    own = [w for metric, w in windows.own.items() if METRICS[metric].cube_table != "cost"]
    spans = [(w.first_day, w.last_day) for w in (windows.default, *own) if w.start <= w.end]
    return spans + ([days] if days else [])


def _report_days(grain: str, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date] | None:
    """The days a report's periods cover: a week or month whose first day is in [first, last] runs to its end."""
    from metrics.periods import next_period_start, period_starts

    periods = period_starts(first, last, grain)
    if not periods:
        return None
    if grain == "range":
        return first, last
    return periods[0], next_period_start(periods[-1], grain) - dt.timedelta(days=1)


def report_range(cube, grain: str, start: dt.datetime | None, end: dt.datetime | None,
                 as_of: dt.datetime | None) -> tuple[dt.date, dt.date]:
    """The report's [first, last] days: the dates given, else the dashboard's default range (the last
    26 complete weeks / 12 months with data; for a range, the review window of the 26 weeks)."""
    from metrics.baseline import as_of as data_as_of
    from metrics.periods import latest_complete_range, review_window

    today = (as_of or dt.datetime.now(dt.timezone.utc)).date()
    if start is not None or end is not None:
        return range_from_dates("month" if grain == "month" else "week", end.date() if end else None,
                                start.date() if start else None)
    if grain != "range":
        return latest_complete_range(cube.last_day(), today, grain)
    first, last = latest_complete_range(cube.last_day(), today, "week")
    window = review_window(first, last, "week", data_as_of(cube, as_of or dt.datetime.now(dt.timezone.utc)))
    if window is None:
        raise Failure("no whole week with data has ended yet: give --start and --end for the range")
    return window


@command()
def metrics(
    grain: GrainOpt = "week",
    start: StartOpt = None,
    end: EndOpt = None,
    team: TeamOpt = None,
    metric: Annotated[Optional[list[str]], typer.Option("--metric", help="Only this metric (repeatable).")] = None,
    format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    all_records: Annotated[bool, typer.Option("--all", help="Every record of the range (the table otherwise "
                                              "shows the review window's whole-org records).")] = False,
    as_of: AsOfOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The scorecard records: value, interval, baseline, delta and status per metric × period × team × segment.

    The table shows the review window (the last 13 complete weeks, or 3 months, of the range) for the
    whole org, one row per metric and segment, as the dashboard's tiles; --all, json and csv give every
    record of the range at the grain."""
    _check_grain(grain)
    if format not in ("table", "json", "csv"):
        raise Failure(f"--format must be table, json or csv, not '{format}'")
    early = None
    if as_of is None:  # PostgreSQL: the stored cube's read begins now, while polars and the registry load
        from reports.early_cube import start_early

        early = start_early(config, speculate=start is None and end is None)
    try:
        _metrics(grain, start, end, team, metric, format, all_records, as_of, config, early)
    finally:
        if early is not None:
            early.abandon()  # closed already when it was read; else when its thread ends


def _metrics(grain, start, end, team, metric, format, all_records, as_of, config, early) -> None:
    if early is not None:
        import pyarrow  # noqa: F401  (here, before the early reader's thread needs it: see reports.early_cube)
    from metrics.registry import METRICS

    for m in metric or []:
        if m not in METRICS:
            raise Failure(f"unknown metric '{m}'; known: {', '.join(METRICS)}")
    cfg = _config(config)
    now = _as_of(as_of)
    cube, first, last = range_cube(cfg, grain, start, end, now, review_table=format == "table" and not all_records,
                                   early=early)
    if format == "table" and not all_records:
        _print_review(cube, cfg, grain, first, last, team, metric, now)
        return
    from metrics.scorecard import compute, select_output

    records = select_output(compute(cube, cfg, grain=grain, start=first, end=last, team=team, metrics=metric, now=now))
    if format == "json":
        out.file.write(records_json(records) + "\n")
    elif format == "csv":
        from reports.export import encode

        sys.stdout.buffer.write(encode(records, "csv"))
    else:
        _print_records(records, first, last)


def records_json(records: pl.DataFrame) -> str:
    """DESIGN.md's metric output as a JSON array of objects with exactly those keys, one record a line.

    Encoded column by column by polars (dates ISO, NaN and ±∞ as null, floats in their shortest exact
    form): a year of weekly records for a large organisation is 225k objects, which Python's indented
    encoder took seconds to write one value at a time. JSON strings never hold a raw newline, so the
    lines of newline-delimited JSON are the records."""
    from metrics.registry import OUTPUT_COLUMNS

    import polars as pl

    frame = records.select(OUTPUT_COLUMNS).with_columns(pl.col(pl.Float64, pl.Float32).fill_nan(None))
    if frame.height == 0:
        return "[]"
    lines = frame.write_ndjson().rstrip("\n").split("\n")
    return "[\n" + ",\n".join(lines) + "\n]"


_STATUS_STYLE = {"better": "green", "worse": "red", "at_baseline": "white", "info": "blue", "insufficient_data": "dim"}
_STATUS_SHORT = {"better": "better", "worse": "WORSE", "at_baseline": "at base", "info": "info",
                 "insufficient_data": "too few"}


def _compact(text: str) -> str:
    """A rate's unit in short ("13.80 / day" → "13.80/d"), so that the review table fits 80 columns."""
    return text.replace(" / day", "/d").replace(" / week", "/wk")


def _print_review(cube, cfg, grain: str, first: dt.date, last: dt.date, team: str | None,
                  metric: list[str] | None, now: dt.datetime | None) -> None:
    """The review window's records of the whole org (or one team) in 80 columns."""
    from metrics.registry import METRICS

    import polars as pl

    from metrics.events import is_ai_segment
    from reports.format import fmt_delta, fmt_value
    from metrics.scorecard import compute
    from reports.review import review

    if grain == "range":
        from metrics.baseline import as_of as data_as_of, baselines

        records = compute(cube, cfg, grain="range", start=first, end=last, team=team, metrics=metric, now=now)
        window, windows = (first, last), baselines(cube, cfg)
    else:
        result = review(cube, cfg, grain=grain, start=first, end=last, team=team, now=now)
        records, window, windows = result.records, result.window, result.baselines
        if metric:
            records = records.filter(pl.col("metric").is_in(metric))
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    records = records.filter(who)
    # The fixed segments only: `tool:` / `mode:` segments (one per AI tool and mode in the data) are in
    # `--all`, the export and `explain`, so this table keeps to one screen.
    by_data = records.filter(is_ai_segment(pl.col("segment"))).height
    records = records.filter(~is_ai_segment(pl.col("segment")))
    if window is None or records.height == 0:
        out.print(f"No records in the review window of {first} to {last}: nothing was counted. "
                  "Import data (scorecard import) or seed the demo (scorecard demo).")
        return
    out.print(f"Review window {window[0]} to {window[1]}, {plain(team) if team else 'whole org'}", highlight=False)
    out.print(f"Baseline {windows.default.first_day} to {windows.default.last_day}: {windows.why}", highlight=False)
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), show_edge=False)  # one space between columns
    for col, justify in (("metric", "left"), ("seg", "left"), ("value", "right"), ("baseline", "right"),
                         ("delta", "right"), ("status", "left"), ("n", "right")):
        table.add_column(col, justify=justify, no_wrap=True)
    provisional = False
    for r in records.iter_rows(named=True):
        unit = METRICS[r["metric"]].unit
        style = _STATUS_STYLE.get(r["status"], "white")
        mark = "*" if r["provisional"] else ""
        provisional |= bool(r["provisional"])
        table.add_row(r["metric"] + mark, plain(r["segment"]), _compact(fmt_value(r["value"], unit)),
                      _compact(fmt_value(r["baseline"], unit)), _compact(fmt_delta(r["delta"], unit)),
                      f"[{style}]{_STATUS_SHORT[r['status']]}[/{style}]", f"{r['n']:,}")
    out.print(table)
    if provisional:
        out.print("* provisional: its last days can still change (events still to come).", highlight=False)
    for metric_id, why in sorted(windows.own_why.items()):
        if metric is None or metric_id in metric:
            own = windows.own[metric_id]
            out.print(f"{metric_id} baseline {own.first_day} to {own.last_day}: {why}", highlight=False)
    if by_data:
        out.print(f"{by_data} more records by AI tool and mode: scorecard metrics --all.", highlight=False)
    out.print("Every record: scorecard metrics --all (or --format csv).", highlight=False)


def _print_records(records: pl.DataFrame, first: dt.date, last: dt.date) -> None:
    from metrics.registry import METRICS

    from reports.format import fmt_delta, fmt_interval, fmt_value

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
    period: Annotated[Optional[dt.datetime], typer.Option("--period", formats=["%Y-%m-%d"], help="The period's first day (e.g. 2026-03-02; default: the latest complete period; with --grain range, the review window's).")] = None,
    end: Annotated[Optional[dt.datetime], typer.Option("--end", formats=["%Y-%m-%d"], help="With --grain range: the range's last day.")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="List the baseline window's rows instead of a period's.")] = False,
    grain: GrainOpt = "week",
    team: TeamOpt = None,
    segment: Annotated[str, typer.Option("--segment", help="all, ai or non_ai; for rollback_share also tool:<name>, mode:<mode> or cohort:<name>; for rework_rate and lead_time_hours cohort:<name>.")] = "all",
    format: Annotated[str, typer.Option("--format", help="table or csv.")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The rows behind one record, each with the reason it counted (whole ids and titles)."""
    from metrics.registry import METRICS

    from metrics.baseline import as_of as data_as_of, baselines
    from metrics.explain import record_events
    from metrics.periods import Window, latest_complete_period, period_end, previous_period_start, utc
    from metrics.scorecard import prepare
    from reports.data import load_cube_outline, load_evidence, load_evidence_since

    _check_grain(grain)
    if metric not in METRICS:
        raise Failure(f"unknown metric '{metric}'; known: {', '.join(METRICS)}")
    if not METRICS[metric].has_segment(segment):
        families = "".join(f", {f}:<…>" for f in METRICS[metric].segment_families)
        raise Failure(f"{metric} has segments {', '.join(METRICS[metric].segments)}{families}, not '{segment}'")
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    prepared = None
    if _stale_and_read_only(warehouse, cfg):
        prepared = prepare(load_evidence(warehouse), cfg)
        cube = prepared.cube
    else:
        # The stored cube's outline places the default period and the baselines; the rows are then
        # prepared from the evidence of the record's days on (and the earlier rows they link to), not
        # from the whole warehouse: the same rows (reports.derived.evidence_from), in seconds at 1M PRs.
        with TerminalProgress() as progress:
            cube = load_cube_outline(warehouse, cfg, progress=progress)
    now = dt.datetime.now(dt.timezone.utc)
    if baseline:
        window = baselines(cube, cfg).window(metric)
        record, since = {"grain": "week", "window": window}, window.first_day
        title = f"{metric} baseline {window.label}"
    elif grain == "range":
        if period is None:
            first, last = report_range(cube, "range", None, None, None)
        else:
            first, last = period.date(), (end.date() if end else now.date())
        window = Window(utc(first), utc(last) + dt.timedelta(days=1) - dt.timedelta(microseconds=1), "range")
        record, since = {"grain": "week", "window": window}, first
        title = f"{metric} range {first} to {last}"
    else:
        if period is None:
            moment = data_as_of(cube, now)
            if moment is None:
                raise Failure("the warehouse has no merged PR or deployment yet: give --period")
            # The latest period that has ended by as_of: a running one is still filling.
            day = latest_complete_period(moment.date(), moment.date() + dt.timedelta(days=1), grain)
            if period_end(day, grain) > moment.date():
                day = previous_period_start(day, grain)
        else:
            day = period.date()
        record, since = {"grain": grain, "period": day}, day
        title = f"{metric} {grain} of {day}"
    if prepared is None:
        prepared = prepare(load_evidence_since(warehouse, cfg, since), cfg)
    rows = record_events(prepared, metric, team=team, segment=segment, **record)
    if format == "csv":
        from reports.export import encode

        sys.stdout.buffer.write(encode(rows, "csv"))
        return
    out.print(f"{title}, {('team ' + team) if team else 'whole org'}, segment {segment}: {rows.height} rows",
              highlight=False, markup=False, soft_wrap=True)
    # One block per row, never a table: ids, titles and reasons are shown whole at any width.
    for r in rows.head(200).iter_rows(named=True):
        out.print(f"{r['id']}  {str(r['at'])[:16]}  {r['team']}  {r['segment'] or ''}  {r['counted']}",
                  highlight=False, markup=False, soft_wrap=True)
        if r.get("title"):
            out.print(f"    {r['title']}", highlight=False, markup=False, soft_wrap=True)
        out.print(f"    {r['reason']}", highlight=False, markup=False, soft_wrap=True)
    if rows.height > 200:
        out.print(f"(first 200 of {rows.height}; --format csv lists all)", highlight=False)


@command()
def alerts(
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    as_of: Annotated[Optional[dt.datetime], typer.Option("--as-of", formats=["%Y-%m-%d"], help="Judge as of this day (default: the last day with spend data).")] = None,
    webhook: Annotated[bool, typer.Option("--webhook/--no-webhook", help="POST new alerts to the webhook in [spend.alerts] webhook_url_env.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Open alerts (AI spend: anomalous days, budgets pacing over; workflow stop conditions; stale sources);
    exits 1 when there are any (for cron and CI)."""
    from reports.alerts import alerts_json, load_spend, spend_alerts
    from reports.webhook import WebhookError, post_new_alerts

    if format not in ("table", "json"):
        raise Failure(f"--format must be table or json, not '{format}'")
    cfg = _config(config)
    warehouse = _warehouse(cfg)
    try:
        result = spend_alerts(load_spend(warehouse), cfg, as_of=as_of.date() if as_of else None)
    except ConfigError as exc:
        raise Failure(str(exc)) from None
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
