"""Reading tables into polars through connectorx (Arrow-native, never row by row)."""
from __future__ import annotations

from urllib.parse import quote

import connectorx as cx
import polars as pl
import sqlalchemy as sa

import warehouse.sqlite_guard as sqlite_guard
from warehouse.engine import Warehouse, WarehouseError
from warehouse.schema import TABLES, sync_runs
from warehouse.types import from_storage, polars_schema


def _cx_uri(warehouse: Warehouse) -> str:
    if warehouse.dialect == "sqlite":
        return "sqlite://" + quote(warehouse.arrow_uri())
    return warehouse.arrow_uri()


def read_table(warehouse: Warehouse, name: str, columns: list[str] | None = None) -> pl.DataFrame:
    """The whole table (or the named columns) as a polars frame in the schema's types."""
    if name not in TABLES:
        raise WarehouseError(f"unknown table '{name}'; known: {', '.join(TABLES)}")
    table = TABLES[name]
    names = columns or [c.name for c in table.columns]
    unknown = [c for c in names if c not in table.c]
    if unknown:
        raise WarehouseError(f"table '{name}' has no column '{unknown[0]}'")
    # Names come from the schema, never from user input.
    sql = f"SELECT {', '.join(_quote(c) for c in names)} FROM {_quote(name)}"
    try:
        with sqlite_guard.using(warehouse.sqlite_path, "connectorx"):
            arrow = cx.read_sql(_cx_uri(warehouse), sql, return_type="arrow")
    except Exception as exc:  # connectorx raises bare RuntimeErrors
        raise WarehouseError(f"reading {name} from {warehouse.display_url} failed: {_clean(exc, warehouse)}") from None
    frame = pl.from_arrow(arrow)
    if frame.height == 0:
        return pl.DataFrame(schema=polars_schema(table, names))
    return from_storage(frame, table, warehouse.dialect)


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
