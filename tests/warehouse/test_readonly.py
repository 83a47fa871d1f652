"""The read-only connection without SQLAlchemy (warehouse.readonly): the same file as `open_warehouse` for
the same URL, nothing written through it, the schema check of `migrate_to_head`, the SQLite guard held
while it is open, and the same error as `open_warehouse` when PostgreSQL cannot be reached."""
import hashlib
import sqlite3

import pytest
import sqlalchemy as sa

import warehouse.sqlite_guard as sqlite_guard
from warehouse import WarehouseError, open_warehouse
from warehouse.readonly import code_head, open_read_only


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_at_head_and_nothing_written(warehouse_url):
    wh = open_warehouse(warehouse_url)  # created and migrated
    wh.engine.dispose()
    with open_read_only(warehouse_url) as connection:
        assert connection.at_head()
        assert connection.rows("SELECT version_num FROM alembic_version") == [(code_head(),)]
        with pytest.raises(Exception, match="(?i)read-?only"):
            connection.rows("CREATE TABLE scratch (x INTEGER)")
    wh = open_warehouse(warehouse_url)
    with wh.engine.connect() as conn:
        assert "scratch" not in sa.inspect(conn).get_table_names()
    wh.engine.dispose()


def test_sqlite_paths_as_open_warehouse_resolves_them(tmp_path, monkeypatch):
    wh = open_warehouse("sqlite:///data/wh.db", base_dir=tmp_path)  # relative: against the config's folder
    wh.engine.dispose()
    path = tmp_path / "data" / "wh.db"
    before = digest(path)
    with open_read_only("sqlite:///data/wh.db", base_dir=tmp_path) as connection:
        assert connection.sqlite_path == str(path) and connection.at_head() and not connection.read_only
        assert sqlite_guard._holders[str(path)] == ("sqlite3", 1)  # one SQLite library per file and process
    assert str(path) not in sqlite_guard._holders
    connection.close()  # closing again does nothing
    assert digest(path) == before
    monkeypatch.chdir(tmp_path)
    with open_read_only("sqlite:///data/wh.db") as connection:  # no config folder: the working directory
        assert connection.sqlite_path == str(path)
    # Where the ordinary open creates, refuses or parses differently, this path is not taken.
    for url in ("sqlite:///data/new.db", "sqlite:///:memory:", "sqlite://", "sqlite:///file:wh.db?mode=ro",
                "sqlite:///data/wh%2Edb", "mysql://u@h/db"):
        assert open_read_only(url, base_dir=tmp_path) is None, url
    assert not (tmp_path / "data" / "new.db").exists()


def test_a_database_of_another_schema_is_not_at_head(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with open_read_only(f"sqlite:///{path}") as connection:
        assert not connection.at_head()  # no alembic_version: the ordinary open decides
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.executemany("INSERT INTO alembic_version VALUES (?)", [(code_head(),), ("0001",)])
    with open_read_only(f"sqlite:///{path}") as connection:
        assert not connection.at_head()  # two heads


def test_an_unreachable_postgresql_fails_as_open_warehouse_does():
    url = "postgresql://scorer:s3cret@127.0.0.1:9/nowhere"  # port 9 (discard): nothing listens
    with pytest.raises(WarehouseError) as ours:
        open_read_only(url)
    with pytest.raises(WarehouseError) as theirs:
        open_warehouse(url)
    assert str(ours.value) == str(theirs.value)
    assert "s3cret" not in str(ours.value) and "127.0.0.1" in str(ours.value)
