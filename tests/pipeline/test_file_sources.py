"""A file import is a `Source` run by the same runner as a sync: the runner records its run (status, the
file's detail, the error naming line and column) and audits it; a bad file leaves nothing written but
its failed run, and a re-import changes nothing."""
import json
import subprocess
import sys

import polars as pl
import pytest
import sqlalchemy as sa

from config import Config
from config.schedule import SOURCES as SCHEDULABLE
from connectors.contract import Batch, Source, never_synced
from connectors.csv import CsvImportError, csv_source
from connectors.csv.entities import ENTITIES
from connectors.sources import file_sources
from connectors.spend.focus import FocusImportError
from pipeline import run_source
from tests.factories import make_ticket
from warehouse import read_table
from warehouse.schema import audit_log, sync_runs

TICKETS = "id,resolved_at,channel,csat\nt1,2026-03-02,human,4\nt2,2026-03-03,ai_bot,5\n"


def runs(wh) -> list[dict]:
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(sync_runs).order_by(sync_runs.c.id)).mappings()]


def test_every_file_import_is_an_atomic_source_no_schedule_can_name():
    files = file_sources()
    assert sorted(files) == sorted([*(f"csv:{e}" for e in ENTITIES), "focus"])
    assert all(s.atomic and not s.is_configured(Config()) for s in files.values())
    assert not set(files) & set(SCHEDULABLE)


def test_a_csv_import_is_one_recorded_run_and_a_reimport_changes_nothing(warehouse, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS)
    first = run_source(warehouse, Config(), csv_source("tickets"), path=path)
    again = run_source(warehouse, Config(), "csv:tickets", path=path)  # by name: the same source
    # Two rows: both new the first time, both unchanged the second.
    assert (first.status, first.tables["tickets"].inserted) == ("success", 2)
    assert (again.tables["tickets"].inserted, again.tables["tickets"].unchanged) == (0, 2)
    assert first.detail == {"file": str(path), "entity": "tickets", "rows": 2}
    recorded = runs(warehouse)
    assert [(r["source"], r["status"], r["rows"]) for r in recorded] == [("csv:tickets", "success", 2),
                                                                         ("csv:tickets", "success", 0)]
    assert json.loads(recorded[0]["detail"])["tables"]["tickets"] == {"inserted": 2, "updated": 0, "unchanged": 0}
    with warehouse.engine.connect() as conn:
        audited = conn.execute(sa.select(audit_log.c.action, audit_log.c.detail)).all()
    assert [(a, json.loads(d)["source"]) for a, d in audited] == [("import", "csv:tickets")] * 2


def test_a_bad_csv_writes_nothing_but_its_failed_run(warehouse, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(TICKETS + "t3,2026-03-04,human,7\n")  # CSAT 7 on line 4: outside 1–5
    with pytest.raises(CsvImportError, match="line 4, column 'csat'"):
        run_source(warehouse, Config(), csv_source("tickets"), path=path)
    assert read_table(warehouse, "tickets").height == 0  # t1 and t2 were good, and are not written either
    [run] = runs(warehouse)
    assert (run["source"], run["status"], run["rows"]) == ("csv:tickets", "failed", 0)
    assert "line 4, column 'csat'" in run["error"]


def test_an_unknown_entity_is_named_before_anything_runs():
    with pytest.raises(CsvImportError, match="unknown entity 'widgets'; importable: pull_requests"):
        csv_source("widgets")


def test_a_focus_file_that_is_not_focus_records_a_failed_run(sqlite_warehouse, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("date,cost_usd\n2026-11-01,3\n")
    with pytest.raises(FocusImportError, match="missing FOCUS column 'ChargePeriodStart'"):
        run_source(sqlite_warehouse, Config(), "focus", path=path)
    [run] = runs(sqlite_warehouse)
    assert (run["source"], run["status"]) == ("focus", "failed")
    assert read_table(sqlite_warehouse, "ai_spend").height == 0


OTHER_WRITER = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0); c.execute('BEGIN IMMEDIATE'); c.rollback()"


def test_a_file_is_read_before_the_import_takes_the_write_lock(sqlite_warehouse):
    """Parsing a large CSV takes seconds: other writers (a scheduled sync) must not wait for it."""
    def extract(config, _secret, _cursors, *, full=False, stats):
        # Another process (SQLite's locks are per process), as a scheduled sync would be: 'database is
        # locked' at once if the import held the write lock while this batch is being read.
        other_writer = subprocess.run([sys.executable, "-c", OTHER_WRITER, sqlite_warehouse.sqlite_path],
                                      capture_output=True, text=True)
        assert other_writer.returncode == 0, other_writer.stderr
        yield Batch(frames={"tickets": pl.DataFrame([make_ticket("t1", resolved_at="2026-03-02 10:00")])})

    report = run_source(sqlite_warehouse, Config(), Source("csv:probe", "", never_synced, extract, atomic=True))
    assert (report.status, report.tables["tickets"].inserted) == ("success", 1)
