"""Migrations build exactly the schema module's tables, on both backends, and run once."""
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
