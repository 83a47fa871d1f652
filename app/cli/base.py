"""The command line's shared parts: the Typer app, options, errors, and the helpers every command uses.

Commands live beside this module (data, report, governance) and register themselves on `app` through
`command`, which turns a `Failure` into one error line and exit code 1.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from config import Config, ConfigError
from connectors.common.secrets import redact
from metrics.spec import GRAINS

# The helpers import config.load, reports, warehouse and metrics inside their bodies: those load polars and
# SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).

log = logging.getLogger(__name__)

app = typer.Typer(
    help="AI impact scorecard: is AI making us better, and what does it cost?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help and usage errors: Typer's Rich help loads Markdown, Pygments and traceback
    # renderers first, which tripled the time of `scorecard --help`.
    rich_markup_mode=None,
)
out = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", help="Config file (default: $SCORECARD_CONFIG, else ./scorecard.toml)."),
]
GrainOpt = Annotated[str, typer.Option("--grain", help="Period grain: week, month, or range (one period of the whole report).")]
StartOpt = Annotated[Optional[dt.datetime], typer.Option("--start", formats=["%Y-%m-%d"], help="First day of the report (default: as the dashboard, the last 26 complete weeks / 12 months with data).")]
EndOpt = Annotated[Optional[dt.datetime], typer.Option("--end", formats=["%Y-%m-%d"], help="Last day of the report (default: as the dashboard; with only --start, today).")]
TeamOpt = Annotated[Optional[str], typer.Option("--team", help="One team only (default: every team and the whole org).")]


class Failure(Exception):
    """A problem the user can fix: one line on stderr and exit code 1 (see `command`)."""


_quick_exit = False  # see allow_quick_exit


def allow_quick_exit() -> None:
    """Say that this command, once it returns, leaves nothing to finish: no thread, no open connection or
    file, no transaction. `main` then ends the process without tearing the interpreter down (`_exit_now`)."""
    global _quick_exit
    _quick_exit = True


def command(*args, keeps_running: bool = False, computes: Callable[[dict], bool] | None = None, **kwargs):
    """`app.command` that turns a `Failure` into its message and exit code 1 (use it for every command).

    A command answers and exits, so its process keeps the memory it frees for its next arrays
    (reports/process.py); `keeps_running` (the scheduler, which runs until stopped) leaves the allocator as
    it is. A command that `computes` (given its arguments) every record of the stored cube has the memory
    for it faulted in on another thread while it imports (reports.process.fault_in_ahead)."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*a, **kw):
            global _quick_exit
            _quick_exit = False
            if not keeps_running:
                from reports.process import fault_in_ahead, reuse_freed_memory, warehouse_url

                reuse_freed_memory()
                if computes is not None and computes(kw):
                    fault_in_ahead(warehouse_url(kw.get("config")))
            try:
                return fn(*a, **kw)
            except Failure as exc:
                err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
                raise typer.Exit(1) from None
            except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # a bug or an unforeseen condition: one line, never a traceback
                log.debug("unexpected error", exc_info=True)
                err.print(f"[red]error:[/red] unexpected {type(exc).__name__}: {escape(redact(str(exc)))} "
                          "(run with SCORECARD_DEBUG=1 for the details)", highlight=False, soft_wrap=True)
                raise typer.Exit(1) from None
        return app.command(*args, **kwargs)(wrapper)
    return decorate


def main() -> None:
    # numpy's OpenBLAS starts a thread pool as it loads (0.05 CPU-s of a command's start); no command does
    # linear algebra (the metrics sort, count and sum), so one thread unless the user chose otherwise.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    debug = bool(os.environ.get("SCORECARD_DEBUG"))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except SystemExit as exc:
        if not _quick_exit:
            raise
        _exit_now(exc.code)


def _exit_now(code) -> None:
    """End the process once its output is written, skipping the interpreter's teardown: freeing every module
    and the read cube's frames took 0.1-0.15 s after `scorecard metrics` had printed everything. Only after
    `allow_quick_exit` (nothing left open); if the output cannot be flushed (a closed pipe), Python's own
    exit reports it as usual."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        raise SystemExit(code) from None
    logging.shutdown()
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit code 1, as Python does
        print(code, file=sys.stderr, flush=True)
        code = 1
    os._exit(code)


def _config(path: Path | None) -> Config:
    # Here, not at the top: the loader validates against the metric registry, which loads polars, and
    # `scorecard --help` needs neither (issue 15: a fast CLI).
    from config.load import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise Failure(str(exc)) from None


def _warehouse(config: Config):
    from reports.data import warehouse_for
    from warehouse import WarehouseError

    try:
        warehouse = warehouse_for(config)
    except WarehouseError as exc:
        raise Failure(str(exc)) from None
    if not warehouse.read_only:  # reading a read-only warehouse writes nothing, not even the change history
        from governance.changes import record_config_version

        record_config_version(warehouse, config)  # the change history: a new config or metric version is recorded once
    return warehouse


def range_from_dates(grain: str, end: dt.date | None, start: dt.date | None) -> tuple[dt.date, dt.date]:
    """The report range the --start/--end dates give: `end` defaults to today (UTC), `start` to 26 weeks
    or 12 months before it (metrics.periods.trailing_start). (`scorecard metrics` with neither uses the
    dashboard's default, metrics.periods.latest_complete_range, instead.)"""
    from metrics.periods import trailing_start  # loads polars, which --help does not need

    end = end or dt.datetime.now(dt.timezone.utc).date()
    if start is None:
        start = trailing_start(end, grain)
    if start > end:
        raise Failure(f"--start {start} is after --end {end}")
    return start, end


def _check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise Failure(f"--grain must be one of {', '.join(GRAINS)}, not '{grain}'")


class TerminalProgress:
    """The CLI's progress bar (see connectors.common.progress), drawn from its first update on: work that
    reports none (a cube already fresh) draws nothing."""

    def __init__(self) -> None:
        self._bar = None
        self._task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: int, total: int | None, message: str) -> None:
        if self._bar is None:
            from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=err,
                                     transient=True)
            self._bar.start()
            self._task = self._bar.add_task("", total=None)
        self._bar.update(self._task, completed=done, total=total, description=message)


def _refresh_cube(warehouse, config: Config) -> None:
    """Fold a finished run's writes into the scorecard cube (only the days they reach; a full rebuild when
    the configuration changed), so the next reader finds it fresh."""
    from reports.data import refresh_cube

    with TerminalProgress() as progress:
        refresh_cube(warehouse, config, progress)
