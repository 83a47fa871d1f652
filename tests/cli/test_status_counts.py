"""`scorecard status` row counts: exact on SQLite; on PostgreSQL a large table's figure is the server's own
estimate (pg_class.reltuples), marked ≈ and explained, and `--exact` counts every row."""
import re

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import app.cli.data as data_cli
from app.cli import app
from tests.cli.test_cli import import_all
from warehouse import open_warehouse

runner = CliRunner()


def rows_table(output: str) -> dict[str, str]:
    """table → its figure as printed (with ≈ when estimated)."""
    return dict(re.findall(r"│ (\w+)\s+│\s+(≈?[\d,]+) │", output))


@pytest.fixture
def imported(tmp_path, warehouse_url):
    path = tmp_path / "scorecard.toml"
    path.write_text(f'[warehouse]\nurl = "{warehouse_url}"\n[rules]\nmin_sample = 1\n')

    def cli(*args):
        return runner.invoke(app, [*args, "--config", str(path)], catch_exceptions=False)

    import_all(cli, tmp_path)
    return cli, warehouse_url


def test_status_counts(imported, monkeypatch):
    cli, url = imported
    exact = rows_table(cli("status", "--exact").output)
    # The CLI's CSV set: 4 PRs, 3 tickets (tests/cli/test_cli.FILES).
    assert exact["pull_requests"] == "4" and exact["tickets"] == "3" and exact["people"] == "0"
    monkeypatch.setattr(data_cli, "EXACT_BELOW", 1)  # every table with rows is "large"
    result = cli("status")
    assert result.exit_code == 0, result.output
    shown = rows_table(result.output)
    if not url.startswith("postgresql"):
        assert shown == exact and "≈" not in result.output  # SQLite: always counted
        return
    assert shown["pull_requests"] == "4"  # never analysed (reltuples -1): counted exactly
    wh = open_warehouse(url)
    with wh.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE pull_requests"))
        conn.execute(sa.text("ANALYZE tickets"))
    wh.engine.dispose()
    result = cli("status")
    shown = rows_table(result.output)
    # ANALYZE of a small table reads every row: the estimate is the count, marked as an estimate.
    assert shown["pull_requests"] == "≈4" and shown["tickets"] == "≈3" and shown["people"] == "0"
    assert "PostgreSQL's estimate" in result.output and "--exact" in result.output
    assert rows_table(cli("status", "--exact").output) == exact
