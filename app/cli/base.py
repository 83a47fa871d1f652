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

from app.cli.startup import fewer_collections
from config import Config, ConfigError
from connectors.common.secrets import redact
from metrics.spec import GRAINS

# The helpers import config.load, reports, warehouse and metrics inside their bodies: those load polars and
# SQLAlchemy, which `scorecard --help` must not (tests/cli/test_startup_imports.py).

log = logging.getLogger(__name__)


def _plain_values_without_pydantic() -> None:
    """Typer (0.29) passes every parameter's value through a pydantic TypeAdapter that it builds on first
    use, even a value left at its default of None: pydantic's import and a dozen schemas cost ~0.1 CPU-s
    of every command's start (issue 15: `scorecard metrics` ≤ 0.8 s), most of it for the help option and
    options not given. The values whose outcome is known without pydantic are taken here — None (None, or
    () for a repeatable option), a str for a str parameter (typer's str adapter returns it as it is), a
    datetime in one of the parameter's formats (the adapter's own first `strptime` that succeeds), a path
    already spelled as `Path` spells it (pydantic's Path is `Path(value)`; typer's checks follow) — and
    then checked (required) and handed to the callback exactly as `process_value` does; any other value
    (a list, a date in no format: typer's own error message) goes through Typer as before.
    Where Typer's internals are not the ones this was written for, nothing is changed."""
    from typer import core

    parameter = getattr(core, "_TyperParameter", None)
    if parameter is None or not callable(getattr(parameter, "process_value", None)) \
            or not hasattr(parameter, "value_is_missing"):
        return
    missing = getattr(getattr(getattr(core, "_click", None), "exceptions", None), "MissingParameter", None)
    typers_own = parameter.process_value
    if missing is None or getattr(typers_own, "_plain", False):
        return

    def process_value(self, ctx, value):
        descriptor = getattr(self, "type_descriptor", None)
        info = getattr(descriptor, "parameter_info", None)
        if descriptor is None or getattr(info, "parser", None) is not None:
            return typers_own(self, ctx, value)
        annotation = descriptor.annotation
        if value is None:
            value = () if (self.multiple or self.nargs == -1) else None
        elif annotation is str and type(value) is str and not self.multiple and self.nargs == 1:
            pass
        elif annotation is dt.datetime and type(value) is str and getattr(info, "formats", None) \
                and not self.multiple and self.nargs == 1:
            parsed = _strptime_any(value, info.formats)
            if parsed is None:
                return typers_own(self, ctx, value)
            value = parsed
        elif annotation is Path and type(value) is str and getattr(info, "path_type", None) is None \
                and str(Path(value)) == value and not self.multiple and self.nargs == 1:
            # pydantic's Path is Path(value); typer then checks it as it checks a Path (its messages name
            # the value, which is the Path's own spelling here)
            from typer._param_types import coerce_cli_path

            value = coerce_cli_path(Path(value), info, path_type=Path, param=self, ctx=ctx)
        else:
            return typers_own(self, ctx, value)
        if self.required and self.value_is_missing(value):
            raise missing(ctx=ctx, param=self)
        if self.callback is not None:
            value = self.callback(ctx, self, value)
        return value

    process_value._plain = True
    process_value.typers_own = typers_own  # for tests/cli/test_plain_values.py
    parameter.process_value = process_value


def _strptime_any(value: str, formats) -> dt.datetime | None:
    for fmt in formats:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


_plain_values_without_pydantic()

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
    fewer_collections()
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
