"""One writer per source: a lease that two schedulers, a cron job and the dashboard's "Sync now" take
before syncing a source, so they never sync the same source at once.

- PostgreSQL: a session-level advisory lock on a connection held for the whole sync. The server drops
  it when the holder's connection ends, so a killed process never leaves a source locked. The key is
  made from the schema and the source, so two warehouses in one database do not block each other.
- SQLite: the `sync_leases` row is the lease, taken in a `BEGIN IMMEDIATE` transaction (one writer at a
  time), with an expiry that a heartbeat thread pushes forward while the sync runs. A killed holder's
  lease lapses after `ttl` seconds; a holder whose heartbeat finds the row taken over has lost it
  (`Lease.lost`), and the sync stops after the batch it is writing.

On both, the row says who holds the lease, for the message the second comer shows.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from warehouse.engine import Warehouse
from warehouse.schema import sync_leases

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 120.0
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Holder:
    """Who holds a source's lease (as its row says), and since when."""

    source: str
    holder: str
    acquired_at: dt.datetime | None

    def describe(self) -> str:
        since = f" since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC" if self.acquired_at else ""
        return f"{self.source} is being synced by {self.holder}{since}"


class LeaseHeld(RuntimeError):
    """Another process holds the source's lease (and did not let go within the wait)."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(holder.describe())
        self.holder = holder


@dataclass
class Lease:
    source: str
    token: str
    lost: threading.Event = field(default_factory=threading.Event)


def describe_self(role: str) -> str:
    """'scorecard schedule on build-7 (pid 4242)': how a holder is named to the second comer."""
    return f"{role} on {socket.gethostname()} (pid {os.getpid()})"


def _utcnow() -> dt.datetime:
    # Wall-clock time even under a scheduler's fake clock: expiry is about processes being alive.
    return dt.datetime.now(dt.timezone.utc)


@contextlib.contextmanager
def source_lease(warehouse: Warehouse, source: str, *, holder: str, ttl: float = DEFAULT_TTL_SECONDS,
                 wait: float = 0.0, on_wait: Callable[[Holder], None] | None = None) -> Iterator[Lease]:
    """Hold `source`'s lease for the block. Waits up to `wait` seconds for another holder to finish
    (`on_wait` is told who once), then raises `LeaseHeld` naming them."""
    token = uuid.uuid4().hex
    backend = _PostgresLease(warehouse) if warehouse.dialect == "postgresql" else _SqliteLease(warehouse, ttl)
    deadline = time.monotonic() + wait
    told = False
    while True:
        other = backend.try_acquire(source, token, holder)
        if other is None:
            break
        if time.monotonic() >= deadline:
            raise LeaseHeld(other)
        if on_wait and not told:
            on_wait(other)
            told = True
        time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    lease = Lease(source, token)
    try:
        backend.hold(lease)
        yield lease
    finally:
        backend.release(lease)


def current_holders(warehouse: Warehouse) -> dict[str, Holder]:
    """The leases held now, by source (for `scorecard status`): on SQLite the unexpired rows, on PostgreSQL
    the rows whose advisory lock is still taken."""
    now = _utcnow()
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(sync_leases)).mappings().all()
    if warehouse.dialect == "postgresql":
        held = {row["source"]: row for row in rows if _PostgresLease(warehouse).is_locked(row["source"])}
    else:
        held = {row["source"]: row for row in rows if row["expires_at"] > now}
    return {s: Holder(s, r["holder"], r["acquired_at"]) for s, r in held.items()}


def _write_row(conn, source: str, token: str, holder: str, expires_at: dt.datetime) -> None:
    conn.execute(sync_leases.delete().where(sync_leases.c.source == source))
    conn.execute(sync_leases.insert().values(source=source, token=token, holder=holder, acquired_at=_utcnow(),
                                             expires_at=expires_at))


def _holder_of(conn, source: str) -> Holder:
    row = conn.execute(sa.select(sync_leases).where(sync_leases.c.source == source)).mappings().first()
    if row is None:  # between another holder's lock and its row: nothing to name yet
        return Holder(source, "another process", None)
    return Holder(source, row["holder"], row["acquired_at"])


class _SqliteLease:
    def __init__(self, warehouse: Warehouse, ttl: float) -> None:
        self.warehouse = warehouse
        self.ttl = ttl
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_acquire(self, source: str, token: str, holder: str) -> Holder | None:
        now = _utcnow()
        # BEGIN IMMEDIATE: the read and the write below are one step for every other process.
        with self.warehouse.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
            row = conn.execute(sa.select(sync_leases).where(sync_leases.c.source == source)).mappings().first()
            if row is not None and row["expires_at"] > now:
                return Holder(source, row["holder"], row["acquired_at"])
            if row is not None:
                log.warning("the lease of %s held by %s lapsed (no heartbeat since %s): taking it over",
                            source, row["holder"], row["expires_at"] - dt.timedelta(seconds=self.ttl))
            _write_row(conn, source, token, holder, now + dt.timedelta(seconds=self.ttl))
        return None

    def hold(self, lease: Lease) -> None:
        self._thread = threading.Thread(target=self._heartbeat, args=(lease,), daemon=True,
                                        name=f"lease-{lease.source}")
        self._thread.start()

    def _heartbeat(self, lease: Lease) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                with self.warehouse.engine.begin() as conn:
                    renewed = conn.execute(
                        sync_leases.update()
                        .where(sync_leases.c.source == lease.source, sync_leases.c.token == lease.token)
                        .values(expires_at=_utcnow() + dt.timedelta(seconds=self.ttl))
                    ).rowcount
            except sa.exc.DBAPIError as exc:  # a busy file: try again at the next beat, well before expiry
                log.warning("could not renew the lease of %s: %s", lease.source, exc.orig)
                continue
            if not renewed:
                log.error("the lease of %s was taken over by another process: stopping after this batch",
                          lease.source)
                lease.lost.set()
                return

    def release(self, lease: Lease) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.warehouse.engine.begin() as conn:
            conn.execute(sync_leases.delete().where(sync_leases.c.source == lease.source,
                                                    sync_leases.c.token == lease.token))


class _PostgresLease:
    # The advisory lock lives in the session of this connection, kept out of any transaction.
    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._conn: sa.Connection | None = None
        self._key: int | None = None

    def _lock_key(self, conn, source: str) -> int:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        digest = hashlib.blake2b(f"scorecard sync lease|{schema}|{source}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def try_acquire(self, source: str, token: str, holder: str) -> Holder | None:
        conn = self.warehouse.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            key = self._lock_key(conn, source)
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
                other = _holder_of(conn, source)
                conn.close()
                return other
            # The lock never expires while the connection lives: the row's expiry is only informative.
            _write_row(conn, source, token, holder, _utcnow() + dt.timedelta(days=3650))
        except BaseException:
            conn.invalidate()  # never hand a pooled connection that may hold the lock to someone else
            conn.close()
            raise
        self._conn, self._key = conn, key
        return None

    def hold(self, lease: Lease) -> None:
        pass

    def release(self, lease: Lease) -> None:
        conn, self._conn = self._conn, None
        try:
            conn.execute(sync_leases.delete().where(sync_leases.c.source == lease.source,
                                                    sync_leases.c.token == lease.token))
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            conn.close()
        except sa.exc.DBAPIError as exc:
            # The server ends the lock with the session: closing it for good releases the source.
            log.warning("could not release the lease of %s cleanly (%s); closing its connection", lease.source, exc.orig)
            conn.invalidate()
            conn.close()

    def is_locked(self, source: str) -> bool:
        with self.warehouse.engine.connect() as conn:
            key = self._lock_key(conn, source)
            hi, lo = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND classid = CAST(:hi AS bigint)::oid AND objid = CAST(:lo AS bigint)::oid AND objsubid = 1"
            ), {"hi": hi, "lo": lo}).scalar_one())
