"""Real processes: SIGTERM mid-batch stops cleanly (nothing lost, nothing doubled), and two schedulers on
one warehouse (SQLite file or PostgreSQL) never sync the same source at once."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from warehouse import open_warehouse, read_table
from warehouse.runs import get_cursor
from warehouse.schema import sync_runs

ROOT = Path(__file__).resolve().parents[2]


def start_scheduler(url: str, markers: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "MARKERS": str(markers), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.scheduling.proc_scheduler", url, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, f"the scheduler died: {proc.stderr.read()}"
        assert time.time() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def runs_of(url: str, source: str) -> list:
    wh = open_warehouse(url)
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(sync_runs).where(sync_runs.c.source == source).order_by(sync_runs.c.id)).mappings().all()
    wh.engine.dispose()
    return [dict(r) for r in rows]


def test_sigterm_mid_batch_commits_the_batch_and_resumes_from_its_cursor(warehouse_url, tmp_path):
    # 10 batches of 10 tickets, 0.5 s each; SIGTERM once batch 2 (the third) is committed.
    proc = start_scheduler(warehouse_url, tmp_path, "github", "10", "0.5")
    wait_for(tmp_path / "github.batch2", proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "stopped SIGTERM" in out
    wh = open_warehouse(warehouse_url)
    done = int(get_cursor(wh, "github", "main"))
    # The signal arrives while batch 3 is being read (later on a loaded machine): the run stops after the
    # batch it is in, each committed batch with its cursor — the rows and the cursor agree.
    assert 4 <= done < 10
    assert read_table(wh, "tickets").height == 10 * done
    [run] = runs_of(warehouse_url, "github")
    assert run["status"] == "interrupted" and "SIGTERM" in run["error"] and run["rows"] == 10 * done
    # Restarted: due at once, it resumes at the cursor. Every ticket once: 100 rows, and the second run
    # inserted exactly the rest (nothing written twice).
    proc = start_scheduler(warehouse_url, tmp_path, "github", "10", "0.01", "1")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert read_table(wh, "tickets").height == 100
    second = runs_of(warehouse_url, "github")[1]
    assert second["status"] == "success" and second["rows"] == 100 - 10 * done
    wh.engine.dispose()


def test_two_schedulers_never_sync_one_source_at_once(warehouse_url, tmp_path):
    # Each run takes 4 batches × 0.5 s; both schedulers want it every second, start together (both due at
    # once: one of them must find it held) and stop after two runs of their own.
    first = start_scheduler(warehouse_url, tmp_path, "jira", "4", "0.5", "2", "2")
    second = start_scheduler(warehouse_url, tmp_path, "jira", "4", "0.5", "2", "2")
    outs = [p.communicate(timeout=900) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, [e for _, e in outs]
    runs = runs_of(warehouse_url, "jira")
    assert [r["status"] for r in runs] == ["success"] * 4, [(r["status"], r["error"]) for r in runs]
    # One after another: each run starts after the previous one finished.
    for before, after in zip(runs, runs[1:]):
        assert after["started_at"] >= before["finished_at"], (before, after)
    # The one kept waiting was told who held the source.
    said = "".join(out for out, _ in outs)
    assert "jira is being synced by scorecard schedule on" in said


def test_a_killed_sync_is_closed_as_abandoned_and_resumed(warehouse_url, tmp_path):
    proc = start_scheduler(warehouse_url, tmp_path, "github", "10", "0.5")
    wait_for(tmp_path / "github.batch1", proc)
    proc.send_signal(signal.SIGKILL)  # no clean stop: the run row stays `running`
    proc.wait(timeout=60)
    wh = open_warehouse(warehouse_url)
    done = int(get_cursor(wh, "github", "main"))
    assert read_table(wh, "tickets").height == 10 * done  # the batch being written was rolled back whole
    assert [r["status"] for r in runs_of(warehouse_url, "github")] == ["running"]
    proc = start_scheduler(warehouse_url, tmp_path, "github", "10", "0.01", "1")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    first, second = runs_of(warehouse_url, "github")
    # Under the lease no other run can be alive: the dead one is closed, and the new one did the rest.
    assert first["status"] == "failed" and first["error"].startswith("abandoned")
    assert second["status"] == "success" and second["rows"] == 100 - 10 * done
    assert read_table(wh, "tickets").height == 100
    wh.engine.dispose()
