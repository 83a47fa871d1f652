"""Opening the warehouse: SQLite (WAL) by default, PostgreSQL by URL; migrations run on first use."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

# The schema head, the read-only test and the busy timeout live with the SQLAlchemy-free reader.
# BUSY_TIMEOUT_MS: how long a writer waits for another process's write lock before giving up (SQLite).
from warehouse.readonly import (  # noqa: F401
    BUSY_TIMEOUT_MS, MIGRATIONS_DIR, WarehouseError, code_head, postgres_options, sqlite_read_only,
)
from warehouse.sqlite_guard import guarded_pool_class

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Warehouse:
    """An open warehouse: the SQLAlchemy engine plus the URIs of the Arrow-native reader and writer."""

    url: URL
    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> str | None:
        return self.url.database if self.dialect == "sqlite" else None

    @property
    def read_only(self) -> bool:
        """A SQLite file this process may not write, or whose owner took every write permission away
        (`chmod a-w`: root may still write it, but must not). Its connections refuse writes (PRAGMA
        query_only), and the commands that only read never try one (no config-version record, no
        migration, no cube upkeep). A PostgreSQL warehouse is never read-only here: its roles decide."""
        return self.dialect == "sqlite" and sqlite_read_only(self.url.database)

    def arrow_uri(self) -> str:
        """The URI connectorx and ADBC take: plain `postgresql://` or a SQLite file path."""
        if self.dialect == "sqlite":
            return self.url.database
        return postgres_arrow_uri(self.url)


def postgres_arrow_uri(url: URL) -> str:
    """`Warehouse.arrow_uri` of a PostgreSQL warehouse at `url`."""
    # `options` spelt out here: SQLAlchemy writes a space in a query value as "+", which libpq keeps.
    plain = url.set(drivername="postgresql").difference_update_query(["options"])
    options = quote(postgres_options(url.query.get("options")), safe="")
    return plain.render_as_string(hide_password=False) + ("&" if plain.query else "?") + f"options={options}"


_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def open_warehouse(url: str, *, base_dir: str | Path | None = None, migrate: bool = True) -> Warehouse:
    """Open (and create or upgrade) the warehouse at `url`.

    A relative SQLite path resolves against `base_dir` (the config file's folder), else the working
    directory; its folder is created.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise WarehouseError(f"warehouse url is not a database URL: {_redact(url)}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = _sqlite_url(parsed, base_dir)
        engine = _sqlite_engine(parsed)
    elif backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(parsed, pool_pre_ping=True,
                                  connect_args={"options": postgres_options(parsed.query.get("options"))})
    else:
        raise WarehouseError(
            f"unsupported warehouse '{backend}' in {parsed.render_as_string(hide_password=True)}: "
            "use sqlite:///path/to/file.db or postgresql://user@host/db"
        )
    warehouse = Warehouse(url=parsed, engine=engine)
    if migrate:
        migrate_to_head(warehouse)
    return warehouse


def display_url(url: str) -> str:
    """The URL as `Warehouse.display_url` shows the warehouse opened from it (password hidden)."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        return _redact(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=True)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _sqlite_url(url: URL, base_dir: str | Path | None) -> URL:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise WarehouseError(
            "the SQLite warehouse must be a file (the dashboard reads it while syncs write it): "
            "use sqlite:///data/scorecard.db"
        )
    path = Path(database)
    if not path.is_absolute():
        path = Path(base_dir or Path.cwd()) / path
    path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(
            f"cannot create the folder of the SQLite warehouse {path}: {exc.strerror or type(exc).__name__}"
            f" ({exc.filename or path.parent})"
        ) from None
    if path.exists() and not path.is_file():
        raise WarehouseError(f"the SQLite warehouse {path} is not a regular file")
    return url.set(drivername="sqlite", database=str(path))


def _sqlite_engine(url: URL) -> Engine:
    # A connection per use, closed after it (see warehouse.sqlite_guard for why no connection may
    # linger while another SQLite library reads or writes the file).
    engine = sa.create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        poolclass=guarded_pool_class(url.database),
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling skips BEGIN before DDL; take control of it (the
        # SQLAlchemy-documented recipe) so that migrations and writes are real transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        set_wal(cursor)  # readers keep reading while a sync writes
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses no committed data
        if sqlite_read_only(url.database):
            cursor.execute("PRAGMA query_only=ON")  # any write fails here rather than changing the file
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def set_wal(cursor, timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> None:
    """`PRAGMA journal_mode=WAL` on a new connection, tried again while the file is locked (up to `timeout_s`).
    Two processes opening a new warehouse file at once (two schedulers started together) can each hold a shared
    lock while asking for the exclusive one the change of journal mode needs: SQLite then fails one of them at
    once with "database is locked" rather than waiting (a deadlock, so no busy wait). The other finishes the
    change and lets go; the pragma is idempotent, so the one that failed asks again."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _stored_revision_is(warehouse: Warehouse, head: str | None) -> bool:
    """Whether the warehouse's alembic_version holds exactly `head` (one cheap query, no Alembic import).
    Any doubt (no such table yet, several rows) is False: Alembic then looks. A warehouse that cannot be
    reached at all fails here, with the message `migrate_to_head` gives."""
    if head is None:
        return False
    try:
        connection = warehouse.engine.connect()
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(f"cannot open the warehouse at {warehouse.display_url}: {_first_line(exc.orig)}") from None
    with connection:
        try:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
        except sa.exc.DBAPIError:
            return False
    return [tuple(r) for r in rows] == [(head,)]


def migrate_to_head(warehouse: Warehouse) -> None:
    """Apply pending Alembic migrations; safe when several processes start at once.

    Alembic (0.1-0.2 s to import and read its scripts) loads only when the stored revision is not the
    code's head: a warehouse already at head costs one query per process."""
    key = warehouse.url.render_as_string(hide_password=False)
    with _migrate_lock:
        if key in _migrated:
            return
        if _stored_revision_is(warehouse, code_head()):
            _migrated.add(key)
            return
        # Alembic (slow to import) only when the warehouse is behind the code's head.
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        try:
            with warehouse.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
            if current != head and warehouse.read_only:
                raise WarehouseError(
                    f"the warehouse at {warehouse.display_url} is read-only and at schema revision {current}, not "
                    f"this version's {head}: upgrade a writable copy of it first (any command on it migrates it)"
                )
            if current != head:
                options = {"sqlite_immediate": True} if warehouse.dialect == "sqlite" else {}
                with warehouse.engine.connect().execution_options(**options) as conn:
                    with conn.begin():
                        if warehouse.dialect == "postgresql":
                            # One migrator at a time; the others wait, then find nothing to do.
                            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7413901)"))
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                log.info("warehouse %s migrated to %s", warehouse.display_url, head)
        except sa.exc.DBAPIError as exc:
            raise WarehouseError(
                f"cannot open the warehouse at {warehouse.display_url}: {_first_line(exc.orig)}"
            ) from None
        _migrated.add(key)


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc else "unknown error"
