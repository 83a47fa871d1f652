"""The dashboard keeps reading while another process imports (DESIGN.md: why SQLite in WAL mode)."""
import datetime as dt
import subprocess
import sys
import textwrap
import time

import polars as pl

from config import Config
from metrics.scorecard import compute
from pipeline import ingest
from reports.data import load_evidence
from tests.factories import make_ticket
from warehouse import open_warehouse, read_table

WRITER = textwrap.dedent(
    """
    import datetime as dt, sys, time, pathlib, polars as pl
    from warehouse import open_warehouse
    from warehouse.write import _adbc_transaction, _upsert

    url, marker, release = sys.argv[1:4]
    wh = open_warehouse(url)
    rows = pl.DataFrame({
        "id": [f"new{i}" for i in range(5000)], "source": "csv", "channel": "ai_bot",
        "resolved_at": dt.datetime(2026, 3, 4, 12, tzinfo=dt.timezone.utc),
    })
    # The real write path (ADBC staging + one upsert), paused before COMMIT while the test reads.
    with _adbc_transaction(wh) as cur:
        _upsert(cur, wh.dialect, "tickets", rows)
        pathlib.Path(marker).write_text("in transaction")
        deadline = time.time() + 60
        while not pathlib.Path(release).exists() and time.time() < deadline:
            time.sleep(0.02)
    """
)


def deflection(url: str) -> tuple[int, float]:
    wh = open_warehouse(url)
    evidence = load_evidence(wh)
    records = compute(evidence, Config(), grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8),
                      metrics=["deflection_rate"])
    org = records.filter(pl.col("team").is_null()).row(0, named=True)
    wh.engine.dispose()
    return org["n"], org["value"]


def test_metrics_read_while_another_process_writes(warehouse_url, tmp_path):
    wh = open_warehouse(warehouse_url)
    ingest(wh, "csv:tickets", {"tickets": pl.DataFrame(
        [make_ticket(f"old{i}", resolved_at="2026-03-04 10:00", channel="human") for i in range(100)]
    )})
    marker, release = tmp_path / "marker", tmp_path / "release"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, warehouse_url, str(marker), str(release)])
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert writer.poll() is None, "the writer process died"
            assert time.time() < deadline, "the writer never reached its transaction"
            time.sleep(0.02)
        # The writer holds an open write transaction: reads still answer, from the last commit.
        started = time.perf_counter()
        assert deflection(warehouse_url) == (100, 0.0)
        assert time.perf_counter() - started < 10
        release.write_text("go")
        assert writer.wait(timeout=60) == 0
    finally:
        release.write_text("go")
        writer.wait(timeout=60)
    # After the commit the 5,000 AI-bot tickets count: 5000 / 5100 deflected.
    n, value = deflection(warehouse_url)
    assert n == 5100 and abs(value - 5000 / 5100) < 1e-12
    assert read_table(open_warehouse(warehouse_url), "tickets").height == 5100


def test_two_imports_into_an_empty_table_both_succeed(warehouse_url, tmp_path):
    """Another process writes into the empty tickets table and waits before COMMIT; an import started
    meanwhile must wait for it and then upsert (before: on PostgreSQL both took the first-load path and
    the second failed with a duplicate key). 5000 rows new0..new4999 from the writer, 10 overlapping
    ones from us (new0..new4, ours0..ours4): 5005 rows, the 5 overlapping ones updated."""
    import threading

    wh = open_warehouse(warehouse_url)
    marker, release = tmp_path / "marker", tmp_path / "release"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, warehouse_url, str(marker), str(release)])
    outcome: dict = {}
    ours = pl.DataFrame([make_ticket(f"new{i}", resolved_at="2026-03-04 10:00", channel="human") for i in range(5)]
                        + [make_ticket(f"ours{i}", resolved_at="2026-03-04 10:00", channel="human") for i in range(5)])

    def second_import():
        try:
            outcome["counts"] = ingest(wh, "csv:tickets", {"tickets": ours})["tickets"]
        except Exception as exc:  # the failure the test is about: reported below, not swallowed
            outcome["error"] = exc

    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert writer.poll() is None, "the writer process died"
            assert time.time() < deadline
            time.sleep(0.02)
        thread = threading.Thread(target=second_import)
        thread.start()
        time.sleep(1.0)  # the second import is now waiting for the first
        release.write_text("go")
        assert writer.wait(timeout=60) == 0
        thread.join(timeout=60)
    finally:
        release.write_text("go")
        writer.wait(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    counts = outcome["counts"]
    assert (counts.inserted, counts.updated) == (5, 5)
    assert read_table(wh, "tickets").height == 5005
    wh.engine.dispose()


def test_a_new_file_locked_while_its_journal_mode_is_set_is_tried_again(tmp_path):
    # A second process opening a new warehouse while the first holds its lock (here an exclusive one, released
    # after 0.3 s) fails the journal-mode change at once when SQLite sees a deadlock: the connection below
    # waits for no lock at all (timeout 0), as that one does not, and still ends in WAL mode once the lock goes.
    import sqlite3
    import threading
    import time

    import pytest

    from warehouse.engine import set_wal

    path = tmp_path / "new.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE t (x)")
    threading.Timer(0.3, lambda: holder.execute("COMMIT")).start()
    opener = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    started = time.monotonic()
    set_wal(opener.cursor(), timeout_s=10)
    assert time.monotonic() - started >= 0.25  # it was locked out, and asked again until the lock went
    assert opener.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    # Locked for longer than it may wait: the error passes out as SQLite gave it.
    held = sqlite3.connect(tmp_path / "held.db", isolation_level=None)
    held.execute("BEGIN EXCLUSIVE")
    held.execute("CREATE TABLE t (x)")
    other = sqlite3.connect(tmp_path / "held.db", timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        set_wal(other.cursor(), timeout_s=0.1)
    held.execute("COMMIT")
    for connection in (holder, opener, held, other):
        connection.close()
