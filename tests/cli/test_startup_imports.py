"""What a fresh `scorecard` process loads before it does its work: `--help` needs no data library,
`status` and `metrics` no scipy, Alembic (a warehouse already at head), Streamlit or pandas, and
`metrics` (which reads the stored cube's chunks with a plain query) neither connectorx nor ADBC, nor, when
the cube is current, SQLAlchemy (reports.cube_months)."""
import json
import subprocess
import sys

from typer.testing import CliRunner

from app.cli import app as cli_app
from tests.cli.test_cli import import_all

HEAVY = ("scipy", "alembic", "streamlit", "plotly", "pandas", "polars", "numpy", "sqlalchemy", "pyarrow",
         "github", "jira", "connectorx", "adbc_driver_manager")
PROBE = (
    "import json, sys\n"
    "from app.cli import app\n"
    "try:\n"
    "    app(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
)


def loaded(*args: str) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_loads_no_data_library():
    assert loaded("--help") == set()
    assert loaded("metrics", "--help") == set()


def test_status_and_metrics_load_no_scipy_alembic_or_streamlit(tmp_path, sqlite_url):
    config = str(tmp_path / "scorecard.toml")
    (tmp_path / "scorecard.toml").write_text(f'[warehouse]\nurl = "{sqlite_url}"\n[rules]\nmin_sample = 1\n')

    def cli(*args):
        return CliRunner().invoke(cli_app, [*args, "--config", config], catch_exceptions=False)

    import_all(cli, tmp_path)  # the warehouse exists, at the migrations' head
    status = loaded("status", "--config", config)
    assert not status & {"scipy", "alembic", "streamlit", "plotly", "pandas", "jira"}
    metrics = loaded("metrics", "--grain", "week", "--start", "2026-03-02", "--end", "2026-03-08", "--format", "json",
                     "--config", config)
    assert "polars" in metrics  # the probe sees what the command used
    assert not metrics & {"scipy", "alembic", "streamlit", "plotly", "pandas", "github", "jira", "connectorx",
                          "adbc_driver_manager"}
    review = loaded("metrics", "--config", config)  # the default: the review table of the default range
    assert "polars" in review
    assert not review & {"scipy", "alembic", "streamlit", "plotly", "pandas", "github", "jira", "connectorx",
                         "adbc_driver_manager", "sqlalchemy"}


def test_a_small_import_on_postgresql_reads_its_upkeep_through_one_connection(tmp_path, postgres_schema_url):
    """The upkeep after a small import (reports.derived._update_from) reads the slice, the spend and the PRs never
    merged in one snapshot on one ADBC connection: connectorx, which opened a connection of its own for one
    of those reads, is not even loaded. (On SQLite every read goes through connectorx.)"""
    config = str(tmp_path / "scorecard.toml")
    (tmp_path / "scorecard.toml").write_text(f'[warehouse]\nurl = "{postgres_schema_url}"\n[rules]\nmin_sample = 1\n')

    def cli(*args):
        return CliRunner().invoke(cli_app, [*args, "--config", config], catch_exceptions=False)

    import_all(cli, tmp_path)  # the cube is built: the next import's upkeep folds in its days
    later = tmp_path / "later.csv"
    later.write_text("id,repo,team,number,title,author,created_at,merged_at,merge_commit_sha\n"
                     "p9,acme/api,web,9,Tidy up,alice,2026-03-05,2026-03-06T10:00:00Z,fff9999\n")
    used = loaded("import", "pull_requests", str(later), "--config", config)
    assert "adbc_driver_manager" in used  # the probe sees the write and the upkeep's reads
    assert "connectorx" not in used
    from warehouse import open_warehouse
    from warehouse.cube_store import read_state

    state = read_state(open_warehouse(postgres_schema_url))
    assert state.pending_from is None and not state.pending_full  # the upkeep ran: the cube is fresh
