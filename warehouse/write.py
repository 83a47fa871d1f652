"""Idempotent upserts of whole frames: Arrow-native staging (ADBC), then one INSERT ... ON CONFLICT.

Re-writing rows that are already there changes nothing: a row is only updated where a value differs,
and the counts tell new, changed and unchanged rows apart. All frames passed in one call are written in
one transaction, so an import is all or nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import logging
import sys
import threading
import types
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import polars as pl

import warehouse.sqlite_guard as sqlite_guard
# The rows a file connector hands over a slice at a time (`_load_key_ordered`).
from connectors.contract import KeyOrdered
from warehouse.engine import BUSY_TIMEOUT_MS, Warehouse, WarehouseError
from warehouse.reach import cube_is_kept, note_reach, write_reach
from warehouse.schema import TABLES
from warehouse.types import polars_dtype, polars_schema, to_storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def __add__(self, other: "UpsertCounts") -> "UpsertCounts":
        return UpsertCounts(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )


# SQLite page cache of a write (KiB): 256 MB, for the B-tree pages a bulk upsert touches; and of a bulk
# first load (the append of its rows and its index builds): 2 MB, the sqlite3 shell's default. The index
# builds' sort runs are the size of the cache (small runs sort in the CPU's caches and merge faster than
# large ones); the append touches only the right edge of each B-tree, and a small cache writes its pages
# to the WAL as they fill instead of holding the whole table to write at the commit.
WRITE_CACHE_KB = 262_144
BULK_LOAD_CACHE_KB = 2_000

# The advisory lock every PostgreSQL write transaction takes (a constant: "scorecard" in ASCII digits).
WRITER_LOCK_KEY = 7_363_255_234

@contextlib.contextmanager
def _adbc_transaction(warehouse: Warehouse) -> Iterator:
    with sqlite_guard.using(warehouse.sqlite_path, "adbc"):
        with _adbc_connection(warehouse) as cur:
            yield cur


class _LoadedOnFirstUse(types.ModuleType):
    """Stands in for `pyarrow.dataset` until an attribute of it is asked for, then loads it."""

    def __getattr__(self, name: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)  # sets pyarrow.dataset to the real module
        return getattr(real, name)


def _deferred_pyarrow_dataset() -> None:
    """Make `pyarrow.dataset` load on its first use instead of on import.

    ADBC's DB-API module imports it only to recognise a Dataset or Scanner handed to `adbc_ingest`, and
    importing it imports pandas (pyarrow's dataset bindings): 0.35 s of a small import's start-up. We
    hand it Arrow tables, which it binds through `__arrow_c_stream__` without looking at
    `pyarrow.dataset`; code that does use the module gets the real one on its first attribute access."""
    if "pyarrow.dataset" in sys.modules:
        return
    import pyarrow

    stand_in = _LoadedOnFirstUse("pyarrow.dataset")
    sys.modules["pyarrow.dataset"] = stand_in
    pyarrow.dataset = stand_in


@contextlib.contextmanager
def _adbc_connection(warehouse: Warehouse) -> Iterator:
    _deferred_pyarrow_dataset()
    if warehouse.dialect == "sqlite":
        # Only this dialect's ADBC driver: writes alone need one (reads go through connectorx).
        import adbc_driver_sqlite.dbapi as driver

        conn = driver.connect(warehouse.arrow_uri(), autocommit=True)
        begin = "BEGIN IMMEDIATE"  # take the write lock up front: no busy error halfway through
    else:
        conn = postgres_connection(warehouse.arrow_uri())
        begin = "BEGIN"
    try:
        cur = conn.cursor()
        if warehouse.dialect == "sqlite":
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KB}")  # bulk upserts touch many B-tree pages
            cur.execute("PRAGMA temp_store=MEMORY")  # the staging tables
        cur.execute(begin)
        if warehouse.dialect == "postgresql":
            # One writer at a time, as SQLite's BEGIN IMMEDIATE: the first-load check below (is the table
            # empty?) must not race another import that has not committed yet. Readers are not blocked.
            cur.execute(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")
            cur.fetchall()
        loaded: list[str] = []
        token = _bulk_loaded.set(loaded)
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            _bulk_loaded.reset(token)
            cur.close()
        if loaded:
            _vacuum(conn, loaded)
    finally:
        conn.close()


# The tables a PostgreSQL write transaction bulk-loaded (`_secondary_indexes_built_after`), to VACUUM once it
# has committed.
_bulk_loaded: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("bulk_loaded", default=None)


def _vacuum(conn, tables: list[str]) -> None:
    """VACUUM the tables a bulk load just filled (PostgreSQL; it cannot run inside the write's transaction).

    A loaded table's pages are not yet marked all-visible, so an index-only scan still fetches every row
    from the table: the upkeep's weekly merge counts per author, read from the PRs' merged_at index (which
    holds the author and the AI flag), fetched ~16k table pages for four weeks at 1M PRs (0.15-0.33 s of the
    server's time, most of a small import's server work) against ~100 index pages once vacuumed. It also
    sets the rows' hint bits once, instead of on each page's first read. Autovacuum would do the same some
    time later, where it runs; this makes it part of the load (0.45 s for 1M PRs, 0.7 s for 4.2M PR files).
    The rows are committed: a VACUUM that fails leaves them as they are, and the load stands."""
    cur = conn.cursor()
    try:
        for table in dict.fromkeys(tables):
            cur.execute(f"VACUUM {_q(table)}")
    except Exception as exc:  # the load stands; only the scans stay slower until a VACUUM comes
        log.warning("VACUUM after a bulk load failed: %s", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
    finally:
        cur.close()


# Per PostgreSQL URI, the ADBC database its connections are made from (see `postgres_connection`).
_databases: dict[str, object] = {}
_databases_lock = threading.Lock()


def postgres_connection(uri: str):
    """An ADBC DB-API connection (autocommit) to the PostgreSQL database at `uri`, made from one ADBC
    database per URI and process. Opening the database reads PostgreSQL's type catalog on a connection of
    its own: 0.03 client CPU-s and 0.09-0.2 s of wall time at load 7, against ~1 ms and 6-20 ms for a
    connection from a database already open. A small import opened three (its write, the upkeep's reads,
    the cube's write). The database holds no connection between them; a connection's own state (its
    transaction, temporary tables) is its own, as with separate databases."""
    import adbc_driver_manager
    from adbc_driver_manager import dbapi

    database = _database(uri)
    if database is None:  # another ADBC release: a database per connection, as its `connect` makes
        import adbc_driver_postgresql.dbapi as driver

        return driver.connect(uri, autocommit=True)
    return dbapi.Connection(database, adbc_driver_manager.AdbcConnection(database._db), autocommit=True)


def _database(uri: str):
    """The process's ADBC database for `uri` (opened on first use), as the DB-API's shared handle; None
    where this ADBC release has no such handle."""
    _deferred_pyarrow_dataset()
    import adbc_driver_postgresql
    from adbc_driver_manager import dbapi

    shared = getattr(dbapi, "_SharedDatabase", None)
    if shared is None:
        return None
    with _databases_lock:  # (held while `open_postgres_ahead`'s thread opens it: wait for that)
        database = _databases.get(uri)
        if database is None:
            # The cache holds one reference: closing a connection never closes the database.
            database = _databases[uri] = shared(adbc_driver_postgresql.connect(uri))
    return database


def open_postgres_ahead(url: str) -> None:
    """Start opening the ADBC database of the PostgreSQL warehouse at `url` (`postgres_connection`) on a
    daemon thread, for a command that will write through ADBC after other work (`scorecard import`: the
    migration check, the config history and the file's parse come first). Opening it is mostly waiting for
    the server's type catalog, which releases Python's lock: the command's own thread goes on meanwhile,
    and its first connection waits only for what is left. Anything that fails here is left for that
    connection to meet and report. Nothing for another URL."""
    if not url.startswith(("postgresql:", "postgres:", "postgresql+")):
        return
    try:
        from sqlalchemy.engine import make_url

        from warehouse.engine import postgres_arrow_uri

        uri = postgres_arrow_uri(make_url(url))  # the URI the warehouse's own connections use
    except Exception:
        return
    if uri in _databases:
        return

    def open_it() -> None:
        with contextlib.suppress(Exception):
            _database(uri)

    threading.Thread(target=open_it, name="adbc-open", daemon=True).start()


def upsert_frames(warehouse: Warehouse, frames: Mapping[str, pl.DataFrame]) -> dict[str, UpsertCounts]:
    """Upsert each frame into its table, all in one transaction; returns the counts per table.

    A frame holds the table's key columns and any others; columns it lacks are left as they are on
    existing rows (and empty on new ones). Rows with the same key keep the last one.
    """
    counts: dict[str, UpsertCounts] = {}
    pending = {name: frame for name, frame in frames.items() if frame.height}
    if not pending:
        return {name: UpsertCounts() for name in frames}
    try:
        with _adbc_transaction(warehouse) as cur:
            for name, frame in pending.items():
                counts[name] = _upsert(cur, warehouse.dialect, name, frame)
    except _ProducerFailed as failed:
        raise failed.__cause__ from None
    except WarehouseError:
        raise
    except Exception as exc:
        raise WarehouseError(f"writing to {warehouse.display_url} failed: {_clean(exc, warehouse)}") from None
    return {name: counts.get(name, UpsertCounts()) for name in frames}


def upsert_batches(warehouse: Warehouse, batches: Iterable[Mapping[str, pl.DataFrame]]) -> dict[str, UpsertCounts]:
    """`upsert_frames` for data too large to hold at once: every batch is written in one transaction,
    committed when `batches` is exhausted and rolled back if it raises (so a file whose last row is bad
    leaves nothing behind; the producer's exception passes through as it is). One batch in memory at a
    time."""
    counts: dict[str, UpsertCounts] = {}
    produced = iter(batches)
    try:
        with _adbc_transaction(warehouse) as cur:
            while True:
                try:
                    frames = next(produced)
                except StopIteration:
                    break
                except Exception as exc:
                    raise _ProducerFailed() from exc
                for name, frame in frames.items():
                    written = _upsert(cur, warehouse.dialect, name, frame) if frame.height else UpsertCounts()
                    counts[name] = counts.get(name, UpsertCounts()) + written
    except _ProducerFailed as failed:
        raise failed.__cause__ from None
    except WarehouseError:
        raise
    except Exception as exc:
        raise WarehouseError(f"writing to {warehouse.display_url} failed: {_clean(exc, warehouse)}") from None
    return counts


class _ProducerFailed(Exception):
    """Carries the batch producer's own exception out of the transaction (which it rolls back)."""


def _upsert(cur, dialect: str, name: str, frame: pl.DataFrame | KeyOrdered) -> UpsertCounts:
    if name not in TABLES:
        raise WarehouseError(f"unknown table '{name}'")
    table = TABLES[name]
    keys = [c.name for c in table.primary_key.columns]
    unknown = [c for c in frame.columns if c not in table.c]
    if unknown:
        raise WarehouseError(f"table '{name}' has no column '{unknown[0]}'")
    missing_keys = [k for k in keys if k not in frame.columns]
    if missing_keys:
        raise WarehouseError(f"rows for '{name}' lack the key column '{missing_keys[0]}'")
    if isinstance(frame, KeyOrdered):
        if frame.height >= BULK_ROWS and _is_empty(cur, name) and not cube_is_kept(cur):
            return _load_key_ordered(cur, dialect, name, table, frame)
        try:
            frame = frame.collect()
        except Exception as exc:
            raise _ProducerFailed() from exc
    frame = frame.cast(polars_schema(table, frame.columns))
    if _is_empty(cur, name) and not cube_is_kept(cur):
        # A first load: once the keys are unique (rows with the same key keep the last one) nothing can
        # conflict, so the rows go straight into the table — one pass instead of staging and copying (a
        # third of a large import). Once a cube is kept, rows go through staging so their reach can be
        # measured. A bulk load goes in key order: the primary key's B-tree is then appended to, not split
        # at random pages (an export's ids rarely sort as text: `#10` before `#2`); nothing reads the rows
        # by their insertion order. Sorted, a repeated key sits next to itself, so the check for repeats
        # is a comparison of neighbours (a tenth of hashing every key).
        if frame.height >= BULK_ROWS:
            ordered = _sorted(frame, keys)
            if _repeats_adjacent(ordered, keys):  # rare: keep each key's last row, in the file's order
                ordered = _sorted(frame.unique(subset=keys, keep="last", maintain_order=True), keys)
            frame = ordered
        elif not _distinct(frame, keys):
            frame = frame.unique(subset=keys, keep="last", maintain_order=True)
        with _secondary_indexes_built_after(cur, dialect, name, frame.height):
            cur.adbc_ingest(name, _arrow(frame, table, dialect), mode="append")
        return UpsertCounts(inserted=frame.height)
    if not _distinct(frame, keys):  # rare, and an order-keeping dedup costs more than the check
        frame = frame.unique(subset=keys, keep="last", maintain_order=True)
    stage = f"_stage_{name}"
    cur.execute(f"DROP TABLE IF EXISTS {_temp(dialect, stage)}")
    cur.adbc_ingest(stage, _arrow(frame, table, dialect), mode="create", temporary=True)
    staged = _temp(dialect, stage)
    cols = list(frame.columns)
    values = [c for c in cols if c not in keys]
    target = _q(name)
    col_list = ", ".join(_q(c) for c in cols)
    conflict = f"ON CONFLICT ({', '.join(_q(k) for k in keys)}) DO NOTHING"
    if values:
        # Only rows where a value differs are rewritten (and counted): unchanged ones are left alone.
        distinct = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
        differs = " OR ".join(f"{target}.{_q(c)} {distinct} excluded.{_q(c)}" for c in values)
        assignments = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in values)
        conflict = f"ON CONFLICT ({', '.join(_q(k) for k in keys)}) DO UPDATE SET {assignments} WHERE {differs}"
    # What the derived cube must recompute (warehouse/reach.py), measured before the old rows are replaced.
    reach = write_reach(cur, dialect, name, staged, keys, cols)
    # One statement: each staged row is looked up by its key once, then inserted, updated or left.
    upsert = f"INSERT INTO {target} ({col_list}) SELECT {col_list} FROM {staged} WHERE true {conflict}"
    if dialect == "sqlite" and _rowid_is_internal(table):
        # New rows take rowids above the largest one before (SQLite's rule while it is below 2^63), so
        # both counts cost what the write costs, not a scan of the table.
        cur.execute(f"SELECT coalesce(max(rowid), 0) FROM {target}")
        before = cur.fetchone()[0]
        cur.execute(upsert)
        written = _affected(cur, dialect)
        # The rowid inlined, not bound: ADBC binds a Python parameter through pyarrow's list conversion,
        # which imports pandas (0.35 s of a small import's start-up).
        cur.execute(f"SELECT count(*) FROM {target} WHERE rowid > {int(before)}")
        inserted = cur.fetchone()[0]
    elif dialect == "sqlite":  # an INTEGER PRIMARY KEY is the rowid: count the staged keys already there
        match = " AND ".join(f"{target}.{_q(k)} = s.{_q(k)}" for k in keys)
        cur.execute(f"SELECT count(*) FROM {staged} s WHERE NOT EXISTS (SELECT 1 FROM {target} WHERE {match})")
        inserted = cur.fetchone()[0]
        cur.execute(upsert)
        written = _affected(cur, dialect)
    else:
        # xmax is 0 on a row this transaction inserted, and set on one it updated.
        cur.execute(f"WITH up AS ({upsert} RETURNING (xmax = 0) AS new) "
                    "SELECT count(*), count(*) FILTER (WHERE new) FROM up")
        written, inserted = cur.fetchone()
    cur.execute(f"DROP TABLE {staged}")
    if written:
        note_reach(cur, dialect, reach, spend=name == "ai_spend")
    updated = written - inserted
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=frame.height - inserted - updated)


def _load_key_ordered(cur, dialect: str, name: str, table, rows: KeyOrdered) -> UpsertCounts:
    """`_upsert`'s bulk first load of `rows`, the slices copied as they are made (their keys distinct and in
    order: no sort, no check for repeats here). A failure of the producer ends the COPY and passes out as it is."""
    schema = polars_schema(table, rows.columns)
    failed: list[BaseException] = []

    def frames() -> Iterator[pl.DataFrame]:
        try:
            for piece in rows.slices():
                yield piece.cast(schema)
        except BaseException as exc:  # ADBC sees the stream fail and reports its own error: keep the cause
            failed.append(exc)
            raise

    produced = frames()
    try:
        with _secondary_indexes_built_after(cur, dialect, name, rows.height) as deferred:
            if deferred is None or not deferred.partial:
                cur.adbc_ingest(name, _arrow_stream(produced, table, dialect, ahead=True), mode="append")
            else:
                # The first slice alone, then the partial indexes that hold few of its rows are built on it and
                # kept through the rest (`_Deferred.keep_the_small_partial_ones`), then the rest.
                head = next(produced)
                # The rest's first slice is parsed (on the stream's own thread) while the server stores the first
                # and builds these.
                rest = _arrow_stream(produced, table, dialect, columns=rows.columns, ahead=True) \
                    if head.height < rows.height else None
                cur.adbc_ingest(name, _arrow_stream(iter([head]), table, dialect), mode="append")
                if rest is not None:
                    deferred.keep_the_small_partial_ones(head.height)
                    cur.adbc_ingest(name, rest, mode="append")
    except Exception as exc:
        if failed:
            raise _ProducerFailed() from failed[0]
        raise
    return UpsertCounts(inserted=rows.height)


# Rows per Arrow batch that PostgreSQL's COPY is fed (~4.5 MB of COPY data for a PR; see `_arrow`).
COPY_BATCH_ROWS = 16_384


def _arrow(frame: pl.DataFrame, table, dialect: str):
    """`frame` as ADBC ingests it: on PostgreSQL a stream of batches of `COPY_BATCH_ROWS` rows, each
    converted when ADBC asks for it; on SQLite one Arrow table.

    ADBC's PostgreSQL driver turns each Arrow batch it is handed into COPY data whole, then sends it:
    given a frame as one batch (a sorted frame is one chunk), it built all of a 1M-PR load's COPY data
    (~300 MB) while the server waited, then sent it while the client waited. Batches of a few MB fit in
    the connection's socket buffers, so the client converts the next batch while the server stores the
    last one, and neither the whole Arrow copy nor the whole COPY buffer is ever held. SQLite's driver
    binds rows in-process from any batch: nothing to overlap."""
    if dialect != "postgresql" or frame.height <= COPY_BATCH_ROWS:
        return to_storage(frame, table, dialect)
    return _arrow_stream(iter([frame]), table, dialect)


def _arrow_stream(frames: Iterator[pl.DataFrame], table, dialect: str, *, columns: list[str] | None = None,
                  ahead: bool = False):
    """`frames`, one after another, as a stream of Arrow batches of at most `COPY_BATCH_ROWS` rows, each
    converted (`to_storage`) when ADBC asks for it (see `_arrow`), or with `ahead` (frames that are made as they
    are asked for: a file's slices, parsed) ahead of ADBC's asking on a thread of its own (`_Ahead`). The stream's
    schema is its first batch's, made here; given the `columns` of the frames, it is made from them instead, and
    every batch is made when asked for (`frames` may then also hold no row)."""
    import pyarrow as pa

    def pieces() -> Iterator[pl.DataFrame]:
        for frame in frames:
            for start in range(0, frame.height, COPY_BATCH_ROWS):
                yield frame.slice(start, COPY_BATCH_ROWS)

    parts = pieces()
    if columns is None:
        first = to_storage(next(parts), table, dialect)
    else:
        first = to_storage(pl.DataFrame(schema=polars_schema(table, columns)), table, dialect)
    converted = (to_storage(piece, table, dialect) for piece in parts)
    if ahead:
        converted = _Ahead(converted)

    def batches() -> Iterator:
        yield from first.to_batches()
        for part in converted:
            yield from part.to_batches()

    stream = batches()
    if ahead:
        # However the stream ends (read to its end, failed, or dropped unread by a failed ingest), its maker stops.
        weakref.finalize(stream, converted.close)
    return pa.RecordBatchReader.from_batches(first.schema, stream)


# Arrow batches `_Ahead` holds ready at most (~4.5 MB each for PRs: one slice of a file read in slices).
AHEAD_BATCHES = 8


class _Ahead:
    """The items of an iterator, made on a thread of their own up to `AHEAD_BATCHES` ahead of the consumer.

    ADBC's ingest asks for the next batch only once it has sent the last one, so the making (a slice's parse, the
    Arrow conversion) and ADBC's encoding of COPY data took turns on one thread, and the server, once it had
    stored the few MB the sockets hold, waited through each slice's parse. Made ahead, the parse runs while
    ADBC encodes and sends (both release Python's lock). An exception of the items is raised where the consumer
    reaches it, after the items made before it. `close` stops the maker (the consumer stopped early)."""

    _END = object()

    def __init__(self, items: Iterator):
        import queue

        self._queue: queue.Queue = queue.Queue(maxsize=AHEAD_BATCHES)
        self._stop = threading.Event()
        self._maker = threading.Thread(target=self._make, args=(items,), name="copy-ahead", daemon=True)
        self._maker.start()

    def _put(self, entry) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _make(self, items: Iterator) -> None:
        try:
            for item in items:
                if not self._put((item, None)):
                    return
        except BaseException as exc:  # handed over as it is, raised in the consumer's thread
            self._put((self._END, exc))
        else:
            self._put((self._END, None))

    def __iter__(self) -> Iterator:
        while True:
            item, exc = self._queue.get()
            if exc is not None:
                raise exc
            if item is self._END:
                return
            yield item

    def close(self) -> None:
        self._stop.set()


# Below this many rows a first load keeps its table's secondary indexes: rebuilding them costs a few
# statements, inserting a few rows into them costs nothing worth saving.
BULK_ROWS = 10_000


# A partial index is built on a bulk load's first slice and kept through the rest of the load when it holds at most
# this share of the slice's rows (`_Deferred.keep_the_small_partial_ones`).
PARTIAL_KEPT_SHARE = 0.05


class _Deferred:
    """The secondary indexes a PostgreSQL bulk load dropped (`_secondary_indexes_built_after`), and which of its
    partial ones it has built already."""

    def __init__(self, cur, name: str, indexes: list[tuple[str, str]], partial: dict[str, str]):
        self.cur, self.name, self.indexes, self.partial = cur, name, indexes, partial
        self.built: set[str] = set()

    def keep_the_small_partial_ones(self, loaded: int) -> None:
        """Build now, on the `loaded` rows the table holds, each partial index whose predicate holds for at most
        `PARTIAL_KEPT_SHARE` of them; the rest of the load then adds its few entries to it.

        Built after the load, each partial index reads the whole table for the few rows it holds (1M PRs: the
        reverts', the tool PRs' and the unmerged AI signals' indexes, 0.15-0.2 s each at load 7). Kept through
        the load, one that holds most rows took its entries out of order (an organisation where most PRs name a
        tool: +6 to +14 server CPU-s at 1M PRs, imp11), so only those that hold few of the first rows are kept;
        the others are built after the load as before. One scan of the loaded rows counts them all."""
        if not self.partial or loaded <= 0:
            return
        names = list(self.partial)
        counts = ", ".join(f"count(*) FILTER (WHERE {self.partial[index]})" for index in names)
        self.cur.execute(f"SELECT {counts} FROM {_q(self.name)}")
        holding = dict(zip(names, self.cur.fetchone()))
        for index, definition in self.indexes:
            if index in holding and holding[index] <= loaded * PARTIAL_KEPT_SHARE:
                self.cur.execute(definition)
                self.built.add(index)


@contextlib.contextmanager
def _secondary_indexes_built_after(cur, dialect: str, name: str, rows: int) -> Iterator[_Deferred | None]:
    """Drop the table's secondary indexes (the primary key's stays), let the caller bulk-load, then
    create them again, all inside the write's transaction: a rolled-back load leaves them as they were.

    Rows arrive in key order, so each index on another column (the counting-time ones of migration
    0008) is a random-order B-tree insert per row; one sorted build after the load costs a fraction of
    that (a 1M-PR first load: five indexes). Only for a bulk load into an empty table, where the build
    reads just the rows loaded. The indexes are re-created from the database's own definitions, so an
    index a migration or an operator added comes back as it was."""
    if rows < BULK_ROWS:
        yield None
        return
    # The partial indexes are dropped too, though each build after the load reads the whole table for few rows
    # (1M PRs: 0.14-0.21 CPU-s each): kept through the load, a partial index that holds most rows (the tool PRs'
    # in an organisation where most PRs name a tool) took its entries out of order, +6 to +14 CPU-s of the server
    # at 1M PRs (imp11, performance log). A load given in slices builds those that hold few of its first slice's
    # rows on that slice and keeps them through the rest (`_Deferred`, `_load_key_ordered`).
    indexes = _secondary_indexes(cur, dialect, name)
    partial = _partial_predicates(cur, name) if dialect == "postgresql" else {}
    for index, _ in indexes:
        cur.execute(f"DROP INDEX {_q(index)}")
    if dialect == "sqlite":
        # The rows are appended in key order: each B-tree grows at its right edge only, so a small cache
        # holds every page the append touches again, and each full page goes to the WAL as it is
        # evicted. With the connection's 256 MB cache the whole table stayed in memory and was written
        # at the commit: 2M tickets, 0.3-0.5 CPU-s more (the cache's own page faults, and the longer
        # write at the end). The connection's setting comes back after the index builds.
        cur.execute(f"PRAGMA cache_size=-{BULK_LOAD_CACHE_KB}")
        try:
            yield None
            _build_sqlite_indexes(cur, indexes)
        finally:
            cur.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KB}")
        return
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")  # each build sorts in memory, not on disk
    deferred = _Deferred(cur, name, indexes, partial)
    yield deferred
    for index, definition in indexes:
        if index not in deferred.built:
            cur.execute(definition)
    # The planner's statistics, now: a table just bulk-loaded has none until autovacuum comes by, and
    # without them PostgreSQL took the upkeep's 200-arm lookup of revert targets for millions of rows and
    # JIT-compiled it (15.5 s for a 12 ms query; a 1-PR import after a 1M-PR load took 77-153 s).
    cur.execute(f"ANALYZE {_q(name)}")
    loaded = _bulk_loaded.get()
    if loaded is not None:
        loaded.append(name)  # VACUUMed once committed (`_vacuum`)


def _build_sqlite_indexes(cur, indexes: list[tuple[str, str]]) -> None:
    """Create `indexes` (name, definition) on SQLite after a bulk load, with the bulk load's small page
    cache (set by the caller) and the sorter's runs in a temp file."""
    if not indexes:
        return
    # SQLite's sorter sorts runs the size of the page cache and merges them, or, when temp_store is
    # MEMORY, sorts the whole index as one in-memory list; large runs sort slowly. With the connection's
    # 256 MB cache and MEMORY (what staging wants) one index on 1M PRs cost 2.2-3.4 CPU-s, with a 16 MB
    # cache and a temp file 0.5-0.6 (the sqlite3 shell on the same table; more sorter threads only
    # added CPU); with 2 MB, less again (the four PR indexes 3.0 CPU-s against 3.8 with 16 MB, the
    # tickets' one 0.9 against 1.7: the shell on the imported tables, commit included). So the builds
    # run with those, and the connection's own settings come back after them
    # (no temp table exists at this point: changing temp_store would drop it).
    cur.execute("PRAGMA temp_store=FILE")
    try:
        for _, definition in indexes:
            cur.execute(definition)
    finally:
        cur.execute("PRAGMA temp_store=MEMORY")


def _secondary_indexes(cur, dialect: str, name: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of each index on table `name` that no constraint owns.

    The table's name is written into the query as a quoted literal, not bound: ADBC binds a Python
    parameter through pyarrow's conversion of Python lists, which imports pandas (0.25-0.35 CPU-s of
    every bulk load). `name` is one of the schema's tables (`_upsert` checks)."""
    if dialect == "sqlite":
        # `sql` is null for the indexes SQLite makes itself (a primary key or UNIQUE constraint's).
        cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    f"AND tbl_name = {_literal(name)} AND sql IS NOT NULL ORDER BY name")
    else:
        cur.execute("SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                    f"JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass({_literal(_q(name))}) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1")
    return [(index, definition) for index, definition in cur.fetchall()]


def _partial_predicates(cur, name: str) -> dict[str, str]:
    """Index name → its predicate (SQL over the table's columns) for each partial index on table `name`
    (PostgreSQL; the name inlined as in `_secondary_indexes`)."""
    cur.execute("SELECT i.relname, pg_get_expr(x.indpred, x.indrelid) FROM pg_index x "
                f"JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass({_literal(_q(name))}) "
                "AND x.indpred IS NOT NULL ORDER BY 1")
    return {index: predicate for index, predicate in cur.fetchall()}


def _rowid_is_internal(table) -> bool:
    """False when the key is one integer column, which SQLite makes the rowid itself."""
    keys = list(table.primary_key.columns)
    return not (len(keys) == 1 and polars_dtype(keys[0]) == pl.Int64())


def _distinct(frame: pl.DataFrame, keys: list[str]) -> bool:
    """True when no two rows share a key, judged from the keys' hashes: distinct hashes mean distinct
    keys (equal hashes send it to the exact count)."""
    hashed = frame.get_column(keys[0]).hash() if len(keys) == 1 else frame.select(pl.struct(keys).hash()).to_series()
    if hashed.n_unique() == frame.height:
        return True
    exact = pl.struct(keys).n_unique() if len(keys) > 1 else pl.col(keys[0]).n_unique()
    return frame.select(exact).item() == frame.height


def _sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    # One thread: polars' parallel sort took twice the CPU for the same order on two cores (1M PR ids,
    # which share long prefixes: 1.3 CPU-s against 0.65), and no less wall time.
    return frame.sort(keys, multithreaded=False)


def _repeats_adjacent(ordered: pl.DataFrame, keys: list[str]) -> bool:
    """True when two neighbouring rows of a frame sorted by `keys` share their key (a null equal to a
    null, as `unique` counts them)."""
    if ordered.height < 2:
        return False
    same = None
    for key in keys:
        column = ordered.get_column(key)
        equal = column.slice(1).eq_missing(column.slice(0, ordered.height - 1))
        same = equal if same is None else same & equal
    return bool(same.any())


def _is_empty(cur, name: str) -> bool:
    # Inside the write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: the writer lock), so no other
    # writer can fill it meanwhile.
    cur.execute(f"SELECT 1 FROM {_q(name)} LIMIT 1")
    return cur.fetchone() is None


def _affected(cur, dialect: str) -> int:
    if dialect == "sqlite":
        cur.execute("SELECT changes()")
        return cur.fetchone()[0]
    return cur.rowcount


def _temp(dialect: str, name: str) -> str:
    return f"temp.{_q(name)}" if dialect == "sqlite" else f"pg_temp.{_q(name)}"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """`text` as an SQL string literal (both dialects: standard_conforming_strings is PostgreSQL's default)."""
    return "'" + text.replace("'", "''") + "'"


def _clean(exc: Exception, warehouse: Warehouse) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = warehouse.url.password
    return text.replace(password, "***") if password else text
