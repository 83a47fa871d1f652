"""Every PostgreSQL connection the product opens runs without JIT and keeps the URL's own `options`
(here the test schema's search_path): SQLAlchemy's, connectorx's, the shared ADBC read connection's and
the read-only reader's."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from warehouse import open_warehouse
from warehouse.read import one_connection, read_arrow
from warehouse.readonly import open_read_only

pytestmark = pytest.mark.postgres

SETTINGS = "current_setting('jit') = 'off' AND current_setting('search_path') LIKE 't\\_%'"


def test_every_connection_runs_without_jit_and_keeps_the_urls_options(postgres_schema_url):
    wh = open_warehouse(postgres_schema_url)
    try:
        with wh.engine.connect() as conn:
            jit, path = conn.execute(sa.text("SELECT current_setting('jit'), current_setting('search_path')")).one()
        assert jit == "off" and path.startswith("t_")
        assert read_arrow(wh, "cube_state", ["id"], None).num_rows == 0  # the schema's own (empty) table
        # A row of sync_runs makes the condition visible: the read returns it only when both settings hold.
        with wh.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO sync_runs (source, started_at, status, rows) VALUES ('t', now(), 'ok', 0)"))
        assert read_arrow(wh, "sync_runs", ["source"], SETTINGS).num_rows == 1  # connectorx
        with one_connection(wh):
            assert read_arrow(wh, "sync_runs", ["source"], SETTINGS).num_rows == 1  # the shared ADBC connection
        with open_read_only(postgres_schema_url) as reader:
            assert reader.rows("SELECT current_setting('jit'), current_setting('search_path')")[0][0] == "off"
            assert reader.rows("SELECT current_setting('search_path')")[0][0].startswith("t_")
    finally:
        wh.engine.dispose()


def test_a_read_begun_ahead_runs_on_a_second_connection_in_the_same_snapshot(postgres_schema_url):
    """`read_where_ahead` inside `one_connection`: its own connection (another server process), the URL's
    options and no JIT, and the first connection's snapshot: a row committed after that snapshot was
    taken is not read, though the second connection opens after the commit."""
    from warehouse.read import _shared, read_where, read_where_ahead

    def shared_cursor():
        return _shared.get()[1]

    wh = open_warehouse(postgres_schema_url)
    try:
        with wh.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO sync_runs (source, started_at, status, rows) VALUES ('before', now(), 'ok', 0)"))
        with one_connection(wh):
            mine = read_where(wh, "sync_runs", ["source"], "true")  # takes the snapshot: one row
            with wh.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO sync_runs (source, started_at, status, rows) VALUES ('after', now(), 'ok', 0)"))
            ahead = read_where_ahead(wh, "sync_runs", ["source"], SETTINGS)
            cur = shared_cursor()
            cur.execute("SELECT pg_backend_pid()")
            first = int(cur.fetchone()[0])
            pids = read_where_ahead(wh, "sync_runs", ["source"], f"pg_backend_pid() <> {first}")
            here = read_arrow(wh, "sync_runs", ["source"], None)
            assert mine.get_column("source").to_list() == ["before"]
            assert ahead().get_column("source").to_list() == ["before"]  # not 'after': the same snapshot
            assert pids().height == 1  # another server process
            assert here.column("source").to_pylist() == ["before"]
            assert read_arrow(wh, "sync_runs", ["source"], f"pg_backend_pid() = {first}").num_rows == 1
        # Outside the block: a plain read, which sees both rows.
        assert sorted(read_where_ahead(wh, "sync_runs", ["source"], None)().get_column("source").to_list()) == ["after", "before"]
    finally:
        wh.engine.dispose()
