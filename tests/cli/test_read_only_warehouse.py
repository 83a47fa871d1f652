"""A read-only SQLite warehouse (a shared benchmark copy, `chmod a-w`): `scorecard metrics` and `status`
read it without writing a byte — no change-history record, no cube upkeep — even as root, and a write
through its connections fails."""
import hashlib
import json
import os
import sqlite3
import stat

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from tests.cli.test_cli import import_all
from warehouse import open_warehouse
from warehouse.engine import _migrated

runner = CliRunner()


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def read_only(tmp_path, sqlite_url):
    """A warehouse with the CLI's CSV set imported (its cube current for `config`), then made read-only;
    `other` is a config whose cube fingerprint differs (one more team)."""
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{sqlite_url}"\n[rules]\nmin_sample = 1\n')
    other = tmp_path / "other.toml"
    other.write_text(config.read_text() + '\n[teams.web]\nrepos = ["acme/*"]\n')

    def cli(*args):
        return runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)

    import_all(cli, tmp_path)
    assert cli("metrics", "--format", "json").exit_code == 0  # the cube is current, the config recorded
    path = tmp_path / "warehouse.db"
    assert sqlite_url.endswith(str(path))
    with sqlite3.connect(path) as conn:  # every change in the file itself, none left in its WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    yield {"path": path, "config": config, "other": other, "url": sqlite_url}
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def test_metrics_and_status_write_nothing_to_a_read_only_warehouse(read_only):
    before = digest(read_only["path"])
    _migrated.clear()  # as a fresh process: the migration check runs
    for args in (["metrics"], ["metrics", "--format", "json"], ["metrics", "--grain", "range"], ["status"]):
        result = runner.invoke(app, [*args, "--config", str(read_only["other"])], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    # With another config the stored cube is not current: computed in memory, said so, not stored; the new
    # config is not recorded in the change history either.
    result = runner.invoke(app, ["metrics", "--format", "json", "--config", str(read_only["other"])])
    assert "read-only" in result.output
    records = json.loads(result.output[result.output.index("["):])
    assert {r["team"] for r in records} == {None, "web"}
    assert digest(read_only["path"]) == before


def test_the_stored_cube_of_a_read_only_warehouse_is_read_as_it_is(read_only):
    before = digest(read_only["path"])
    result = runner.invoke(app, ["metrics", "--format", "json", "--config", str(read_only["config"])])
    assert result.exit_code == 0 and "read-only" not in result.output
    assert {r["metric"] for r in json.loads(result.output)} >= {"ai_merge_rate", "rollback_share"}
    assert digest(read_only["path"]) == before


def test_a_write_through_a_read_only_warehouse_fails(read_only):
    wh = open_warehouse(read_only["url"])
    assert wh.read_only
    with pytest.raises(sa.exc.OperationalError, match="readonly|read-only|query_only"):
        with wh.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_log")
    wh.engine.dispose()
    os.chmod(read_only["path"], stat.S_IRUSR | stat.S_IWUSR)
    assert not open_warehouse(read_only["url"]).read_only
