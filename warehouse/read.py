"""Reading tables into polars through connectorx (Arrow-native, never row by row)."""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from urllib.parse import quote

import polars as pl
import sqlalchemy as sa

import warehouse.sqlite_guard as sqlite_guard
from warehouse.engine import Warehouse, WarehouseError
from warehouse.schema import EPOCH, EPOCH_DAY, TABLES, Day, sync_runs
from warehouse.types import from_storage, polars_schema


def _cx_uri(warehouse: Warehouse) -> str:
    if warehouse.dialect == "sqlite":
        return "sqlite://" + quote(warehouse.arrow_uri())
    return warehouse.arrow_uri()


# The PostgreSQL connection `one_connection` opened for the reads of this context: (its URI, its ADBC cursor,
# the side reader of `read_where_ahead`).
_shared: contextvars.ContextVar[tuple[str, object, _SideReader] | None] = contextvars.ContextVar("shared_read", default=None)


@contextlib.contextmanager
def one_connection(warehouse: Warehouse) -> Iterator[None]:
    """The reads of `warehouse` in this block (`read_arrow`, `read_where`, `read_table`) share one connection
    and one snapshot, on PostgreSQL: an ADBC connection in a read-only REPEATABLE READ transaction. Each
    connectorx read opens a connection of its own (a new server process: 35-40 ms of wall time per read
    at load 9-12, 2-3 ms on the open connection), and the upkeep's slice takes ~20 of them. On SQLite
    nothing changes (connectorx opens the file, no server)."""
    uri = warehouse.arrow_uri() if warehouse.dialect == "postgresql" else None
    active = _shared.get()
    if uri is None or (active is not None and active[0] == uri):
        yield
        return
    from warehouse.write import postgres_connection  # as the writes: no pandas through pyarrow.dataset

    try:
        conn = postgres_connection(uri)
    except Exception as exc:
        raise WarehouseError(f"cannot open the warehouse at {warehouse.display_url}: {_clean(exc, warehouse)}") from None
    try:
        cur = conn.cursor()
        try:
            cur.execute(BEGIN_READ)
            side = _SideReader(uri, cur)
            token = _shared.set((uri, cur, side))
            try:
                yield
            finally:
                _shared.reset(token)
                side.close()  # before the ROLLBACK: its transaction imported this one's snapshot
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
        finally:
            cur.close()
    finally:
        conn.close()


BEGIN_READ = "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"


class _SideReader:
    """A second connection for `read_where_ahead`, with a thread of its own, reading in the snapshot of
    `one_connection`'s transaction (exported: `pg_export_snapshot`), so that what it reads is what that
    connection would read. Opened on the first read asked of it; its reads run one after another, in the
    order asked. Where the snapshot cannot be exported, each read runs on `one_connection`'s own cursor
    when its result is asked for."""

    def __init__(self, uri: str, cur) -> None:
        self._uri, self._cur = uri, cur
        self._thread: threading.Thread | None = None
        self._asked: list = []  # (sql, done event, [arrow table or exception]) waiting for the thread
        self._more = threading.Condition()
        self._closing = False
        self._snapshot: str | None = None
        self._usable = True
        self.read = False  # whether `one_connection`'s cursor has read in this transaction

    def submit(self, sql: str) -> Callable[[], object]:
        """Start reading `sql`; returns the function that waits for its Arrow table (or raises its error)."""
        if self._usable and self._thread is None:
            self._snapshot = self._export()
            if self._snapshot is None:
                self._usable = False
            else:
                self._thread = threading.Thread(target=self._run, name="side-read", daemon=True)
                self._thread.start()
        if not self._usable:
            return lambda: _fetched(self._cur, sql)
        done, box = threading.Event(), []
        with self._more:
            self._asked.append((sql, done, box))
            self._more.notify()

        def result():
            done.wait()
            if isinstance(box[0], _Unopened):  # no second connection (the server's limit, say): read here
                return _fetched(self._cur, sql)
            if isinstance(box[0], BaseException):
                raise box[0]
            return box[0]
        return result

    def _export(self) -> str | None:
        """The snapshot's name, or None where it cannot be exported. (Not in a savepoint: PostgreSQL exports
        no snapshot from a subtransaction.) A failed export ends the transaction: it is begun again when
        nothing was read in it yet, else the error stands."""
        try:
            self._cur.execute("SELECT pg_export_snapshot()")
            return self._cur.fetchone()[0]
        except Exception:
            if self.read:
                raise
            self._cur.execute("ROLLBACK")
            self._cur.execute(BEGIN_READ)
            return None

    def _run(self) -> None:
        conn = cur = None
        try:
            from warehouse.write import postgres_connection

            conn = postgres_connection(self._uri)
            cur = conn.cursor()
            cur.execute(BEGIN_READ)
            cur.execute(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
            opened: BaseException | None = None
        except Exception as exc:  # every read asked of it is read on the first connection
            opened = _Unopened(exc)
        try:
            while True:
                with self._more:
                    while not self._asked and not self._closing:
                        self._more.wait()
                    if not self._asked:
                        return
                    sql, done, box = self._asked.pop(0)
                try:
                    box.append(opened if opened is not None else _fetched(cur, sql))
                except BaseException as exc:
                    box.append(exc)
                done.set()
        finally:
            if cur is not None:
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
                with contextlib.suppress(Exception):
                    cur.close()
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def close(self) -> None:
        """Finish the reads asked, then close the connection (before the exporting transaction ends)."""
        if self._thread is None:
            return
        with self._more:
            self._closing = True
            self._more.notify()
        self._thread.join()


class _Unopened(Exception):
    """The side reader's connection could not be opened or set to the snapshot."""


def _fetched(cur, sql: str):
    cur.execute(sql)
    return cur.fetch_arrow_table()


# The counting time of each evidence table: what `since` / `until` filter on (DESIGN.md "Time").
COUNTING_TIME = {
    "pull_requests": "merged_at", "deployments": "finished_at", "incidents": "resolved_at",
    "tickets": "resolved_at", "ai_spend": "date", "reviews": "submitted_at",
}


def read_table(warehouse: Warehouse, name: str, columns: list[str] | None = None, *,
               since: dt.datetime | None = None, until: dt.datetime | None = None) -> pl.DataFrame:
    """The whole table (or the named columns) as a polars frame in the schema's types; `since` / `until`
    keep the rows whose counting time (`COUNTING_TIME`) lies in [since, until), filtered in SQL."""
    conditions = []
    if since is not None or until is not None:
        if name not in COUNTING_TIME:
            raise WarehouseError(f"table '{name}' has no counting time to filter by")
        column = _quote(COUNTING_TIME[name])
        if since is not None:
            conditions.append(f"{column} >= {instant_literal(warehouse.dialect, since, TABLES[name].c[COUNTING_TIME[name]])}")
        if until is not None:
            conditions.append(f"{column} < {instant_literal(warehouse.dialect, until, TABLES[name].c[COUNTING_TIME[name]])}")
    return read_where(warehouse, name, columns, " AND ".join(conditions) or None)


def read_where(warehouse: Warehouse, name: str, columns: list[str] | None, where: str | None, *,
               sqlite_index: str | None = None) -> pl.DataFrame:
    """`read_table` with a SQL condition made by this package (warehouse/slice.py), never from user input.
    `sqlite_index`: on SQLite, read through that index (`INDEXED BY`: SQLite keeps no statistics here, and may
    prefer another index the condition can use)."""
    return _frame(warehouse, name, read_arrow(warehouse, name, columns, where, sqlite_index=sqlite_index))


def read_where_ahead(warehouse: Warehouse, name: str, columns: list[str] | None,
                     where: str | None) -> Callable[[], pl.DataFrame]:
    """`read_where`, begun now; the returned function gives its frame. On PostgreSQL inside `one_connection`
    the read runs on a second connection in the same snapshot, on a thread: the server reads it while this
    thread goes on with other reads and work. Elsewhere it is read now."""
    shared = _shared.get()
    if shared is None or warehouse.dialect != "postgresql" or shared[0] != warehouse.arrow_uri():
        frame = read_where(warehouse, name, columns, where)
        return lambda: frame
    waiting = shared[2].submit(_select(name, columns, where))
    made: list[pl.DataFrame] = []

    def result() -> pl.DataFrame:
        if not made:
            try:
                arrow = waiting()
            except Exception as exc:
                raise WarehouseError(f"reading {name} from {warehouse.display_url} failed: {_clean(exc, warehouse)}") from None
            made.append(_frame(warehouse, name, arrow))
        return made[0]
    return result


def _frame(warehouse: Warehouse, name: str, arrow) -> pl.DataFrame:
    frame = pl.from_arrow(arrow)
    if frame.height == 0:
        return pl.DataFrame(schema=polars_schema(TABLES[name], frame.columns))
    return from_storage(frame, TABLES[name], warehouse.dialect)


def _select(name: str, columns: list[str] | None, where: str | None, indexed_by: str | None = None) -> str:
    if name not in TABLES:
        raise WarehouseError(f"unknown table '{name}'; known: {', '.join(TABLES)}")
    table = TABLES[name]
    names = columns or [c.name for c in table.columns]
    unknown = [c for c in names if c not in table.c]
    if unknown:
        raise WarehouseError(f"table '{name}' has no column '{unknown[0]}'")
    # Names come from the schema, never from user input.
    hint = f" INDEXED BY {_quote(indexed_by)}" if indexed_by else ""
    return f"SELECT {', '.join(_quote(c) for c in names)} FROM {_quote(name)}{hint}" + (f" WHERE {where}" if where else "")


def read_arrow(warehouse: Warehouse, name: str, columns: list[str] | None, where: str | None, *,
               sqlite_index: str | None = None) -> pa.Table:
    """The rows as connectorx gives them, in storage types (no conversion: for columns read as they are
    stored, such as the cube's IPC chunks); `where` and `sqlite_index` as in `read_where`."""
    sql = _select(name, columns, where, sqlite_index if warehouse.dialect == "sqlite" else None)
    shared = _shared.get()
    try:
        if shared is not None and warehouse.dialect == "postgresql" and shared[0] == warehouse.arrow_uri():
            shared[2].read = True
            shared[1].execute(sql)
            return shared[1].fetch_arrow_table()
        import connectorx as cx  # here, not at the top: connectorx and pyarrow take 0.1-0.2 s to import, which
        # commands that read only the stored cube (scorecard metrics) do not need.

        with sqlite_guard.using(warehouse.sqlite_path, "connectorx"):
            arrow = cx.read_sql(_cx_uri(warehouse), sql, return_type="arrow")
    except Exception as exc:  # connectorx raises bare RuntimeErrors, ADBC its own
        raise WarehouseError(f"reading {name} from {warehouse.display_url} failed: {_clean(exc, warehouse)}") from None
    return arrow


def instant_literal(dialect: str, instant: dt.datetime, column) -> str:
    """An aware datetime as a SQL literal comparable with `column` (a time or, by its day, a date)."""
    if isinstance(column.type, Day):
        day = instant.astimezone(dt.timezone.utc).date()
        return str((day - EPOCH_DAY).days) if dialect == "sqlite" else f"DATE '{day.isoformat()}'"
    instant = instant.astimezone(dt.timezone.utc)
    if dialect == "sqlite":
        delta = instant - EPOCH
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    return f"TIMESTAMPTZ '{instant.isoformat()}'"


def text_literal(value: str) -> str:
    """A string as an SQL literal (quotes doubled), for values inlined into generated SQL."""
    return "'" + value.replace("'", "''") + "'"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _clean(exc: Exception, warehouse: Warehouse) -> str:
    text = str(exc)
    password = warehouse.url.password
    return text.replace(password, "***") if password else text


def data_version(warehouse: Warehouse) -> str:
    """Changes whenever a sync, import or demo seed finishes: the key of every cache over the data."""
    with warehouse.engine.connect() as conn:
        count, last_id, last_finished = conn.execute(
            sa.select(sa.func.count(), sa.func.max(sync_runs.c.id), sa.func.max(sync_runs.c.finished_at))
        ).one()
    return f"{count}:{last_id}:{last_finished}"
