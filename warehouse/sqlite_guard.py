"""One SQLite library at a time per database file, within a process.

Three copies of the SQLite library live in our process: Python's `sqlite3` (SQLAlchemy), the ADBC
driver's (bulk writes) and connectorx's (Arrow reads). SQLite's locks are POSIX advisory locks, which
belong to the process, not to a library: when one copy closes its file descriptor it drops the locks
the other copy holds, and a copy closing "the last connection" deletes the WAL file under the other's
feet ("How To Corrupt An SQLite Database File", §2.2.1). We saw exactly that as "disk I/O error".

So connections of one library may overlap freely, but a different library waits until the file is
closed by the first. Across processes nothing changes: POSIX locks work there as SQLite expects.
"""
from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator

_lock = threading.Condition()
_holders: dict[str, tuple[str, int]] = {}  # path → (library, open connections)
_local = threading.local()


def acquire(path: str, library: str) -> None:
    held = getattr(_local, "held", None)
    if held is None:
        held = _local.held = {}
    mine = held.get(path)
    if mine and mine[0] != library:
        raise RuntimeError(
            f"opening {path} with {library} while this thread holds it open with {mine[0]}: "
            "close one before using the other (two SQLite copies must not share a file)"
        )
    with _lock:
        while path in _holders and _holders[path][0] != library:
            _lock.wait()
        lib, count = _holders.get(path, (library, 0))
        _holders[path] = (lib, count + 1)
    held[path] = (library, (mine[1] if mine else 0) + 1)


def release(path: str, library: str) -> None:
    held = _local.held
    lib, mine = held[path]
    if mine == 1:
        del held[path]
    else:
        held[path] = (lib, mine - 1)
    with _lock:
        lib, count = _holders[path]
        if count == 1:
            del _holders[path]
            _lock.notify_all()
        else:
            _holders[path] = (lib, count - 1)


@contextlib.contextmanager
def using(path: str | None, library: str) -> Iterator[None]:
    """Hold `path` for `library` (a no-op for PostgreSQL, where `path` is None)."""
    if path is None:
        yield
        return
    acquire(path, library)
    try:
        yield
    finally:
        release(path, library)


@functools.cache
def _guarded_null_pool() -> type:
    """SQLAlchemy's NullPool (a connection per checkout, closed at checkin) holding the guard for
    `sqlite3` while a connection is open. Made on first use: the SQLAlchemy-free reader
    (warehouse.readonly) holds the guard without importing SQLAlchemy."""
    from sqlalchemy.pool import NullPool

    class GuardedNullPool(NullPool):
        guard_path: str = ""

        def _do_get(self):
            acquire(self.guard_path, "sqlite3")
            try:
                return super()._do_get()
            except BaseException:
                release(self.guard_path, "sqlite3")
                raise

        def _do_return_conn(self, record):
            try:
                super()._do_return_conn(record)
            finally:
                release(self.guard_path, "sqlite3")

    return GuardedNullPool


def guarded_pool_class(path: str) -> type:
    """The guarded NullPool for the file at `path` (a subclass per file)."""
    base = _guarded_null_pool()
    return type(base.__name__, (base,), {"guard_path": path})
