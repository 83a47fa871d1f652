"""A read-only connection to the warehouse without SQLAlchemy, for commands that only read (`scorecard metrics`).

SQLAlchemy, its dialect and its first-connect queries cost a fresh process 0.1-0.2 s before the first row.
A command that only reads a few tables of a warehouse that is already at this code's schema can skip
them: Python's `sqlite3` or libpq directly (warehouse.libpq; psycopg where no libpq is found), one
connection, one transaction.

The guarantees stay those of `warehouse.engine.open_warehouse` for a reader:
- the schema check: the stored `alembic_version` must be exactly the code's head (`code_head`, read from
  the version files), else `at_head` is False and the caller opens the warehouse the ordinary way, which
  migrates it (or says that a read-only one is behind);
- nothing is written: a SQLite connection runs with `PRAGMA query_only` (whatever the file's permissions),
  a PostgreSQL one in a `READ ONLY` transaction;
- a SQLite file is held for `sqlite3` in this process while open (warehouse.sqlite_guard);
- every read of one connection sees one snapshot (one transaction from the first query to `close`).

`open_read_only` returns None where this path does not apply (a missing SQLite file, a URL it does not
parse as plainly as SQLAlchemy would): the caller then opens the warehouse the ordinary way, which creates,
migrates or explains.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from urllib.parse import urlsplit

import warehouse.sqlite_guard as sqlite_guard

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 60_000  # as warehouse.engine: a reader waits for a writer's lock rather than failing
# Settings of every PostgreSQL connection the product opens (SQLAlchemy's, connectorx's, ADBC's, this
# reader's), after the URL's own `options`. No JIT: the product's queries are index ranges and key lookups
# that run in milliseconds, and PostgreSQL compiles any query whose estimate passes jit_above_cost: 40 ms
# per read of the upkeep's slice with fresh statistics, 15.5 s for a 16 ms read on a table without them.
POSTGRES_OPTIONS = "-c jit=off"


def postgres_options(given: str | None) -> str:
    """libpq's `options` for a connection: those of the URL (`given`) and the product's (POSTGRES_OPTIONS)."""
    return f"{given} {POSTGRES_OPTIONS}" if given else POSTGRES_OPTIONS

_REVISION_LINE = re.compile(r"^(down_revision|revision)(?:\s*:[^=\n]+)?\s*=\s*(None|\"[^\"]*\"|'[^']*')\s*$", re.MULTILINE)


def code_head() -> str | None:
    """The head revision of the migrations in this code, read from the version files without Alembic
    (the one `revision` no file names as its `down_revision`); None when the files do not say it plainly
    (then Alembic decides)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict((name, value.strip("\"'")) for name, value in _REVISION_LINE.findall(path.read_text()))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"] != "None":
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def sqlite_read_only(path: str) -> bool:
    """Whether the SQLite file at `path` exists and is read-only (see `warehouse.engine.Warehouse.read_only`)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


class WarehouseError(RuntimeError):
    """A warehouse that cannot be opened or used; the message never holds a password. (Defined here, beside
    the reader that imports no SQLAlchemy; `warehouse.engine.WarehouseError` is this class.)"""


class ReadOnlyConnection:
    """One read-only connection and its one transaction (see the module's docstring). `rows` runs SQL made
    by this code, never from user input; PostgreSQL returns `bytea` in binary (no hex text)."""

    def __init__(self, dialect: str, connection, sqlite_path: str | None = None):
        self.dialect = dialect
        self.sqlite_path = sqlite_path
        self._connection = connection
        self._closed = False

    @property
    def read_only(self) -> bool:
        """Whether the warehouse itself is read-only (as `Warehouse.read_only`): the commands then write no
        config-version record either."""
        return self.sqlite_path is not None and sqlite_read_only(self.sqlite_path)

    def rows(self, sql: str, *, bytea_in_place: bool = False) -> list[tuple]:
        """The statement's rows; with `bytea_in_place`, a blob may come as a buffer over the driver's own
        memory rather than `bytes` (libpq's result: warehouse.libpq), for readers that take either."""
        if self.dialect == "sqlite":
            return self._connection.execute(sql).fetchall()
        return self._connection.rows(sql, bytea_in_place=bytea_in_place)

    def at_head(self) -> bool:
        """Whether the stored schema revision is exactly the code's head (warehouse.engine's check, one
        query): anything else — no such table, several rows, another revision — is False."""
        head = code_head()
        if head is None:
            return False
        try:
            return [tuple(r) for r in self.rows("SELECT version_num FROM alembic_version")] == [(head,)]
        except self._errors():
            self._restart()
            return False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self.dialect == "sqlite":
                try:
                    self._connection.execute("ROLLBACK")  # a read transaction: nothing to keep
                finally:
                    self._connection.close()
            else:
                self._connection.close()
        finally:
            if self.sqlite_path is not None:
                sqlite_guard.release(self.sqlite_path, "sqlite3")

    def __enter__(self) -> ReadOnlyConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _errors(self) -> tuple[type[BaseException], ...]:
        if self.dialect == "sqlite":
            import sqlite3

            return (sqlite3.DatabaseError,)
        return self._connection.errors

    def _restart(self) -> None:
        """A new transaction after a failed statement (PostgreSQL refuses every later one in the old)."""
        if self.dialect == "postgresql":
            self._connection.rows("ROLLBACK")
            self._connection.rows(START_READ_ONLY)


def open_read_only(url: str, *, base_dir: str | Path | None = None) -> ReadOnlyConnection | None:
    """A read-only connection to the warehouse at `url` (a SQLite path resolved as `open_warehouse` resolves
    it), or None where this path does not apply: then open it with `warehouse.engine.open_warehouse`.
    Failing to connect to PostgreSQL raises `WarehouseError` with the message `open_warehouse` gives."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        return _open_sqlite(rest, base_dir)
    if scheme in ("postgresql", "postgresql+psycopg"):
        return _open_postgresql(url, rest)
    return None


def _open_sqlite(rest: str, base_dir: str | Path | None) -> ReadOnlyConnection | None:
    # SQLAlchemy's sqlite:///<path>: a plain path only (query options, percent-escapes, :memory: and
    # file: URIs go the ordinary way, which handles or refuses them).
    if not rest.startswith("/") or any(c in rest for c in "?%#"):
        return None
    database = rest[1:]
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    if not path.is_absolute():
        path = Path(base_dir or Path.cwd()) / path
    path = path.resolve()
    if not path.is_file():
        return None  # a new warehouse: the ordinary open creates it
    import sqlite3

    sqlite_guard.acquire(str(path), "sqlite3")
    try:
        # Opened read-write as the engine opens it (a read-only open cannot use the WAL's shared memory
        # when no writer made it), but every statement refused that would write.
        connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                     check_same_thread=False)
        try:
            connection.execute("PRAGMA query_only=ON")
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # Memory-mapped, as warehouse.cube_store.read_cube_parts reads the cube: its chunks are chains of
            # scattered 4 KB pages, which from a file out of the page cache SQLite would fetch one read at a time.
            connection.execute("PRAGMA mmap_size = 2147483648")
            connection.execute("BEGIN")  # deferred: one snapshot from the first read on
        except BaseException:
            connection.close()
            raise
    except sqlite3.Error:
        sqlite_guard.release(str(path), "sqlite3")
        return None  # the ordinary open reports it, in its words
    except BaseException:
        sqlite_guard.release(str(path), "sqlite3")
        raise
    return ReadOnlyConnection("sqlite", connection, str(path))


def _open_postgresql(url: str, rest: str) -> ReadOnlyConnection | None:
    try:
        if urlsplit(url).fragment:
            return None
        urlsplit(url).port  # noqa: B018 - raises on a malformed port: SQLAlchemy's parser says so in its words
    except ValueError:
        return None
    connection = _connect_libpq("postgresql://" + rest) or _connect_psycopg(url, rest)
    try:
        # Explicit, on an autocommit connection: no implicit BEGIN round trip before it.
        connection.rows(START_READ_ONLY)
    except BaseException:
        connection.close()
        raise
    return ReadOnlyConnection("postgresql", connection)


START_READ_ONLY = "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"


def _connect_libpq(url: str):
    """A connection through libpq itself (warehouse.libpq: no psycopg to import), or None where libpq is not
    found, does not parse the URL or cannot connect: psycopg then connects, or says why in its words."""
    from warehouse import libpq

    lib = libpq.load()
    if lib is None:
        return None
    parsed, given = libpq.url_options(lib, url)
    if not parsed:
        return None
    return libpq.connect(lib, url, postgres_options(given))


class _Psycopg:
    """A psycopg connection as the reader uses one: `rows(sql)`, `errors`, `close()`."""

    def __init__(self, connection):
        import psycopg

        self._connection = connection
        self.errors = (psycopg.DatabaseError,)

    def rows(self, sql: str, *, bytea_in_place: bool = False) -> list[tuple]:
        cursor = self._connection.execute(sql, binary=True)
        return cursor.fetchall() if cursor.description is not None else []

    def close(self) -> None:
        self._connection.close()


def _connect_psycopg(url: str, rest: str) -> _Psycopg:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        # libpq parses the URL as SQLAlchemy does (user, password, host, port, database, ?options) and
        # hands the same parameters to the server.
        given = conninfo_to_dict("postgresql://" + rest).get("options")
        connection = psycopg.connect("postgresql://" + rest, autocommit=True, options=postgres_options(given))
    except psycopg.Error as exc:
        from warehouse.engine import display_url  # SQLAlchemy renders the URL as `open_warehouse` does

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown error"
        raise WarehouseError(f"cannot open the warehouse at {display_url(url)}: {first}") from None
    return _Psycopg(connection)
