"""Idempotent, atomic upserts on both backends."""
import datetime as dt
import logging

import polars as pl
import pytest

from warehouse import WarehouseError, open_warehouse, read_table, upsert_frames

UTC = dt.timezone.utc


def prs(**overrides) -> pl.DataFrame:
    base = {
        "id": ["github:acme/api#1", "github:acme/api#2"], "source": ["github", "github"],
        "repo": ["acme/api", "acme/api"], "number": [1, 2], "title": ["Add cache", "Fix bug"],
        "merged_at": [dt.datetime(2026, 3, 1, 10, tzinfo=UTC), None],
        "ai_assisted": [True, False], "is_revert": [False, False], "labels": ['["copilot"]', "[]"],
    }
    base.update(overrides)
    return pl.DataFrame(base)


def test_reupserting_the_same_rows_changes_nothing(warehouse):
    first = upsert_frames(warehouse, {"pull_requests": prs()})["pull_requests"]
    again = upsert_frames(warehouse, {"pull_requests": prs()})["pull_requests"]
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert read_table(warehouse, "pull_requests").height == 2


def test_a_changed_value_updates_one_row_and_round_trips_types(warehouse):
    upsert_frames(warehouse, {"pull_requests": prs()})
    changed = upsert_frames(warehouse, {"pull_requests": prs(title=["Add cache", "Fix the bug"])})["pull_requests"]
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    rows = read_table(warehouse, "pull_requests").sort("id")
    assert rows["title"].to_list() == ["Add cache", "Fix the bug"]
    assert rows["merged_at"].to_list() == [dt.datetime(2026, 3, 1, 10, tzinfo=UTC), None]
    assert rows.schema["merged_at"] == pl.Datetime("us", "UTC")
    assert rows["ai_assisted"].to_list() == [True, False]


def test_dates_and_floats_round_trip(warehouse):
    spend = pl.DataFrame({"id": ["s1"], "source": ["csv"], "date": [dt.date(2026, 2, 28)], "cost_usd": [12.345]})
    upsert_frames(warehouse, {"ai_spend": spend})
    row = read_table(warehouse, "ai_spend").row(0, named=True)
    assert (row["date"], row["cost_usd"]) == (dt.date(2026, 2, 28), 12.345)


def test_a_failing_table_rolls_back_every_table_of_the_call(warehouse):
    bad = pl.DataFrame({"id": ["d1"], "source": ["csv"], "repo": ["acme/api"]})  # environment/status are NOT NULL
    with pytest.raises(WarehouseError):
        upsert_frames(warehouse, {"pull_requests": prs(), "deployments": bad})
    assert read_table(warehouse, "pull_requests").height == 0


def test_duplicate_keys_in_one_frame_keep_the_last(warehouse):
    frame = prs(id=["github:acme/api#1", "github:acme/api#1"], title=["old", "new"])
    counts = upsert_frames(warehouse, {"pull_requests": frame})["pull_requests"]
    assert counts.inserted == 1
    assert read_table(warehouse, "pull_requests")["title"].to_list() == ["new"]


@pytest.mark.parametrize("bulk_rows", [2, 10_000])  # the bulk first load (sorted, then neighbours compared) and the other
def test_repeated_keys_of_a_first_load_keep_the_last_wherever_they_are(warehouse, monkeypatch, bulk_rows):
    import warehouse.write as write

    monkeypatch.setattr(write, "BULK_ROWS", bulk_rows)
    ids = ["github:acme/api#3", "github:acme/api#1", "github:acme/api#2", "github:acme/api#1", "github:acme/api#3"]
    frame = prs(id=ids, source=["github"] * 5, repo=["acme/api"] * 5, number=[3, 1, 2, 1, 3],
                title=["3 old", "1 old", "2", "1 new", "3 new"], merged_at=[None] * 5, ai_assisted=[False] * 5,
                is_revert=[False] * 5, labels=["[]"] * 5)
    counts = upsert_frames(warehouse, {"pull_requests": frame})["pull_requests"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (3, 0, 0)
    assert read_table(warehouse, "pull_requests").sort("id")["title"].to_list() == ["1 new", "2", "3 new"]
    # two key columns: a pair repeats only when both columns do
    links = pl.DataFrame({"deployment_id": ["d2", "d1", "d1", "d2", "d1"], "pr_id": ["p1", "p1", "p2", "p1", "p1"],
                          "source": ["a", "b", "c", "d", "e"]})
    counts = upsert_frames(warehouse, {"deployment_prs": links})["deployment_prs"]
    assert counts.inserted == 3
    kept = read_table(warehouse, "deployment_prs").sort("deployment_id", "pr_id")
    assert kept.select("deployment_id", "pr_id", "source").rows() == [("d1", "p1", "e"), ("d1", "p2", "c"), ("d2", "p1", "d")]


def test_write_repeats_adjacent_compares_every_key_column_and_nulls_as_equal():
    from warehouse.write import _repeats_adjacent

    assert not _repeats_adjacent(pl.DataFrame({"a": ["x", "x"], "b": [1, 2]}), ["a", "b"])
    assert _repeats_adjacent(pl.DataFrame({"a": ["x", "x"], "b": [1, 1]}), ["a", "b"])
    assert _repeats_adjacent(pl.DataFrame({"a": [None, None, "y"]}, schema={"a": pl.String}), ["a"])
    assert not _repeats_adjacent(pl.DataFrame({"a": [None, "y"]}, schema={"a": pl.String}), ["a"])
    assert not _repeats_adjacent(pl.DataFrame({"a": ["x"]}), ["a"])


def test_one_call_counts_new_changed_and_unchanged_rows_apart(warehouse):
    upsert_frames(warehouse, {"pull_requests": prs()})
    ids = ["github:acme/api#1", "github:acme/api#2", "github:acme/api#3"]
    mixed = prs(id=ids, source=["github"] * 3, repo=["acme/api"] * 3, number=[1, 2, 3],
                title=["Add cache", "Fix the bug", "New"], merged_at=[dt.datetime(2026, 3, 1, 10, tzinfo=UTC), None, None],
                ai_assisted=[True, False, False], is_revert=[False] * 3, labels=['["copilot"]', "[]", "[]"])
    counts = upsert_frames(warehouse, {"pull_requests": mixed})["pull_requests"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 1)
    assert read_table(warehouse, "pull_requests").sort("id")["title"].to_list() == ["Add cache", "Fix the bug", "New"]


def test_a_later_batch_updating_a_row_an_earlier_batch_inserted_counts_it_as_updated(warehouse):
    from warehouse.write import upsert_batches

    # The first batch fills the empty table; the second both updates one of its rows and adds one
    # (inside the same transaction: PostgreSQL's counts must not mistake the update for an insert).
    second = prs(id=["github:acme/api#2", "github:acme/api#9"], title=["Fix the bug", "Other"])
    counts = upsert_batches(warehouse, iter([{"pull_requests": prs()}, {"pull_requests": second}]))["pull_requests"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (3, 1, 0)
    assert read_table(warehouse, "pull_requests").height == 3


def test_a_two_column_key_counts_repeats_as_unchanged(warehouse):
    links = pl.DataFrame({"deployment_id": ["d1", "d1"], "pr_id": ["p1", "p2"], "source": ["csv", "csv"]})
    upsert_frames(warehouse, {"deployment_prs": links.head(1)})
    counts = upsert_frames(warehouse, {"deployment_prs": links})["deployment_prs"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 0, 1)


def _indexes(warehouse, table: str) -> list[tuple]:
    import sqlalchemy as sa

    found = sa.inspect(warehouse.engine).get_indexes(table)
    return sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found)


def _by_merged_at_uses_an_index(warehouse) -> bool:
    import sqlalchemy as sa

    query = "SELECT id FROM pull_requests WHERE merged_at > 0" if warehouse.dialect == "sqlite" else \
        "SELECT id FROM pull_requests WHERE merged_at > '2026-01-01'"
    with warehouse.engine.connect() as conn:
        if warehouse.dialect == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {query}")))
        else:
            conn.execute(sa.text("SET enable_seqscan = off"))
            plan = " ".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {query}")))
    return "ix_pull_requests_merged_at" in plan


def test_a_bulk_first_load_builds_the_secondary_indexes_after_the_rows(warehouse, monkeypatch):
    import warehouse.write as write

    before = _indexes(warehouse, "pull_requests")
    # migration 0009's, widened by 0012 with the repo and the team
    assert ("ix_pull_requests_merged_at", ("merged_at", "author", "ai_assisted", "repo", "team"), False) in before
    monkeypatch.setattr(write, "BULK_ROWS", 2)  # these two rows count as a bulk load
    counts = upsert_frames(warehouse, {"pull_requests": prs()})["pull_requests"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (2, 0, 0)
    assert _indexes(warehouse, "pull_requests") == before
    assert _by_merged_at_uses_an_index(warehouse)
    # The indexes hold the rows loaded before they were built: a lookup through one finds them.
    again = upsert_frames(warehouse, {"pull_requests": prs(title=["Add cache", "Fix the bug"])})["pull_requests"]
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    assert read_table(warehouse, "pull_requests").sort("id")["title"].to_list() == ["Add cache", "Fix the bug"]


@pytest.mark.postgres
def test_a_bulk_first_load_on_postgresql_leaves_the_planner_statistics(postgres_schema_url, monkeypatch):
    """PostgreSQL plans from statistics that a freshly loaded table lacks until autovacuum runs (a 1-PR
    import after a 1M-PR load misplanned one lookup into 15 s): the bulk load analyses what it loaded.
    (SQLite plans without statistics: PostgreSQL only.)"""
    import sqlalchemy as sa

    import warehouse.write as write

    warehouse = open_warehouse(postgres_schema_url)
    monkeypatch.setattr(write, "BULK_ROWS", 2)
    upsert_frames(warehouse, {"pull_requests": prs()})
    with warehouse.engine.connect() as conn:
        # Column statistics exist only once the table is analysed (an index build alone sets its row count).
        columns = conn.execute(sa.text("SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
                                       "AND tablename = 'pull_requests'")).scalar_one()
    warehouse.engine.dispose()
    assert columns > 10


def _all_visible(warehouse, table: str) -> tuple[int, int]:
    """(pages, pages marked all-visible) of `table` as VACUUM last counted them (PostgreSQL)."""
    import sqlalchemy as sa

    with warehouse.engine.connect() as conn:
        return tuple(conn.execute(sa.text("SELECT relpages, relallvisible FROM pg_class "
                                          f"WHERE oid = to_regclass('{table}')")).one())


def _older_snapshots(warehouse) -> bool:
    """Whether another session of the server holds a snapshot (which can keep VACUUM from marking pages)."""
    import sqlalchemy as sa

    with warehouse.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                                    "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)")).scalar_one() > 0


@pytest.mark.postgres
def test_a_bulk_first_load_on_postgresql_leaves_the_table_vacuumed(postgres_schema_url, monkeypatch, caplog):
    """An index-only scan reads the table's rows too until VACUUM marks its pages all-visible (the upkeep's
    weekly merge counts from the merged_at index: ~16k table pages for four weeks at 1M PRs): the bulk
    load VACUUMs what it loaded once committed. A small write after it VACUUMs nothing, and a load that
    fails leaves nothing to VACUUM."""
    import warehouse.write as write

    warehouse = open_warehouse(postgres_schema_url)
    monkeypatch.setattr(write, "BULK_ROWS", 2)
    vacuumed = []
    monkeypatch.setattr(write, "_vacuum", lambda conn, tables, real=write._vacuum: (vacuumed.append(tables), real(conn, tables)))
    bad = pl.DataFrame({"id": ["d1"], "source": ["csv"], "repo": ["acme/api"]})  # environment/status are NOT NULL
    with pytest.raises(WarehouseError):
        upsert_frames(warehouse, {"pull_requests": prs(), "deployments": bad})
    assert vacuumed == []
    with caplog.at_level(logging.WARNING, logger="warehouse.write"):
        upsert_frames(warehouse, {"pull_requests": prs()})
    assert vacuumed == [["pull_requests"]]
    assert not [r for r in caplog.records if "VACUUM" in r.getMessage()]  # it ran, and did not fail
    pages, visible = _all_visible(warehouse, "pull_requests")
    # VACUUM marks a page all-visible only when no transaction of the server could still miss its rows: on
    # a server shared with other work (another test, another database's long transaction) it may not.
    if not _older_snapshots(warehouse):
        assert pages >= 1 and visible == pages  # without the VACUUM: 0 pages all-visible
    upsert_frames(warehouse, {"pull_requests": prs(title=["Add cache", "Fix the bug"])})  # staged, not bulk
    assert vacuumed == [["pull_requests"]]
    warehouse.engine.dispose()


@pytest.mark.postgres
def test_postgresql_connections_share_one_adbc_database_and_nothing_else(postgres_schema_url):
    """The ADBC connections of one process to one URI come from one ADBC database (opening one reads the
    type catalog: most of a connection's cost), and each keeps its own session: a temporary table and an
    open transaction of one are not seen by another, and closing one leaves the database usable."""
    import warehouse.write as write

    warehouse = open_warehouse(postgres_schema_url)
    uri = warehouse.arrow_uri()
    write._databases.pop(uri, None)
    first, second = write.postgres_connection(uri), write.postgres_connection(uri)
    try:
        assert list(write._databases).count(uri) == 1
        a, b = first.cursor(), second.cursor()
        a.execute("BEGIN")
        a.execute("CREATE TEMPORARY TABLE only_here (x int)")
        a.execute("INSERT INTO pull_requests (id, source, repo, number, title, ai_assisted, is_revert) "
                  "VALUES ('github:acme/api#9', 'github', 'acme/api', 9, 'T', false, false)")
        b.execute("SELECT count(*) FROM pull_requests")
        assert b.fetchone()[0] == 0  # not committed: the other session does not see it
        b.execute("SELECT to_regclass('pg_temp.only_here') IS NULL")
        assert b.fetchone()[0] is True
        a.execute("ROLLBACK")
        a.close(), b.close()
    finally:
        first.close()
        second.close()
    third = write.postgres_connection(uri)  # the database outlives the connections made from it
    try:
        cur = third.cursor()
        cur.execute("SELECT count(*) FROM pull_requests")
        assert cur.fetchone()[0] == 0
        cur.close()
    finally:
        third.close()
    warehouse.engine.dispose()


def test_a_failed_bulk_first_load_leaves_the_indexes_and_no_rows(warehouse, monkeypatch):
    import warehouse.write as write

    before = _indexes(warehouse, "pull_requests")
    monkeypatch.setattr(write, "BULK_ROWS", 2)
    bad = pl.DataFrame({"id": ["d1"], "source": ["csv"], "repo": ["acme/api"]})  # environment/status are NOT NULL
    with pytest.raises(WarehouseError):  # the PRs are loaded and indexed, then the deployments fail
        upsert_frames(warehouse, {"pull_requests": prs(), "deployments": bad})
    with pytest.raises(WarehouseError):  # the load itself fails (ai_assisted is NOT NULL)
        upsert_frames(warehouse, {"pull_requests": prs().drop("ai_assisted")})
    assert read_table(warehouse, "pull_requests").height == 0
    assert _indexes(warehouse, "pull_requests") == before


@pytest.mark.postgres
def test_the_adbc_database_is_opened_ahead_for_the_warehouses_own_uri(postgres_schema_url, sqlite_url):
    """`scorecard import` starts opening the PostgreSQL warehouse's ADBC database on a thread while it does
    other work; its connections then come from that database (the same URI the warehouse gives), and
    another kind of URL starts nothing."""
    import threading

    import warehouse.write as write

    warehouse = open_warehouse(postgres_schema_url)
    write._databases.pop(warehouse.arrow_uri(), None)
    before = set(write._databases)
    write.open_postgres_ahead(sqlite_url)
    assert not [t for t in threading.enumerate() if t.name == "adbc-open"]
    write.open_postgres_ahead(postgres_schema_url)
    for thread in [t for t in threading.enumerate() if t.name == "adbc-open"]:
        thread.join(30)
    assert set(write._databases) - before == {warehouse.arrow_uri()}
    upsert_frames(warehouse, {"pull_requests": prs()})
    assert set(write._databases) - before == {warehouse.arrow_uri()}
    assert read_table(warehouse, "pull_requests").height == 2
    warehouse.engine.dispose()


def _five_prs() -> pl.DataFrame:
    """Five PRs out of key order, with a null in every nullable kind of column (text, integer, timestamp)."""
    ids = [f"github:acme/api#{n}" for n in (4, 1, 5, 3, 2)]
    return prs(id=ids, source=["github"] * 5, repo=["acme/api"] * 5, number=[4, 1, None, 3, 2],
               title=["D", None, "E", "C", "B"],
               merged_at=[dt.datetime(2026, 3, d, 10, tzinfo=UTC) if d else None for d in (4, 1, None, 3, 2)],
               ai_assisted=[True, False, False, True, False], is_revert=[False, False, True, False, False],
               labels=['["copilot"]', "[]", "[]", None, "[]"])


def test_postgresql_copy_is_fed_in_batches_of_the_frame_in_its_order(monkeypatch):
    """On PostgreSQL a frame reaches COPY as batches of `COPY_BATCH_ROWS` rows, each the same Arrow data
    `to_storage` makes of its slice (so the server stores one batch while the client converts the next);
    on SQLite, and on PostgreSQL for a frame of one batch or less, as one Arrow table."""
    import pyarrow as pa

    import warehouse.write as write
    from warehouse.schema import TABLES
    from warehouse.types import to_storage

    monkeypatch.setattr(write, "COPY_BATCH_ROWS", 2)
    frame, table = _five_prs(), TABLES["pull_requests"]
    stream = write._arrow(frame, table, "postgresql")
    assert isinstance(stream, pa.RecordBatchReader)
    batches = list(stream)
    assert [b.num_rows for b in batches] == [2, 2, 1]
    whole = to_storage(frame, table, "postgresql")
    assert pa.Table.from_batches(batches).equals(whole)
    assert write._arrow(frame, table, "sqlite").equals(to_storage(frame, table, "sqlite"))
    assert write._arrow(frame.head(2), table, "postgresql").equals(to_storage(frame.head(2), table, "postgresql"))


def test_rows_written_in_batches_read_back_as_given_on_both_paths(warehouse, monkeypatch):
    """A bulk first load and a staged upsert of a frame larger than one COPY batch store every row as given
    (on SQLite the frame goes whole; the same test holds both)."""
    import warehouse.write as write

    monkeypatch.setattr(write, "COPY_BATCH_ROWS", 2)
    monkeypatch.setattr(write, "BULK_ROWS", 2)
    frame = _five_prs()
    first = upsert_frames(warehouse, {"pull_requests": frame})["pull_requests"]
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    columns = frame.columns
    stored = read_table(warehouse, "pull_requests").select(columns).sort("id")
    assert stored.equals(frame.sort("id"))
    changed = frame.with_columns(title=pl.Series(["D", "A", "E", "C", "B2"]))  # staged: every row looked up
    again = upsert_frames(warehouse, {"pull_requests": changed})["pull_requests"]
    assert (again.inserted, again.updated, again.unchanged) == (0, 2, 3)
    assert read_table(warehouse, "pull_requests").select(columns).sort("id").equals(changed.sort("id"))


def test_items_made_ahead_come_in_order_and_a_failure_after_those_made_before_it(monkeypatch):
    """`_Ahead` makes the COPY's batches on a thread of its own, at most `AHEAD_BATCHES` ahead: the consumer gets
    every item in order, then the maker's exception as it was raised (after the items made before it); a consumer
    that stops early, or a stream dropped unread, stops the maker."""
    import threading
    import time

    import warehouse.write as write

    monkeypatch.setattr(write, "AHEAD_BATCHES", 2)
    assert list(write._Ahead(iter(range(7)))) == list(range(7))

    def failing():
        yield from (1, 2, 3)
        raise ValueError("line 9: not a date")

    got = []
    with pytest.raises(ValueError, match="line 9: not a date"):
        for item in write._Ahead(failing()):
            got.append(item)
    assert got == [1, 2, 3]

    made = []

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    ahead = write._Ahead(endless())
    assert next(iter(ahead)) == 0
    time.sleep(0.3)
    assert len(made) <= 2 + 2  # the one taken, two waiting, one held by the blocked maker
    ahead.close()
    ahead._maker.join(timeout=2)
    assert not ahead._maker.is_alive()
    # A stream dropped before anything was read from it (an ingest that failed at its start) stops its maker too:
    # five batches of one row, the first made at once, two waiting, the maker blocked on the fourth.
    monkeypatch.setattr(write, "COPY_BATCH_ROWS", 1)
    stream = write._arrow_stream(iter([_five_prs()]), write.TABLES["pull_requests"], "postgresql", ahead=True)
    time.sleep(0.3)
    makers = [t for t in threading.enumerate() if t.name == "copy-ahead" and t.is_alive()]
    assert len(makers) == 1
    del stream
    for maker in makers:
        maker.join(timeout=2)
    assert not any(t.is_alive() for t in makers)
