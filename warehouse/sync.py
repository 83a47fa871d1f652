"""Running one source's sync: batches upserted as they come, cursors advanced only after the rows they
cover are committed, every rejected record counted with its id, and one `sync_runs` row for the run.

A connector is a generator of `Batch`es; it never writes. Killing the process at any point and running
again loses nothing (cursors lag the data) and duplicates nothing (upserts are idempotent).
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import polars as pl

from connectors.common.progress import NoProgress, Progress
from connectors.common.secrets import redact as _redact
from warehouse.engine import Warehouse
from warehouse.runs import audit, finish_run, set_cursor, start_run
from warehouse.write import UpsertCounts, upsert_frames

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rejected:
    """A source record that could not be read: counted and reported, never silently dropped."""

    stream: str
    record_id: str
    reason: str


@dataclass
class Batch:
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    # stream → new cursor value, written only after `frames` are committed.
    cursors: dict[str, str | None] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    # Problems that did not stop the run (a repo that failed, a scope the token lacks).
    warnings: list[str] = field(default_factory=list)
    # Units of progress this batch represents (e.g. items fetched) and a line for the progress bar.
    progress_done: int | None = None
    progress_total: int | None = None
    progress_message: str | None = None


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

    @property
    def rows(self) -> int:
        return sum(c.written for c in self.tables.values())


def failing_batches(exc: Exception) -> Iterator[Batch]:
    """Batches that fail when first asked for: a source that cannot even start (bad config, missing
    token) still gets its failed `sync_runs` row through `run_sync`."""
    raise exc
    yield  # makes this a generator


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


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every shape of every secret masked (see connectors.common.secrets.redact: the one
    redaction everything a connector logs or stores goes through)."""
    return _redact(text, secrets)


def run_sync(
    warehouse: Warehouse,
    source: str,
    batches: Iterator[Batch],
    *,
    secrets: Iterable[str | None] = (),
    progress: Progress | None = None,
    stats: dict[str, int] | None = None,
    actor: str | None = None,
) -> SyncReport:
    """Drain `batches` into the warehouse and record the run. Never raises for a source failure: the
    report says what happened, so the next source still runs."""
    progress = progress or NoProgress()
    secrets = list(secrets)
    report = SyncReport(source=source)
    run_id = start_run(warehouse, source)
    done = 0
    try:
        for batch in batches:
            counts = upsert_frames(warehouse, batch.frames) if batch.frames else {}
            for table, c in counts.items():
                report.tables[table] = report.tables.get(table, UpsertCounts()) + c
            for stream, cursor in batch.cursors.items():
                set_cursor(warehouse, source, stream, cursor)
            report.rejected.extend(Rejected(r.stream, redact(r.record_id, secrets), redact(r.reason, secrets))
                                   for r in batch.rejected)
            report.warnings.extend(redact(w, secrets) for w in batch.warnings)
            if batch.progress_message is not None:
                progress.update(batch.progress_done or 0, batch.progress_total, batch.progress_message)
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
        "tables": {t: vars(c) for t, c in report.tables.items()},
        "rejected": [vars(r) for r in report.rejected[:500]],
        "rejected_count": len(report.rejected),
        "warnings": report.warnings[:100],
        "stats": report.stats,
    }
    finish_run(warehouse, run_id, status=report.status, rows=report.rows, error=report.error, detail=detail)
    audit(warehouse, "sync", {"source": source, "status": report.status, "rows": report.rows,
                              "rejected": len(report.rejected)}, actor=actor)
    return report
