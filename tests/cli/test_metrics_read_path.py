"""`scorecard metrics` through the read-only connection (reports.cube_months) prints what the ordinary read
prints, on SQLite and PostgreSQL; a fresh process loads no SQLAlchemy for it (nor psycopg: libpq directly)
and ends as soon as its output is written (app.cli.base.main), with the whole output and exit code 0; a
read-only SQLite warehouse is read the same way without a byte written, and one behind the code's schema is
refused as before."""
import os
import sqlite3
import stat
import subprocess
import sys

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import reports.cube_months as cube_months
import reports.early_cube as early_cube
from app.cli import app
from config.load import load_config
from tests.cli.test_cli import imported_cli
from tests.cli.test_read_only_warehouse import digest
from warehouse import open_warehouse
from warehouse.engine import _migrated

runner = CliRunner()

VARIANTS = [
    [],
    ["--grain", "month"],
    ["--grain", "range"],
    ["--all"],
    ["--format", "json"],
    ["--format", "csv", "--team", "web"],
    ["--start", "2026-03-02", "--end", "2026-03-08", "--all"],
]


@pytest.fixture
def imported(tmp_path, warehouse_url):
    cli, path = imported_cli(tmp_path, warehouse_url)
    assert cli("metrics").exit_code == 0  # the cube current, this config recorded
    return cli, path


def test_the_read_only_path_prints_what_the_ordinary_one_prints(imported, monkeypatch, warehouse_url):
    cli, _ = imported
    opened = []

    class Spy(cube_months.CurrentCube):  # made by open_current_cube, or by reports.early_cube on PostgreSQL
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(True)

    monkeypatch.setattr(cube_months, "CurrentCube", Spy)
    early = []
    begin = early_cube.EarlyCube.__init__

    def begun(self, url, *, speculate, **kwargs):
        early.append(speculate)
        begin(self, url, speculate=speculate, **kwargs)

    monkeypatch.setattr(early_cube.EarlyCube, "__init__", begun)
    ours = [cli("metrics", *args) for args in VARIANTS]
    assert opened == [True] * len(VARIANTS)
    assert early == [True] * (len(VARIANTS) - 1) + [False]  # begun before the config was loaded; months ahead
    # for the default range
    monkeypatch.setattr(cube_months, "open_current_cube", lambda config: None)  # the ordinary way
    monkeypatch.setattr(early_cube, "start_early", lambda config, speculate: None)
    theirs = [cli("metrics", *args) for args in VARIANTS]
    for args, a, b in zip(VARIANTS, ours, theirs):
        assert a.exit_code == b.exit_code == 0, (args, a.output)
        assert a.stdout == b.stdout, args
    assert "Review window" in ours[0].stdout and ours[4].stdout.startswith("[")


PROBE = ("import sys\n"
         "from app.cli.base import main\n"
         "main()\n")
PLAIN = ("import sys\n"  # the same command, ended by Python's ordinary exit
         "from app.cli import app\n"
         "app()\n")
MODULES = ("import atexit, sys\n"
           "from app.cli import app\n"
           "atexit.register(lambda: print(sorted(m for m in ('sqlalchemy', 'alembic', 'connectorx', "
           "'adbc_driver_manager', 'psycopg') if m in sys.modules), file=sys.stderr))\n"
           "app()\n")


def run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_a_fresh_process_loads_no_sqlalchemy_and_ends_with_its_whole_output(imported):
    _, path = imported
    for args, last in ((["metrics"], "Every record: scorecard metrics --all (or --format csv).\n"),
                       (["metrics", "--format", "csv", "--all"], "\n")):
        quick, plain = run(PROBE, *args, "--config", str(path)), run(PLAIN, *args, "--config", str(path))
        assert quick.returncode == plain.returncode == 0, quick.stderr
        assert quick.stdout == plain.stdout and quick.stdout.endswith(last) and len(quick.stdout) > 300
        assert quick.stderr == plain.stderr == ""
    assert run(MODULES, "metrics", "--config", str(path)).stderr.strip() == "[]"
    failed = run(PROBE, "metrics", "--grain", "fortnight", "--config", str(path))
    assert failed.returncode == 1 and "--grain must be one of" in failed.stderr


@pytest.fixture
def sqlite_imported(tmp_path, sqlite_url):
    cli, path = imported_cli(tmp_path, sqlite_url)
    assert cli("metrics").exit_code == 0
    db = tmp_path / "warehouse.db"
    with sqlite3.connect(db) as conn:  # every change in the file itself, none left in its WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield cli, path, db, sqlite_url
    os.chmod(db, stat.S_IRUSR | stat.S_IWUSR)


def test_a_read_only_warehouse_is_read_without_a_write(sqlite_imported, tmp_path):
    cli, path, db, _ = sqlite_imported
    # The same cube, but a config version never recorded: a writable warehouse would record it; a
    # read-only one is read through the read-only connection, and nothing is written.
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(path.read_text().replace("min_sample = 1", "min_sample = 2"))
    os.chmod(db, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = digest(db)
    current = cube_months.open_current_cube(load_config(stricter, env={}))
    assert current is not None
    current.close()
    result = cli("metrics", config=stricter)
    assert result.exit_code == 0 and "Review window" in result.stdout
    assert digest(db) == before


def test_a_read_only_warehouse_behind_the_schema_is_refused(sqlite_imported):
    cli, _, db, url = sqlite_imported
    wh = open_warehouse(url)
    with wh.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0007'"))
    wh.engine.dispose()
    os.chmod(db, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    _migrated.clear()  # as a fresh process: the migration check runs
    result = runner.invoke(app, ["metrics", "--config", str(sqlite_imported[1])])
    assert result.exit_code == 1
    assert "is read-only and at schema revision 0007" in result.output


def test_an_unreachable_postgresql_is_one_error_line(tmp_path):
    # The read-only connection opens in a thread of its own on PostgreSQL (reports.cube_months.start_current_cube):
    # its failure is the command's one error line, as the ordinary open words it, without the password.
    path = tmp_path / "scorecard.toml"
    path.write_text('[warehouse]\nurl = "postgresql://scorer:s3cret@127.0.0.1:9/nowhere"\n')
    result = run(PROBE, "metrics", "--config", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: cannot open the warehouse at postgresql+psycopg://scorer:***@127.0.0.1:9/")
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
