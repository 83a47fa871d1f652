"""`scorecard status` row counts: exact on SQLite; on PostgreSQL a large table's figure is the server's own
estimate (pg_class.reltuples), marked ≈ and explained, and `--exact` counts every row."""
import re

import pytest
import sqlalchemy as sa

import app.cli.data as data_cli
from tests.cli.test_cli import imported_cli
from warehouse import open_warehouse


def rows_table(output: str) -> dict[str, str]:
    """table → its figure as printed (with ≈ when estimated)."""
    return dict(re.findall(r"│ (\w+)\s+│\s+(≈?[\d,]+) │", output))


@pytest.fixture
def imported(tmp_path, warehouse_url):
    cli, _ = imported_cli(tmp_path, warehouse_url)
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
