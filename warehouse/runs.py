"""Bookkeeping: one `sync_runs` row per run, cursors in `sync_state`, and the `audit_log`."""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import getpass
import json
from typing import Any

import sqlalchemy as sa

from warehouse.engine import Warehouse
from warehouse.schema import audit_log, sync_runs, sync_state


# The clock the bookkeeping reads: the wall clock, or a scheduler's (a test's fake clock), see `clock`.
_CLOCK: contextvars.ContextVar = contextvars.ContextVar("runs_clock", default=None)


def utcnow() -> dt.datetime:
    now = _CLOCK.get()
    return now() if now is not None else dt.datetime.now(dt.timezone.utc)


@contextlib.contextmanager
def clock(now):
    """Sync runs and cursors written inside this block are stamped with `now()` (a scheduler's clock)."""
    token = _CLOCK.set(now)
    try:
        yield
    finally:
        _CLOCK.reset(token)


# Who is acting, when a front door knows better than the OS user (the dashboard's signed-in user).
_ACTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_actor", default=None)


@contextlib.contextmanager
def acting_as(actor: str):
    """Audit rows written inside this block (syncs, imports) name `actor` unless given one."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def default_actor() -> str:
    if _ACTOR.get():
        return _ACTOR.get()
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def start_run(warehouse: Warehouse, source: str) -> int:
    with warehouse.engine.begin() as conn:
        result = conn.execute(
            sync_runs.insert().values(source=source, started_at=utcnow(), status="running", rows=0)
        )
        return result.inserted_primary_key[0]


def finish_run(
    warehouse: Warehouse,
    run_id: int,
    *,
    status: str,
    rows: int,
    error: str | None = None,
    detail: dict[str, Any] | None = None,
    audited: tuple[str, dict[str, Any], str | None] | None = None,
) -> None:
    """Record the run's end; `audited` (action, detail, actor), as `audit` writes it, in the same transaction:
    a run's last two bookkeeping rows cost one connection and one commit, not two (a small import's)."""
    with warehouse.engine.begin() as conn:
        conn.execute(
            sync_runs.update()
            .where(sync_runs.c.id == run_id)
            .values(
                finished_at=utcnow(),
                status=status,
                rows=rows,
                error=error,
                detail=json.dumps(detail, default=str) if detail is not None else None,
            )
        )
        if audited is not None:
            _audit_row(conn, *audited)


def close_abandoned_runs(warehouse: Warehouse, source: str) -> int:
    """Mark `source`'s runs still `running` as failed: call it holding the source's lease, when no run of
    it can be alive (its process was killed). Returns how many."""
    with warehouse.engine.begin() as conn:
        return conn.execute(
            sync_runs.update()
            .where(sync_runs.c.source == source, sync_runs.c.status == "running")
            .values(status="failed", finished_at=utcnow(),
                    error="abandoned: its process ended before the run finished (killed?); "
                          "the committed batches stay, the next run resumes from the saved cursors")
        ).rowcount


def audit(warehouse: Warehouse, action: str, detail: dict[str, Any], actor: str | None = None) -> None:
    with warehouse.engine.begin() as conn:
        _audit_row(conn, action, detail, actor)


def _audit_row(conn, action: str, detail: dict[str, Any], actor: str | None) -> None:
    conn.execute(
        audit_log.insert().values(
            ts=utcnow(), actor=actor or default_actor(), action=action, detail=json.dumps(detail, default=str)
        )
    )


def get_cursor(warehouse: Warehouse, source: str, stream: str) -> str | None:
    with warehouse.engine.connect() as conn:
        return conn.execute(
            sa.select(sync_state.c.cursor).where(sync_state.c.source == source, sync_state.c.stream == stream)
        ).scalar_one_or_none()


def cursors_of(warehouse: Warehouse, source: str) -> dict[str, str | None]:
    """Every cursor `source`'s last runs saved (stream → cursor): what a connector is handed."""
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(sync_state.c.stream, sync_state.c.cursor).where(sync_state.c.source == source))
        return {stream: cursor for stream, cursor in rows}


def set_cursor(warehouse: Warehouse, source: str, stream: str, cursor: str | None) -> None:
    """Advance a cursor; call it only after the rows it covers are committed."""
    with warehouse.engine.begin() as conn:
        updated = conn.execute(
            sync_state.update()
            .where(sync_state.c.source == source, sync_state.c.stream == stream)
            .values(cursor=cursor, updated_at=utcnow())
        ).rowcount
        if not updated:
            conn.execute(sync_state.insert().values(source=source, stream=stream, cursor=cursor, updated_at=utcnow()))


def clear_cursors(warehouse: Warehouse, source: str) -> None:
    with warehouse.engine.begin() as conn:
        conn.execute(sync_state.delete().where(sync_state.c.source == source))


def last_runs(warehouse: Warehouse) -> list[dict[str, Any]]:
    """The latest run per source and the latest successful one: the dashboard's freshness line."""
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(sync_runs).order_by(sync_runs.c.id)).mappings().all()
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = latest.setdefault(row["source"], {"source": row["source"], "last_success": None})
        entry["last_run"] = dict(row)
        if row["status"] in ("success", "partial"):
            entry["last_success"] = row["finished_at"]
    return list(latest.values())
