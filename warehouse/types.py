"""How each schema column looks as a polars column, and how it is stored per dialect."""
from __future__ import annotations

import polars as pl
from sqlalchemy import BigInteger, Boolean, Float, Integer, LargeBinary, String, Table, Text

from warehouse.schema import Day, UTCTimestamp

UTC_DATETIME = pl.Datetime("us", "UTC")


def polars_dtype(column) -> pl.DataType:
    kind = column.type
    if isinstance(kind, UTCTimestamp):
        return UTC_DATETIME
    if isinstance(kind, Day):
        return pl.Date()
    if isinstance(kind, Boolean):
        return pl.Boolean()
    if isinstance(kind, (BigInteger, Integer)):
        return pl.Int64()
    if isinstance(kind, Float):
        return pl.Float64()
    if isinstance(kind, (String, Text)):
        return pl.String()
    if isinstance(kind, LargeBinary):
        return pl.Binary()
    raise TypeError(f"no polars type for {column.table.name}.{column.name} ({kind!r})")


def polars_schema(table: Table, columns: list[str] | None = None) -> dict[str, pl.DataType]:
    names = columns or [c.name for c in table.columns]
    return {name: polars_dtype(table.c[name]) for name in names}


def from_storage(frame: pl.DataFrame, table: Table, dialect: str) -> pl.DataFrame:
    """Columns as read from the database (SQLite integers, PostgreSQL types) → the polars schema."""
    exprs = []
    for name in frame.columns:
        target = polars_dtype(table.c[name])
        col = pl.col(name)
        if target == UTC_DATETIME:
            if dialect == "sqlite":
                col = pl.from_epoch(col.cast(pl.Int64), time_unit="us").dt.replace_time_zone("UTC")
            else:
                col = col.cast(pl.Datetime("us")).dt.convert_time_zone("UTC") if frame.schema[name] != target else col
        elif target == pl.Date() and dialect == "sqlite":
            col = col.cast(pl.Int32).cast(pl.Date)
        exprs.append(col.cast(target).alias(name))
    return frame.select(exprs)


def to_storage(frame: pl.DataFrame, table: Table, dialect: str) -> pa.Table:
    """A frame in the polars schema → the Arrow table ADBC ingests for this dialect."""
    import pyarrow as pa  # here: a command that only reads never needs it (tests/cli/test_startup_imports.py)

    fields, exprs = [], []
    for name in frame.columns:
        target = polars_dtype(table.c[name])
        col = pl.col(name).cast(target)
        if target == UTC_DATETIME:
            arrow_type = pa.timestamp("us", tz="UTC")
            if dialect == "sqlite":
                col, arrow_type = col.dt.epoch("us"), pa.int64()
        elif target == pl.Date():
            arrow_type = pa.date32()
            if dialect == "sqlite":
                col, arrow_type = col.cast(pl.Int32).cast(pl.Int64), pa.int64()
        elif target == pl.Boolean():
            arrow_type = pa.bool_()
            if dialect == "sqlite":
                col, arrow_type = col.cast(pl.Int64), pa.int64()
        elif target == pl.Int64():
            arrow_type = pa.int64()
        elif target == pl.Float64():
            arrow_type = pa.float64()
        else:
            # Polars hands strings over as large_string: the same type here spares a copy of every string
            # column (ADBC binds both alike; the stored text is the same).
            arrow_type = pa.large_string()
        fields.append(pa.field(name, arrow_type))
        exprs.append(col.alias(name))
    return frame.select(exprs).to_arrow().cast(pa.schema(fields))
