"""Migrations build exactly the schema module's tables, on both backends, and run once."""
import datetime as dt

import polars as pl
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from warehouse import open_warehouse
from warehouse.schema import metadata


def test_migrated_database_matches_the_schema_module(warehouse):
    with warehouse.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert compare_metadata(context, metadata) == []
        assert set(sa.inspect(conn).get_table_names()) == set(metadata.tables) | {"alembic_version"}


def test_opening_again_keeps_the_data(warehouse_url):
    wh = open_warehouse(warehouse_url)
    with wh.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sync_state (source, stream, cursor, updated_at) VALUES ('x', 'y', 'z', 0)")
                     if wh.dialect == "sqlite" else
                     sa.text("INSERT INTO sync_state (source, stream, cursor, updated_at) VALUES ('x', 'y', 'z', now())"))
    from warehouse import engine as engine_module

    engine_module._migrated.clear()  # as a new process would
    again = open_warehouse(warehouse_url)
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT cursor FROM sync_state")).scalar_one() == "z"


def test_upgrading_a_warehouse_with_data_keeps_it_and_rekeys_csv_spend(warehouse_url):
    """A 0001 warehouse holding a ticket and a CSV spend row keyed by its text: after the upgrade the
    ticket is there (its channel column now nullable, original_channel empty) and the spend row has
    the id its values make."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from connectors.csv.identity import content_ids
    from warehouse import engine as engine_module

    wh = open_warehouse(warehouse_url, migrate=False)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(engine_module.MIGRATIONS_DIR))
    with wh.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        day = 20513 if wh.dialect == "sqlite" else "2026-03-01"  # 2026-03-01 as SQLite stores it: days since 1970
        conn.execute(sa.text("INSERT INTO tickets (id, source, channel) VALUES ('t1', 'csv', 'human')"))
        conn.execute(sa.text("INSERT INTO ai_spend (id, source, date, team, cost_usd) "
                             f"VALUES ('csv:ai_spend:old:1', 'csv', {day!r}, 'web', 12.5)"))
    engine_module._migrated.clear()
    again = open_warehouse(warehouse_url)
    expected = content_ids(pl.DataFrame({"date": [dt.date(2026, 3, 1)], "team": ["web"], "cost_usd": [12.5]}),
                           ("date", "team", "tool", "model", "workflow", "cost_usd"), "csv:ai_spend")[0]
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT channel, original_channel FROM tickets")).one() == ("human", None)
        assert conn.execute(sa.text("SELECT id FROM ai_spend")).scalar_one() == expected
    wh.engine.dispose()
    again.engine.dispose()


def test_code_head_read_from_the_files_is_alembics_head():
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from warehouse import engine as engine_module

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(engine_module.MIGRATIONS_DIR))
    assert engine_module.code_head() == ScriptDirectory.from_config(cfg).get_current_head()


def test_a_warehouse_at_head_opens_without_loading_alembic(warehouse_url):
    """The migration check is one query when the stored revision is the code's head: a new process
    opening a migrated warehouse never imports Alembic."""
    import subprocess
    import sys

    open_warehouse(warehouse_url).engine.dispose()
    code = ("import sys; from warehouse import open_warehouse; open_warehouse(sys.argv[1]).engine.dispose(); "
            "print('alembic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, warehouse_url], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_warehouse_behind_head_is_migrated_by_alembic(warehouse_url):
    """A stored revision other than the head (here a warehouse left at 0005) takes Alembic's path
    and reaches it."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from warehouse import engine as engine_module

    wh = open_warehouse(warehouse_url, migrate=False)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(engine_module.MIGRATIONS_DIR))
    with wh.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    engine_module._migrated.clear()
    again = open_warehouse(warehouse_url)
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == engine_module.code_head()
        assert "ai_usage_people" in sa.inspect(conn).get_table_names()  # made by 0006


def test_migration_0011_covers_the_tickets_read_and_compresses_chunks_with_lz4_on_postgresql(warehouse):
    """PostgreSQL: the tickets' resolved_at index carries team, channel and csat (the upkeep reads those from
    the index alone), and `cube_chunks.data` is compressed with lz4 where the server offers it. SQLite: the
    plain index, as before."""
    with warehouse.engine.connect() as conn:
        if warehouse.dialect == "sqlite":
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_tickets_resolved_at'")).scalar_one()
            assert sql == "CREATE INDEX ix_tickets_resolved_at ON tickets (resolved_at)"
            return
        definition = conn.execute(sa.text(
            "SELECT pg_get_indexdef(to_regclass('ix_tickets_resolved_at'))")).scalar_one()
        assert definition.endswith("USING btree (resolved_at) INCLUDE (team, channel, csat)")
        lz4 = conn.execute(sa.text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                   "WHERE name = 'default_toast_compression'")).scalar()
        compression = conn.execute(sa.text(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = to_regclass('cube_chunks') "
            "AND attname = 'data'")).scalar_one()
        assert compression == ("l" if lz4 else "")


def test_migration_0017_compares_the_merge_sha_byte_by_byte_on_postgresql(warehouse):
    """PostgreSQL: `pull_requests.merge_commit_sha` has collation "C" (its index builds sort by bytes, not by the
    database's locale), and its index still answers an equality and a lower-cased prefix's range (the revert
    lookup's, warehouse/slice.py). SQLite compares text by bytes already: the column is as before."""
    with warehouse.engine.connect() as conn:
        if warehouse.dialect == "sqlite":
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'pull_requests'")).scalar_one()
            assert "merge_commit_sha VARCHAR," in sql
            return
        collation = conn.execute(sa.text(
            "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'pull_requests' AND column_name = 'merge_commit_sha'")).scalar_one()
        assert collation == "C"
        conn.execute(sa.text(
            "INSERT INTO pull_requests (id, source, repo, number, ai_assisted, is_revert, merge_commit_sha) VALUES "
            "('a', 'csv', 'r', 1, false, false, 'abc123'), ('b', 'csv', 'r', 2, false, false, 'ABC999'), "
            "('c', 'csv', 'r', 3, false, false, 'abd000')"))
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        prefix = "SELECT id FROM pull_requests WHERE merge_commit_sha >= 'abc' AND merge_commit_sha <= 'abc" + "f" * 64 + "'"
        plan = " ".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {prefix}")))
        assert "ix_pull_requests_merge_commit_sha" in plan
        assert [r[0] for r in conn.execute(sa.text(prefix))] == ["a"]
        # Upper case sorts before lower case by bytes (as in C.UTF-8): 'ABC999' < 'abc123' < 'abd000'.
        assert [r[0] for r in conn.execute(sa.text("SELECT id FROM pull_requests ORDER BY merge_commit_sha"))] == ["b", "a", "c"]
        assert conn.execute(sa.text("SELECT id FROM pull_requests WHERE merge_commit_sha = 'abd000'")).scalar_one() == "c"
        conn.rollback()
