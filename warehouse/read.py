"""Reading tables into polars through connectorx (Arrow-native, never row by row)."""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
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


# The PostgreSQL connection `one_connection` opened for the reads of this context: (its URI, its ADBC cursor).
_shared: contextvars.ContextVar[tuple[str, object] | None] = contextvars.ContextVar("shared_read", default=None)


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
            cur.execute("START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            token = _shared.set((uri, cur))
            try:
                yield
            finally:
                _shared.reset(token)
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
        finally:
            cur.close()
    finally:
        conn.close()


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


def read_where(warehouse: Warehouse, name: str, columns: list[str] | None, where: str | None) -> pl.DataFrame:
    """`read_table` with a SQL condition made by this package (warehouse/slice.py), never from user input."""
    frame = pl.from_arrow(read_arrow(warehouse, name, columns, where))
    if frame.height == 0:
        return pl.DataFrame(schema=polars_schema(TABLES[name], frame.columns))
    return from_storage(frame, TABLES[name], warehouse.dialect)


def read_arrow(warehouse: Warehouse, name: str, columns: list[str] | None, where: str | None) -> pa.Table:
    """The rows as connectorx gives them, in storage types (no conversion: for columns read as they are
    stored, such as the cube's IPC chunks); `where` as in `read_where`."""
    if name not in TABLES:
        raise WarehouseError(f"unknown table '{name}'; known: {', '.join(TABLES)}")
    table = TABLES[name]
    names = columns or [c.name for c in table.columns]
    unknown = [c for c in names if c not in table.c]
    if unknown:
        raise WarehouseError(f"table '{name}' has no column '{unknown[0]}'")
    # Names come from the schema, never from user input.
    sql = f"SELECT {', '.join(_quote(c) for c in names)} FROM {_quote(name)}" + (f" WHERE {where}" if where else "")
    shared = _shared.get()
    try:
        if shared is not None and warehouse.dialect == "postgresql" and shared[0] == warehouse.arrow_uri():
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
