"""The derived cube's tables (`cube_*`) and its state row: read them, replace their days from a cut on.

The cube's parts arrive as frames named as the tables (`CUBE_TABLES`: ratio, mean, values, spend, units,
span, seniors); this module knows their storage, not what they mean (metrics.cube, reports/derived.py).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from warehouse.engine import Warehouse, WarehouseError
from warehouse.read import instant_literal, read_table
from warehouse.schema import CUBE_TABLES, cube_deployments, cube_state
from warehouse.types import to_storage
from warehouse.write import _adbc_transaction, _clean, _q

DAILY = ("ratio", "mean", "values", "spend", "units")  # replaced by day; span and seniors whole


@dataclass(frozen=True)
class CubeState:
    fingerprint: str
    built_at: dt.datetime
    pending_from: dt.datetime | None  # cube days from this one on are stale
    pending_full: bool
    pending_seq: int


def read_state(warehouse: Warehouse) -> CubeState | None:
    with warehouse.engine.connect() as conn:
        row = conn.execute(sa.select(
            cube_state.c.fingerprint, cube_state.c.built_at, cube_state.c.pending_from, cube_state.c.pending_full,
            cube_state.c.pending_seq,
        ).where(cube_state.c.id == 1)).one_or_none()
    return CubeState(*row) if row is not None else None


def start_build(warehouse: Warehouse, fingerprint: str, look_back: dt.timedelta, rollback_window: dt.timedelta,
                production_environments: list[str]) -> int:
    """Mark the whole cube stale for this fingerprint (writes from now on measure their reach with these
    windows) and return the write count a build that reads the evidence now must find unchanged."""
    values = dict(fingerprint=fingerprint, built_at=dt.datetime.now(dt.timezone.utc),
                  look_back_seconds=look_back.total_seconds(), rollback_window_seconds=rollback_window.total_seconds(),
                  production_environments=json.dumps(sorted(e.lower() for e in production_environments)),
                  pending_full=True)
    with warehouse.engine.begin() as conn:
        updated = conn.execute(sa.update(cube_state).where(cube_state.c.id == 1).values(**values)).rowcount
        if not updated:
            conn.execute(sa.insert(cube_state).values(id=1, pending_seq=0, pending_from=None, **values))
        return conn.execute(sa.select(cube_state.c.pending_seq).where(cube_state.c.id == 1)).scalar_one()


def replace_cube(warehouse: Warehouse, parts: Mapping[str, pl.DataFrame], deployments: pl.DataFrame, *,
                 from_day: dt.date | None, deployments_from: dt.datetime | None, seen_seq: int) -> bool:
    """In one transaction: the daily tables' rows from `from_day` on (all when None) replaced by `parts`'
    (which hold only those days), span and seniors replaced whole, `cube_deployments` from
    `deployments_from` on by `deployments` (id, repo, finished_at, ships); the pending reach cleared when
    no write came after the evidence was read (`seen_seq`). Returns whether it was cleared."""
    dialect = warehouse.dialect
    try:
        with _adbc_transaction(warehouse) as cur:
            where = ""
            if deployments_from is not None:
                where = f" WHERE finished_at >= {instant_literal(dialect, deployments_from, cube_deployments.c.finished_at)}"
            cur.execute(f"DELETE FROM cube_deployments{where}")
            if deployments.height:
                cur.adbc_ingest("cube_deployments", to_storage(deployments, cube_deployments, dialect), mode="append")
            for name, table in CUBE_TABLES.items():
                where = ""
                if name in DAILY and from_day is not None:
                    day = dt.datetime.combine(from_day, dt.time(), dt.timezone.utc)
                    where = f" WHERE day >= {instant_literal(dialect, day, table.c.day)}"
                cur.execute(f"DELETE FROM {_q(table.name)}{where}")
                frame = parts[name].select([c.name for c in table.columns])
                if frame.height:
                    cur.adbc_ingest(table.name, to_storage(frame, table, dialect), mode="append")
            cur.execute("SELECT pending_seq FROM cube_state WHERE id = 1")
            row = cur.fetchone()
            clear = row is not None and int(row[0]) == seen_seq
            if clear:
                false = "0" if dialect == "sqlite" else "false"
                cur.execute(f"UPDATE cube_state SET pending_from = NULL, pending_full = {false} WHERE id = 1")
    except WarehouseError:
        raise
    except Exception as exc:
        raise WarehouseError(f"writing the cube to {warehouse.display_url} failed: {_clean(exc, warehouse)}") from None
    return clear


def read_cube_tables(warehouse: Warehouse) -> dict[str, pl.DataFrame]:
    """Every cube table as a frame (one query each)."""
    return {name: read_table(warehouse, table.name) for name, table in CUBE_TABLES.items()}
