"""The one runner: every source's batches reach the warehouse through here.

`run_source` runs any source (connectors/contract.py): it checks its config, reads its secret and the
cursors its last run saved, masks the secret in its loggers, drains its batches and records the run
(`sync_runs`, audit log) with the records it could not read, its warnings and progress on the way.
- An API source is written batch by batch, each upsert committed with its cursors after its rows. A
  source failure is reported, never raised, so the next source still runs; killing the process loses
  nothing (cursors lag the data) and duplicates nothing (upserts are idempotent).
- A file (`Source.atomic`: `scorecard import` of a CSV or FOCUS file) is written in one transaction: a
  bad row anywhere leaves nothing written, the run is recorded as failed and the error raised to the
  caller. `ingest`/`ingest_batches` write frames made elsewhere (the demo) the same way.
A notice sent once (`deliver_new`: the spend-alert webhook) keeps what it has sent the way a sync keeps
its cursor.

Connectors never import the warehouse; outside `warehouse/` this is the only module that writes to it
(the audit entries a user's own actions make aside).
"""
from __future__ import annotations

import contextlib
import contextvars
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from config.model import Config
from connectors.common.progress import NoProgress, Progress
from connectors.common.secrets import redact, redacted_logs
from connectors.contract import Batch, Rejected, Source
from warehouse.engine import Warehouse
from warehouse.lease import LeaseHeld, describe_self, source_lease
from warehouse.read import read_table
from warehouse.runs import close_abandoned_runs, cursors_of, finish_run, get_cursor, set_cursor, start_run
from warehouse.write import UpsertCounts, upsert_batches, upsert_frames

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    source: str
    # success, partial (some records or streams failed), failed, interrupted (stopped between batches:
    # what was written stays, the next run resumes from the cursors), skipped (another process held the
    # source's lease: warehouse/lease.py; no run recorded)
    status: str = "running"
    tables: dict[str, UpsertCounts] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    stats: dict[str, int] = field(default_factory=dict)  # e.g. HTTP calls
    detail: dict[str, Any] = field(default_factory=dict)  # what the batches said was read (`Batch.detail`)

    @property
    def rows(self) -> int:
        return sum(c.written for c in self.tables.values())


# Checks that ask a running sync to stop after the batch it is writing (a signal, a lost lease); each
# returns why, or None. See `stop_when`.
_STOP_CHECKS: contextvars.ContextVar[tuple[Callable[[], str | None], ...]] = contextvars.ContextVar("stop_checks", default=())


@contextlib.contextmanager
def stop_when(check: Callable[[], str | None]):
    """Syncs run inside this block stop cleanly (batch committed, cursor saved) once `check()` says why."""
    token = _STOP_CHECKS.set(_STOP_CHECKS.get() + (check,))
    try:
        yield
    finally:
        _STOP_CHECKS.reset(token)


def stop_requested() -> str | None:
    """Why the running sync should stop now, or None."""
    return next((why for why in (check() for check in _STOP_CHECKS.get()) if why), None)


# API sources ------------------------------------------------------------------------------------
def run_source(warehouse: Warehouse, config: Config, source: Source | str, *, full: bool = False,
               progress: Progress | None = None, actor: str | None = None, **options: Any) -> SyncReport:
    """Run one source into the warehouse. An API source never raises for a source failure (the report
    says what happened); a file source (`atomic`) raises it once the failed run is recorded. `options`
    go to the connector (test hooks: sleep, now, today; a file's `path`)."""
    spec = _registered()[source] if isinstance(source, str) else source
    write = _write_atomically if spec.atomic else drain
    stats: dict[str, int] = dict.fromkeys(spec.counters, 0)
    try:
        spec.check(config)
        credential = spec.secret(config)
    except Exception as exc:  # bad config, a missing secret: a failed run that says why
        return write(warehouse, spec.name, _failing(exc), progress=progress, stats=stats, actor=actor)
    hidden = [s for s in credential.hidden if s]
    cursors = cursors_of(warehouse, spec.name)
    if spec.inputs:
        options["inputs"] = {table: read_table(warehouse, table, list(columns))
                             for table, columns in spec.inputs.items()}
    with redacted_logs(hidden, (*spec.loggers, __name__)):
        # Called outside `drain`: a connector that raises instead of yielding is a bug the caller sees.
        batches = spec.extract(config, credential.value, cursors, full=full, stats=stats, **options)
        return write(warehouse, spec.name, batches, secrets=hidden, progress=progress, stats=stats, actor=actor)


def run_sources(warehouse: Warehouse, config: Config, *, only: str | None = None, full: bool = False,
                progress: Progress | None = None, holder: str | None = None, wait: float = 0.0,
                on_wait: Callable | None = None, specs: Mapping[str, Source] | None = None,
                still_wanted: Callable[[str], bool] | None = None) -> list[SyncReport]:
    """Run every configured source (or just `only`); returns their reports in order.

    Each source runs under its lease (warehouse/lease.py: one writer per source across processes). A
    source whose lease another process holds past `wait` seconds is not run: its report says `skipped`
    and who holds it. `holder` names this process to the others. `still_wanted(name)`, asked once the
    lease is held, can drop a source another process has just synced. Once a stop is requested
    (`stop_when`) no further source starts."""
    available = specs if specs is not None else _registered(files=False)
    if only is not None and only not in available:
        raise KeyError(f"unknown source '{only}'; known: {', '.join(available) or '(none)'}")
    chosen = [available[only]] if only else [s for s in available.values() if s.is_configured(config)]
    holder = holder or describe_self("scorecard sync")
    reports = []
    for spec in chosen:
        if stop_requested():
            break
        try:
            with source_lease(warehouse, spec.name, holder=holder, ttl=config.schedule.lease, wait=wait,
                              on_wait=on_wait) as lease, \
                    stop_when(lambda lease=lease: "the lease was taken over" if lease.lost.is_set() else None):
                if still_wanted is None or still_wanted(spec.name):
                    close_abandoned_runs(warehouse, spec.name)  # we are the only writer: a `running` run is dead
                    reports.append(run_source(warehouse, config, spec, full=full, progress=progress))
        except LeaseHeld as exc:
            reports.append(SyncReport(source=spec.name, status="skipped", error=str(exc)))
    return reports


def _registered(*, files: bool = True) -> dict[str, Source]:
    # The registry imports every connector and its client library (PyGithub with cryptography and nacl,
    # ~0.5 s): loaded when a source is named, not by a caller that passes its `Source` (`scorecard
    # import`) or only records a delivery (`deliver_new`).
    from connectors.sources import file_sources, sources

    return {**sources(), **(file_sources() if files else {})}


def _failing(exc: Exception) -> Iterator[Batch]:
    """Batches that fail when first asked for: a source that cannot even start (bad config, missing
    secret) still gets its failed `sync_runs` row."""
    raise exc
    yield  # makes this a generator


def drain(warehouse: Warehouse, source: str, batches: Iterator[Batch], *, secrets: Iterable[str | None] = (),
          progress: Progress | None = None, stats: dict[str, int] | None = None,
          actor: str | None = None) -> SyncReport:
    """Write `batches` as they come (each in its own transaction, its cursors after its rows) and record
    the run. Never raises for a source failure: the report says what happened."""
    progress = progress or NoProgress()
    secrets = list(secrets)
    report = SyncReport(source=source)
    run_id = start_run(warehouse, source)
    done = 0
    try:
        for batch in batches:
            counts = upsert_frames(warehouse, batch.frames) if batch.frames else {}
            _add(report, counts)
            for stream, cursor in batch.cursors.items():
                set_cursor(warehouse, source, stream, cursor)
            _note(report, batch, secrets, progress)
            done += 1
            why = stop_requested()
            if why:  # between batches: everything read so far is committed, its cursors saved
                report.status = "interrupted"
                report.error = f"stopped ({why}) after {done} batch{'es' if done != 1 else ''}; the next run resumes from the saved cursors"
                log.warning("sync of %s %s", source, report.error)
                if hasattr(batches, "close"):
                    batches.close()  # the connector's own cleanup (its finally blocks) runs now
                break
        else:
            report.status = "partial" if (report.rejected or report.warnings) else "success"
    except Exception as exc:  # one failing source never blocks the others
        report.status = "failed"
        report.error = redact(f"{type(exc).__name__}: {exc}", secrets)
        log.warning("sync of %s failed: %s", source, report.error)
    if stats:
        report.stats.update(stats)
    detail = {
        **report.detail,
        "tables": {t: vars(c) for t, c in report.tables.items()},
        "rejected": [vars(r) for r in report.rejected[:500]],
        "rejected_count": len(report.rejected),
        "warnings": report.warnings[:100],
        "stats": report.stats,
    }
    finish_run(warehouse, run_id, status=report.status, rows=report.rows, error=report.error, detail=detail,
               audited=("sync", {"source": source, "status": report.status, "rows": report.rows,
                                 "rejected": len(report.rejected)}, actor))
    return report


def _add(report: SyncReport, counts: Mapping[str, UpsertCounts]) -> None:
    for table, c in counts.items():
        report.tables[table] = report.tables.get(table, UpsertCounts()) + c


def _note(report: SyncReport, batch: Batch, secrets: list[str | None], progress: Progress) -> None:
    """What a batch says besides its rows: rejected records and warnings (secrets masked), progress."""
    report.rejected.extend(Rejected(r.stream, redact(r.record_id, secrets), redact(r.reason, secrets))
                           for r in batch.rejected)
    report.warnings.extend(redact(w, secrets) for w in batch.warnings)
    report.detail.update(batch.detail)
    if batch.progress_message is not None:
        progress.update(batch.progress_done or 0, batch.progress_total, batch.progress_message)


# Files ------------------------------------------------------------------------------------------
def ingest(warehouse: Warehouse, source: str, frames: Mapping[str, pl.DataFrame], *, action: str = "import",
           detail: dict[str, Any] | None = None, actor: str | None = None) -> dict[str, UpsertCounts]:
    """Upsert all frames atomically and record the run; on failure nothing is written, the run is
    recorded as failed and the error raised."""
    return ingest_batches(warehouse, source, [Batch(frames=dict(frames))], action=action, detail=detail, actor=actor)


def ingest_batches(warehouse: Warehouse, source: str, batches: Iterable[Batch], *, action: str = "import",
                   detail: Callable[[], dict[str, Any]] | dict[str, Any] | None = None,
                   actor: str | None = None, progress: Progress | None = None) -> dict[str, UpsertCounts]:
    """`ingest` for a stream of batches (a file too large to hold): one transaction over all of them,
    so a bad batch anywhere leaves nothing written. `detail` may be a function, called once the batches
    have run (what a stream held is known only then)."""
    return _write_atomically(warehouse, source, batches, action=action, detail=detail, actor=actor,
                             progress=progress).tables


def _write_atomically(warehouse: Warehouse, source: str, batches: Iterable[Batch], *, action: str = "import",
                      detail: Callable[[], dict[str, Any]] | dict[str, Any] | None = None,
                      secrets: Iterable[str | None] = (), progress: Progress | None = None,
                      stats: dict[str, int] | None = None, actor: str | None = None) -> SyncReport:
    """Write every batch in one transaction and record the run; on failure nothing is written, the run
    is recorded as failed and the error raised. The run's detail: `detail`, then what the batches said."""
    progress = progress or NoProgress()
    secrets = list(secrets)
    report = SyncReport(source=source)
    cursors: dict[str, str | None] = {}

    def frames() -> Iterator[Mapping[str, pl.DataFrame]]:
        for batch in batches:
            _note(report, batch, secrets, progress)
            cursors.update(batch.cursors)
            if batch.frames:
                yield batch.frames

    run_id = start_run(warehouse, source)
    try:
        # The first batch (a CSV file: all of it) is read before the write transaction opens, so parsing
        # it never holds the warehouse's write lock.
        pending = frames()
        first = next(pending, None)
        counts = upsert_batches(warehouse, itertools.chain([] if first is None else [first], pending))
    except Exception as exc:
        error = redact(str(exc), secrets)
        finish_run(warehouse, run_id, status="failed", rows=0, error=error,
                   detail={**_detail(detail), **report.detail})
        raise
    for stream, cursor in cursors.items():
        set_cursor(warehouse, source, stream, cursor)
    report.tables = dict(counts)
    report.status = "success"
    report.stats.update(stats or {})
    out = {**_detail(detail), **report.detail}
    out["tables"] = {
        name: {"inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged} for name, c in counts.items()
    }
    if report.rejected:
        out["rejected"] = [vars(r) for r in report.rejected[:500]]
        out["rejected_count"] = len(report.rejected)
    if report.warnings:
        out["warnings"] = report.warnings[:100]
    written = sum(c.written for c in counts.values())
    finish_run(warehouse, run_id, status="success", rows=written, detail=out, audited=(action, {"source": source, **out}, actor))
    return report


def _detail(detail) -> dict[str, Any]:
    return dict((detail() if callable(detail) else detail) or {})


# Notices sent once -------------------------------------------------------------------------------
def deliver_new(warehouse: Warehouse, source: str, stream: str, open_ids: Iterable[str],
                send: Callable[[list[str]], object]) -> list[str]:
    """Hand `send` the ids of `open_ids` not delivered before, and return them. What was delivered is
    kept in `sync_state` under (`source`, `stream`), like a cursor, and saved only after `send` returns
    (if it raises, nothing is saved and the next call tries again); only ids still open are kept, so one
    that closes and opens again is news again. `send` is not called when nothing is new."""
    delivered = set(json.loads(get_cursor(warehouse, source, stream) or "[]"))
    still_open = sorted(set(open_ids))
    fresh = [i for i in still_open if i not in delivered]
    if fresh:
        send(fresh)
    set_cursor(warehouse, source, stream, json.dumps(still_open))
    return fresh
