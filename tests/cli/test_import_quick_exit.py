"""`scorecard import` in a fresh process (app.cli.base.main) ends without the interpreter's teardown once its
rows are committed and nothing is left open: the whole output and exit code 0, every row stored (a second
import of the same file through Python's ordinary exit finds each one unchanged), on SQLite no connection
left (the WAL file removed by the last close); a bad file still fails as before."""
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import FILES

# An exit handler that the quick exit skips: its line on stderr tells which way the process ended.
QUICK = ("import atexit, sys\n"
         "atexit.register(lambda: print('ordinary exit', file=sys.stderr))\n"
         "from app.cli.base import main\n"
         "sys.argv[0] = 'scorecard'\n"
         "main()\n")
PLAIN = ("import sys\n"
         "from app.cli import app\n"
         "app()\n")


def run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_an_import_ends_quickly_with_its_rows_committed(tmp_path, warehouse_url):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{warehouse_url}"\n')
    for entity in ("pull_requests", "tickets"):
        path = tmp_path / f"{entity}.csv"
        path.write_text(FILES[entity])
        rows = len(FILES[entity].strip().splitlines()) - 1
        quick = run(QUICK, "import", entity, str(path), "--config", str(config))
        assert quick.returncode == 0, quick.stderr
        assert quick.stdout.strip().endswith(f"{entity}: {rows} rows read — {rows} new, 0 updated, 0 unchanged")
        assert "ordinary exit" not in quick.stderr  # the teardown was skipped
        if warehouse_url.startswith("sqlite"):
            assert not Path(warehouse_url.removeprefix("sqlite:///") + "-wal").exists()  # no connection left open
        again = run(PLAIN, "import", entity, str(path), "--config", str(config))
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip().endswith(f"{entity}: {rows} rows read — 0 new, 0 updated, {rows} unchanged")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,resolved_at,channel\nt9,not a time,human\n")
    failed = run(QUICK, "import", "tickets", str(bad), "--config", str(config))
    assert failed.returncode == 1 and "not an ISO 8601 timestamp" in failed.stderr
    assert "ordinary exit" in failed.stderr  # a failure ends the ordinary way
