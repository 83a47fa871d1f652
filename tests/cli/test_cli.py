"""The CLI end to end on a small CSV set, on SQLite and PostgreSQL."""
import csv
import io
import json

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from metrics.registry import OUTPUT_COLUMNS
from warehouse import open_warehouse, read_table
from warehouse.schema import audit_log, sync_runs

runner = CliRunner()  # stderr is mixed into output (click ≥ 8.2)

FILES = {
    "pull_requests": (
        "id,repo,team,number,title,author,created_at,merged_at,merge_commit_sha,labels,body,ai_assisted\n"
        "p1,acme/api,web,1,Add cache,alice,2026-03-01,2026-03-02T10:00:00Z,aaa1111,ai-assisted,,\n"
        "p2,acme/api,web,2,Fix login,bob,2026-03-01,2026-03-03T10:00:00Z,bbb2222,,,\n"
        'p3,acme/api,web,3,"Revert ""Add cache""",bob,2026-03-04,2026-03-04T12:00:00Z,ccc3333,,,\n'
        "p4,acme/api,web,4,=HYPERLINK(\"http://x\"),eve,2026-03-01,2026-03-05T10:00:00Z,ddd4444,,,true\n"
    ),
    "deployments": (
        "id,repo,team,environment,sha,finished_at,status,is_rollback\n"
        "d1,acme/api,web,production,aaa1111,2026-03-02T12:00:00Z,success,\n"
        "d2,acme/api,web,production,bbb2222,2026-03-03T12:00:00Z,success,\n"
        "d3,acme/api,web,staging,ccc3333,2026-03-04T13:00:00Z,success,\n"
    ),
    "incidents": (
        "id,team,title,started_at,resolved_at,ai_assisted\n"
        "i1,web,Outage,2026-03-03T10:00:00Z,2026-03-03T14:00:00Z,true\n"
        "i2,web,Slow,2026-03-04T10:00:00Z,2026-03-04T11:00:00Z,false\n"
    ),
    "tickets": (
        "id,team,created_at,resolved_at,channel,csat\n"
        "t1,web,2026-03-02,2026-03-03T10:00:00Z,ai_bot,4\n"
        "t2,web,2026-03-02,2026-03-03T11:00:00Z,human,5\n"
        "t3,web,2026-03-02,2026-03-04T10:00:00Z,self_serve,\n"
    ),
    "ai_spend": "date,team,tool,model,cost_usd,tokens\n2026-03-03,web,claude,sonnet,11.00,1000\n",
}


@pytest.fixture
def cli(tmp_path, warehouse_url):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{warehouse_url}"\n[rules]\nmin_sample = 1\n')

    def invoke(*args: str):
        return runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)

    invoke.url = warehouse_url
    return invoke


def import_all(cli, tmp_path):
    for entity, text in FILES.items():
        path = tmp_path / f"{entity}.csv"
        path.write_text(text)
        result = cli("import", entity, str(path))
        assert result.exit_code == 0, result.output


def imported_cli(tmp_path, warehouse_url):
    """A config file for `warehouse_url` (min_sample 1), the CLI invoked with it (or with `config=` another
    file), and the CSV set imported through it: (cli, config path)."""
    path = tmp_path / "scorecard.toml"
    path.write_text(f'[warehouse]\nurl = "{warehouse_url}"\n[rules]\nmin_sample = 1\n')

    def cli(*args, config=path):
        return runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)

    import_all(cli, tmp_path)
    return cli, path


def test_import_metrics_explain_export_end_to_end(cli, tmp_path):
    import_all(cli, tmp_path)
    result = cli("metrics", "--grain", "week", "--start", "2026-03-02", "--end", "2026-03-08", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert all(tuple(r) == OUTPUT_COLUMNS for r in records)
    org = {(r["metric"], r["segment"]): r for r in records if r["team"] is None}
    # 4 merged PRs, 2 AI-assisted (p1 by label, p4 explicitly): 0.5.
    assert (org["ai_merge_rate", "all"]["numerator"], org["ai_merge_rate", "all"]["n"]) == (2, 4)
    # p1 is reverted by p3 (title) within 7 days: 1 of 4 rolled back; AI segment 1 of 2.
    assert org["rollback_share", "all"]["value"] == 0.25 and org["rollback_share", "ai"]["value"] == 0.5
    # Incidents 4 h and 1 h: mean 2.5, median 2.5, p90 = 1 + 0.9·3 = 3.7.
    assert (org["mttr_hours", "all"]["value"], org["mttr_hours", "all"]["p90"]) == (2.5, pytest.approx(3.7))
    # Tickets: ai_bot and self_serve deflected of 3 → 2/3; CSAT (4 + 5)/2 = 4.5, ai segment 4.
    assert org["deflection_rate", "all"]["value"] == pytest.approx(2 / 3)
    assert (org["csat", "all"]["value"], org["csat", "ai"]["value"]) == (4.5, 4.0)
    # Cost: $11 over 4 merged PRs + 3 tickets + 2 incidents = 9 units.
    assert org["ai_cost_per_unit", "all"]["value"] == pytest.approx(11 / 9)
    assert org["ai_cost_per_unit", "all"]["period"] == "2026-03-02"

    csv_out = cli("metrics", "--start", "2026-03-02", "--end", "2026-03-08", "--format", "csv", "--team", "web")
    header = next(csv.reader(io.StringIO(csv_out.output)))
    assert tuple(header) == OUTPUT_COLUMNS

    explain = cli("explain", "rollback_share", "--period", "2026-03-02", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(explain.output)))
    assert [r["id"] for r in rows if r["counted"] == "numerator"] == ["p1"]
    assert "reverted by p3" in rows[0]["reason"]

    out = tmp_path / "prs.csv"
    result = cli("export", "pull_requests", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    exported = list(csv.DictReader(out.open()))
    assert {r["id"] for r in exported} == {"p1", "p2", "p3", "p4"}
    # A title a spreadsheet would run as a formula is neutralised.
    assert [r["title"] for r in exported if r["id"] == "p4"] == ["'=HYPERLINK(\"http://x\")"]
    parquet = tmp_path / "scorecard.parquet"
    assert cli("export", "scorecard", "--format", "parquet", "--out", str(parquet), "--start", "2026-03-02",
               "--end", "2026-03-08").exit_code == 0
    assert pl.read_parquet(parquet).columns == list(OUTPUT_COLUMNS)
    wh = open_warehouse(cli.url)
    with wh.engine.connect() as conn:
        exports = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "export")).scalars().all()
    assert [json.loads(d)["name"] for d in exports] == ["pull_requests", "scorecard"]


def test_reimport_changes_nothing_and_a_bad_file_writes_nothing(cli, tmp_path):
    import_all(cli, tmp_path)
    again = cli("import", "tickets", str(tmp_path / "tickets.csv"))
    assert "0 new, 0 updated, 3 unchanged" in again.output
    bad = tmp_path / "bad_tickets.csv"
    bad.write_text("id,resolved_at,channel,csat\nt9,2026-03-05,human,4\nt10,2026-03-05,human,7\n")
    result = cli("import", "tickets", str(bad))
    assert result.exit_code == 1
    assert "line 3, column 'csat'" in result.output
    wh = open_warehouse(cli.url)
    assert sorted(read_table(wh, "tickets")["id"].to_list()) == ["t1", "t2", "t3"]  # t9 not written either
    with wh.engine.connect() as conn:
        statuses = conn.execute(sa.select(sync_runs.c.source, sync_runs.c.status)).all()
    assert ("csv:tickets", "success") in statuses


def test_demo_seeds_once_and_refuses_to_mix_with_real_data(cli, tmp_path):
    result = cli("demo", "--end", "2026-11-22")
    assert result.exit_code == 0, result.output
    assert "pull_requests: 15," in result.output
    assert "already holds data" in cli("demo", "--if-empty").output
    (tmp_path / "t.csv").write_text("id,resolved_at,channel\nreal1,2026-03-01,human\n")
    cli("import", "tickets", str(tmp_path / "t.csv"))
    refused = cli("demo", "--end", "2026-11-22")
    assert refused.exit_code == 1 and "not demo data" in refused.output
    status = cli("status")
    assert "demo" in status.output and "csv:tickets" in status.output


def test_user_errors_are_one_line_and_non_zero(cli, tmp_path):
    assert cli("metrics", "--grain", "day").exit_code == 1
    assert cli("metrics", "--metric", "velocity").exit_code == 1
    result = cli("import", "widgets", str(tmp_path / "x.csv"))
    assert result.exit_code == 1 and "unknown entity 'widgets'" in result.output
    empty = cli("metrics", "--start", "2020-01-06", "--end", "2020-01-12")
    assert empty.exit_code == 0 and "No records" in empty.output


def test_sync_without_a_configured_source_exits_non_zero_with_a_hint(tmp_path):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n')
    result = runner.invoke(app, ["sync", "--config", str(config)])
    assert result.exit_code == 1
    assert "no sources configured" in result.output and "[github]" in result.output and "scorecard import" in result.output
