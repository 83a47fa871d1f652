"""The derived cube's tables (`cube_chunks`, `cube_deployments`) and its state row: read them, replace
their days from a cut on.

The cube's parts arrive as frames by name (ratio, mean, values, spend, units: with a `day` column, stored
as one Arrow IPC chunk per month; span, seniors: one chunk); this module knows their storage, not what
they mean (metrics.cube, reports/derived.py).
"""
from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import sqlalchemy as sa

from warehouse.cube_chunks import FACT_PARTS, NOT_FACTS, SCHEMA_ONLY, WHOLE, assembled, months_sql
from warehouse.engine import Warehouse, WarehouseError
from warehouse.read import instant_literal, read_arrow
from warehouse.schema import cube_deployments, cube_state
from warehouse.types import to_storage
from warehouse.write import _adbc_transaction, _clean, _q

# Replaced by day (and the facts kept beside the cube, warehouse.cube_chunks.FACT_PARTS); span and
# seniors whole.
DAILY = ("ratio", "mean", "values", "spend", "units", *FACT_PARTS)


@dataclass(frozen=True)
class CubeState:
    fingerprint: str
    built_at: dt.datetime
    pending_from: dt.datetime | None  # cube days from this one on are stale
    pending_full: bool
    pending_seq: int
    fix_rule: str | None = None  # JSON {"labels", "title_pattern"}; None: not recorded (a cube built before 0009)
    spend_pending: bool = True  # a write since the last upkeep touched ai_spend (migration 0016)


def fix_rule_json(fix_labels, fix_title_pattern: str) -> str:
    """`cube_state.fix_rule` as stored: the labels lower-cased and trimmed (as metrics.change_chain compares
    them), the title pattern as written."""
    return json.dumps({"labels": sorted({label.strip().lower() for label in fix_labels}), "title_pattern": fix_title_pattern})


def record_fix_rule(warehouse: Warehouse, rule: str) -> None:
    """Record the fix rule of a cube built before it was kept (the same fingerprint: the same rule)."""
    with warehouse.engine.begin() as conn:
        conn.execute(sa.update(cube_state).where(cube_state.c.id == 1).values(fix_rule=rule))


def read_state(warehouse: Warehouse) -> CubeState | None:
    with warehouse.engine.connect() as conn:
        row = conn.execute(sa.select(
            cube_state.c.fingerprint, cube_state.c.built_at, cube_state.c.pending_from, cube_state.c.pending_full,
            cube_state.c.pending_seq, cube_state.c.fix_rule, cube_state.c.spend_pending,
        ).where(cube_state.c.id == 1)).one_or_none()
    return CubeState(*row[:6], spend_pending=bool(row[6])) if row is not None else None


def start_build(warehouse: Warehouse, fingerprint: str, look_back: dt.timedelta, rollback_window: dt.timedelta,
                production_environments: list[str], fix_rule: str | None = None) -> int:
    """Mark the whole cube stale for this fingerprint (writes from now on measure their reach with these
    windows) and return the write count a build that reads the evidence now must find unchanged."""
    values = dict(fingerprint=fingerprint, built_at=dt.datetime.now(dt.timezone.utc),
                  look_back_seconds=look_back.total_seconds(), rollback_window_seconds=rollback_window.total_seconds(),
                  production_environments=json.dumps(sorted(e.lower() for e in production_environments)),
                  fix_rule=fix_rule, pending_full=True)
    with warehouse.engine.begin() as conn:
        updated = conn.execute(sa.update(cube_state).where(cube_state.c.id == 1).values(**values)).rowcount
        if not updated:
            conn.execute(sa.insert(cube_state).values(id=1, pending_seq=0, pending_from=None, **values))
        return conn.execute(sa.select(cube_state.c.pending_seq).where(cube_state.c.id == 1)).scalar_one()


def replace_cube(warehouse: Warehouse, parts: Mapping[str, pl.DataFrame], deployments: pl.DataFrame, *,
                 from_day: dt.date | None, deployments_from: dt.datetime | None, seen_seq: int) -> bool:
    """In one transaction: the daily parts' rows from `from_day` on (all when None) replaced by `parts`'
    (which hold only those days; the month of `from_day` keeps its earlier days), span and seniors
    replaced whole, `cube_deployments` from `deployments_from` on by `deployments` (id, repo,
    finished_at, ships); the pending reach cleared when no write came after the evidence was read
    (`seen_seq`). Returns whether it was cleared."""
    dialect = warehouse.dialect
    try:
        with _adbc_transaction(warehouse) as cur:
            if deployments_from is None:
                cur.execute("DELETE FROM cube_deployments")
            else:
                deployments = _changed_deployments(cur, dialect, deployments, deployments_from)
            if deployments.height:
                cur.adbc_ingest("cube_deployments", to_storage(deployments, cube_deployments, dialect), mode="append")
            chunks = []
            for part, frame in parts.items():
                family = _family_sql(part)
                if part not in DAILY:
                    cur.execute(f"DELETE FROM cube_chunks WHERE part = '{part}'")
                    chunks.append((part, WHOLE, frame))
                    continue
                if from_day is None:
                    cur.execute(f"DELETE FROM cube_chunks WHERE {family}")
                    chunks.append((part, SCHEMA_ONLY, frame.clear()))  # an empty part keeps its columns
                else:
                    stored = _stored_chunks(cur, family, _month(from_day))
                    chunks.extend(_changed(cur, _with_kept_days(_chunked(part, frame), stored, from_day), stored))
                    continue
                chunks.extend(_chunked(part, frame))
            if chunks:
                cur.adbc_ingest("cube_chunks", _chunk_table(chunks), mode="append")
            cur.execute("SELECT pending_seq FROM cube_state WHERE id = 1")
            row = cur.fetchone()
            clear = row is not None and int(row[0]) == seen_seq
            if clear:
                false = "0" if dialect == "sqlite" else "false"
                cur.execute(f"UPDATE cube_state SET pending_from = NULL, pending_full = {false}, spend_pending = {false} "
                            "WHERE id = 1")
    except WarehouseError:
        raise
    except Exception as exc:
        raise WarehouseError(f"writing the cube to {warehouse.display_url} failed: {_clean(exc, warehouse)}") from None
    return clear


def _changed_deployments(cur, dialect: str, deployments: pl.DataFrame, since: dt.datetime) -> pl.DataFrame:
    """`cube_deployments` from `since` on made `deployments`' rows by deleting the stored rows that are not
    among them and returning those not stored yet (to append). A small write changes the verdict of a few
    deployments, if any: rewriting the ~17k rows of the two months a slice holds cost the server 0.2-0.3 s
    at 1M PRs and, on PostgreSQL, left as many dead rows behind for VACUUM each time."""
    at = instant_literal(dialect, since, cube_deployments.c.finished_at)
    # Times as microseconds since 1970 and flags as 0/1 on both dialects (a fetched timestamptz goes
    # through pyarrow's time-zone code, which imports pandas).
    finished, ships = ("finished_at", "ships") if dialect == "sqlite" else (
        "(extract(epoch FROM finished_at) * 1000000)::bigint", "ships::int")
    cur.execute(f"SELECT id, repo, {finished} AS finished_at, {ships} AS ships FROM cube_deployments WHERE finished_at >= {at}")
    key = {"id": pl.String, "repo": pl.String, "finished_at": pl.Int64, "ships": pl.Int64}
    stored = pl.from_arrow(cur.fetch_arrow_table())
    stored = (stored.select(pl.col(name).cast(dtype) for name, dtype in key.items()) if stored.height
              else pl.DataFrame(schema=key))
    made = deployments.select("id", "repo", pl.col("finished_at").dt.epoch("us"), pl.col("ships").cast(pl.Int64))
    columns = list(key)
    gone = stored.join(made, on=columns, how="anti", nulls_equal=True).get_column("id").to_list()
    for at_id in range(0, len(gone), 500):
        ids = ", ".join("'" + i.replace("'", "''") + "'" for i in gone[at_id:at_id + 500])
        cur.execute(f"DELETE FROM cube_deployments WHERE id IN ({ids})")
    new = made.join(stored, on=columns, how="anti", nulls_equal=True).get_column("id")
    return deployments.filter(pl.col("id").is_in(new.implode()))


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _chunked(part: str, frame: pl.DataFrame) -> list[tuple[str, str, pl.DataFrame]]:
    """A daily part's rows by month, and by metric where it has one (part "ratio:rework_rate"): read back
    in (metric, month) order, the chunks give the rows in build_cube's order without sorting."""
    if frame.height == 0:
        return []
    by = ["_metric", "_chunk"] if "metric" in frame.columns else ["_chunk"]
    keyed = frame.with_columns(_chunk=pl.col("day").dt.strftime("%Y-%m"),
                               _metric=pl.col("metric") if "metric" in frame.columns else pl.lit(None))
    out = []
    for key, rows in keyed.group_by(by, maintain_order=True):
        name = f"{part}:{key[0]}" if len(by) == 2 else part
        out.append((name, key[-1], rows.drop("_chunk", "_metric")))
    return out


def _with_kept_days(chunks: list[tuple[str, str, pl.DataFrame]], stored: dict[tuple[str, str], pl.DataFrame],
                    from_day: dt.date) -> list[tuple[str, str, pl.DataFrame]]:
    """The chunks of a part's rows from `from_day` on (`chunks`, by `_chunked`), each of the month of
    `from_day` with the stored chunk's earlier days before its rows, and a chunk of those earlier days
    alone where the part has no rows from `from_day` on: what chunking the stored earlier days and the
    new rows together gives, without chunking the month's stored rows again (at 3M PRs the lead-time
    values of a month are 137k rows, and chunking them cost 0.03 CPU-s of a small import). A stored
    chunk that already holds exactly that is given back as it is (`_kept_before`)."""
    first = _month(from_day)
    stored_first = {key: rows for key, rows in stored.items() if key[1] == first}
    out = []
    for part, chunk, rows in chunks:
        old = stored_first.pop((part, chunk), None)
        out.append((part, chunk, rows if old is None else _kept_before(old, rows, from_day)))
    for (part, chunk), old in stored_first.items():
        earlier = _kept_before(old, old.clear(), from_day)
        if earlier.height:
            out.append((part, chunk, earlier))
    return out


def _kept_before(old: pl.DataFrame, rows: pl.DataFrame, from_day: dt.date) -> pl.DataFrame:
    """A stored chunk's (`old`) rows of the days before `from_day`, then `rows`; `old` itself when it holds
    just that. Every chunk as built lies in day order (a part is sorted by day, or by metric and day, and
    chunked by metric and month), so its days from `from_day` on are a slice of it, compared with `rows`
    alone: the month's earlier rows are neither copied nor compared (at 3M PRs on the 6-team shape a month's
    PR facts are ~130k rows, rewritten for a one-PR write only when its days changed). A chunk not in day
    order is filtered, as written before."""
    days = old.get_column("day")
    if not days.is_sorted():
        earlier = old.filter(pl.col("day") < from_day)
        return rows if earlier.height == 0 else pl.concat([earlier, rows])
    at = int(days.search_sorted(from_day, side="left"))
    if old.height - at == rows.height and old.slice(at).equals(rows):
        return old
    return rows if at == 0 else pl.concat([old.slice(0, at), rows])


def _stored_chunks(cur, family: str, first: str) -> dict[tuple[str, str], pl.DataFrame]:
    """The stored chunks of a part (all its metrics) from month `first` on, by (part, chunk), in (metric,
    month) order."""
    cur.execute(f"SELECT part, chunk, data FROM cube_chunks WHERE {family} AND chunk >= '{first}' ORDER BY part, chunk")
    return {(part, chunk): _decode(data) for part, chunk, data in cur.fetchall()}


def _changed(cur, chunks: list[tuple[str, str, pl.DataFrame]],
             stored: dict[tuple[str, str], pl.DataFrame]) -> list[tuple[str, str, pl.DataFrame]]:
    """The chunks whose rows differ from the stored ones (those are deleted, as are stored chunks no
    longer made): a small write changes a few metrics' months, and the others' stored rows stay as they
    are instead of being written again."""
    out, gone = [], dict(stored)
    for part, chunk, rows in chunks:
        old = gone.pop((part, chunk), None)
        if old is not None and (old is rows or old.equals(rows)):
            continue
        if old is not None:
            gone[(part, chunk)] = old
        out.append((part, chunk, rows))
    for part, chunk in gone:
        cur.execute(f"DELETE FROM cube_chunks WHERE part = '{part}' AND chunk = '{chunk}'")
    return out


def _chunk_table(chunks: list[tuple[str, str, pl.DataFrame]]) -> pa.Table:
    # Built by polars, not `pa.array` of Python lists: pyarrow's list conversion imports pandas (0.35 s
    # of a small import's start-up).
    frame = pl.DataFrame({"part": [c[0] for c in chunks], "chunk": [c[1] for c in chunks],
                          "rows": [c[2].height for c in chunks], "data": [_encode(c[2]) for c in chunks]},
                         schema={"part": pl.String, "chunk": pl.String, "rows": pl.Int64, "data": pl.Binary})
    return frame.to_arrow().cast(pa.schema([("part", pa.string()), ("chunk", pa.string()), ("rows", pa.int64()),
                                            ("data", pa.binary())]))


def _encode(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")  # uncompressed IPC: reading it is a copy
    return buffer.getvalue()


def _decode(data: bytes) -> pl.DataFrame:
    return pl.from_arrow(pa.ipc.open_file(pa.py_buffer(data)).read_all())  # in place: no copies of the bytes


_MMAP_BYTES = 1 << 31  # as much of the file as SQLite maps at most (its default cap is just under 2 GB)


def read_cube_parts(warehouse: Warehouse, early: Collection[str] = (),
                    on_early: Callable[[dict[str, pl.DataFrame]], None] | None = None) -> dict[str, pl.DataFrame]:
    """Every part of the stored cube, rows in the order they were built; {} when none is stored. Each
    chunk's IPC is read in place, and a part's chunks become one frame of Arrow chunks, converted to
    polars once.

    The parts named in `early` are handed to `on_early` as soon as they are read, before the rest: the
    caller can start work on them meanwhile (reports.derived.stored_cube). On SQLite they are read first,
    by a query of their own in the same read transaction as the rest (one snapshot of the cube, as a
    write may commit between the two queries); on PostgreSQL all parts come in one query, then `on_early`
    is called.

    SQLite's blobs come through the plain driver already open (as `read_cube_months`; connectorx's import
    alone cost 0.1 s of a cold read of 114 MB, the whole plain read 0.12 s), its file memory-mapped for
    the read: a chunk is a chain of 4 KB overflow pages scattered over the file, which SQLite otherwise
    reads one `pread` at a time — from a file evicted from the page cache, 1.4-1.9 s for the 108 MB of
    the 1M-PR warehouse; mapped, the kernel reads ahead around each page it faults in (0.28-0.40 s).
    PostgreSQL's come through libpq itself, in binary, read in place in libpq's result (warehouse.libpq:
    no connectorx to import, and ~0.1 CPU-s less than its Arrow buffers); through connectorx where libpq
    is not found or cannot connect (psycopg's bytea took 0.64 s against connectorx's 0.46 s)."""
    sql = f"SELECT part, chunk, data FROM cube_chunks WHERE {NOT_FACTS}"
    if warehouse.dialect == "sqlite":
        first = " OR ".join(_family_sql(part) for part in sorted(early))
        queries = [f"{sql} AND ({first})", f"{sql} AND NOT ({first})"] if early else [sql]
        parts: dict[str, pl.DataFrame] = {}
        with warehouse.engine.connect() as conn:  # one transaction: both queries read the same snapshot
            conn.exec_driver_sql(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            for at, query in enumerate(queries):
                rows = conn.exec_driver_sql(query).fetchall()
                parts.update(assembled((part, chunk, pa.py_buffer(data)) for part, chunk, data in rows))
                if early and at == 0 and on_early is not None:
                    on_early(dict(parts))
        return parts
    rows = _libpq_rows(warehouse, sql)
    if rows is not None:
        parts = assembled((part, chunk, data) for part, chunk, data in rows)
    else:
        chunks = read_arrow(warehouse, "cube_chunks", ["part", "chunk", "data"], NOT_FACTS)
        data = chunks.column("data")
        parts = assembled(zip(chunks.column("part").to_pylist(), chunks.column("chunk").to_pylist(),
                              (data[at].as_buffer() for at in range(chunks.num_rows))))
    if early and on_early is not None:
        on_early({name: frame for name, frame in parts.items() if name in early})
    return parts


def _family_sql(part: str) -> str:
    """SQL selecting a part's chunks, those of its metrics too (part "values:lead_time_hours"); the part is
    one of the cube's own names, never user input."""
    return f"(part = '{part}' OR part LIKE '{part}:%')"


def _libpq_rows(warehouse: Warehouse, sql: str) -> list[tuple] | None:
    """The rows of `sql` (on cube_chunks) through libpq on a connection of their own (as connectorx's),
    `bytea` in place; None where libpq is not found or cannot connect (the caller then reads another way,
    which says why in its words)."""
    from warehouse import libpq

    lib = libpq.load()
    connection = libpq.connect(lib, warehouse.arrow_uri()) if lib is not None else None
    if connection is None:
        return None
    try:
        return connection.rows(sql, bytea_in_place=True)
    except libpq.LibpqError as exc:
        raise WarehouseError(f"reading cube_chunks from {warehouse.display_url} failed: {exc}") from None
    finally:
        connection.close()


def read_cube_months(warehouse: Warehouse, months: set[str], whole_parts: list[str]) -> dict[str, pl.DataFrame]:
    """The stored cube's chunks of `months` (YYYY-MM) and of the latest month, every chunk of
    `whole_parts`, the parts stored whole and every part's empty schema chunk, assembled as
    `read_cube_parts` assembles all of them (warehouse.cube_chunks.months_sql). `scorecard metrics` reads
    the same through `warehouse.readonly` when the cube is current (warehouse.cube_chunks.MonthReader).

    A few hundred blobs in one plain query (no connectorx to import: 0.1 s of a command's start), each an
    Arrow IPC file that pyarrow reads in place (polars' own reader, one call per chunk, took 0.15 CPU-s more).
    On PostgreSQL through libpq, `bytea` in binary (SQLAlchemy's psycopg receives it as hex text, 3× slower)."""
    sql = months_sql(months, whole_parts)
    rows = _libpq_rows(warehouse, sql) if warehouse.dialect == "postgresql" else None
    if rows is None:
        with warehouse.engine.connect() as conn:
            rows = conn.exec_driver_sql(sql).fetchall()
    return assembled((part, chunk, pa.py_buffer(data)) for part, chunk, data in rows)


def read_facts(warehouse: Warehouse, part: str, since: dt.date, until: dt.date | None = None, *,
               libpq: bool = True) -> pl.DataFrame:
    """The rows of a part kept beside the cube (warehouse.cube_chunks.FACT_PARTS) from the day `since` on (to the day
    `until`, inclusive, when given): the chunks of its months from `since`'s on (to `until`'s), and its empty
    schema chunk, as the upkeep keeps them. `libpq` False: on PostgreSQL through the engine's pooled connection,
    not libpq on a connection of its own (a new server process: for a few small chunks, the larger cost)."""
    if part not in FACT_PARTS:
        raise ValueError(f"not a facts part: {part}")
    months = f"chunk >= '{_month(since)}'" + (f" AND chunk <= '{_month(until)}'" if until is not None else "")
    sql = (f"SELECT part, chunk, data FROM cube_chunks WHERE part = '{part}'"
           f" AND (({months}) OR chunk = '{SCHEMA_ONLY}')")
    rows = _libpq_rows(warehouse, sql) if warehouse.dialect == "postgresql" and libpq else None
    if rows is None:
        with warehouse.engine.connect() as conn:
            if warehouse.dialect == "sqlite":  # memory-mapped, as `read_cube_parts` (a range's spend: ~100 MB)
                conn.exec_driver_sql(f"PRAGMA mmap_size = {_MMAP_BYTES}")
            rows = conn.exec_driver_sql(sql).fetchall()
    frame = assembled((name, chunk, pa.py_buffer(data)) for name, chunk, data in rows).get(part)
    if frame is None:
        raise WarehouseError(f"the cube in {warehouse.display_url} keeps no {part}: rebuild it (scorecard rebuild)")
    frame = frame.filter(pl.col("day") >= since)
    return frame if until is None else frame.filter(pl.col("day") <= until)
