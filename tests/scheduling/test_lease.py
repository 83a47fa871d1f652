"""One writer per source across processes: a second comer is told who holds the source, waits if asked,
and a killed holder does not lock the source forever (PostgreSQL: at once; SQLite: after the lease)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from warehouse import open_warehouse
from warehouse.lease import LeaseHeld, current_holders, source_lease
from warehouse.runs import last_runs

ROOT = Path(__file__).resolve().parents[2]
HOLDER = textwrap.dedent("""
    import pathlib, sys, time
    from warehouse import open_warehouse
    from warehouse.lease import source_lease
    url, marker, seconds = sys.argv[1], pathlib.Path(sys.argv[2]), float(sys.argv[3])
    release = marker.with_name("release")
    with source_lease(open_warehouse(url), "copilot_seats", holder="the holder test", ttl=2.0):
        marker.write_text("held")
        deadline = time.time() + seconds
        while time.time() < deadline and not release.exists():
            time.sleep(0.05)
""")


def hold(url: str, tmp_path: Path, seconds: float) -> subprocess.Popen:
    marker = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url, str(marker), str(seconds)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 300
    while not marker.exists():
        assert proc.poll() is None and time.time() < deadline, "the holder never took the lease"
        time.sleep(0.05)
    return proc


def scorecard(tmp_path: Path, url: str, *args: str, run=subprocess.run):
    config = tmp_path / "scorecard.toml"
    config.write_text('[spend.copilot]\nprice_per_seat_month = 19\n[schedule]\nlease = "2s"\n')
    env = {**os.environ, "SCORECARD_WAREHOUSE_URL": url, "COLUMNS": "200"}
    command = [sys.executable, "-m", "app.cli", *args, "--config", str(config)]
    if run is subprocess.Popen:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_the_second_comer_is_told_who_holds_the_source(warehouse_url, tmp_path):
    holder = hold(warehouse_url, tmp_path, 600)  # until released below
    try:
        wh = open_warehouse(warehouse_url)
        assert current_holders(wh)["copilot_seats"].holder == "the holder test"
        with pytest.raises(LeaseHeld, match="copilot_seats is being synced by the holder test since"):
            with source_lease(wh, "copilot_seats", holder="me"):
                pass
        result = scorecard(tmp_path, warehouse_url, "sync", "--all", "--wait", "0")
        # Skipped, not failed: exit 3 (partial), and nothing recorded as a run.
        assert result.returncode == 3, result.stderr
        assert "copilot_seats: skipped" in result.stdout and "being synced by the holder test" in result.stdout
        assert "copilot_seats" not in {r["source"] for r in last_runs(wh)}
    finally:
        (tmp_path / "release").write_text("go")
        holder.wait(timeout=120)


def test_the_second_comer_waits_for_the_holder_to_finish(warehouse_url, tmp_path):
    holder = hold(warehouse_url, tmp_path, 600)
    waiter = scorecard(tmp_path, warehouse_url, "sync", "--all", "--wait", "2m", run=subprocess.Popen)
    said = ""
    while "being synced" not in said and waiter.poll() is None:  # it says whom it waits for, then waits
        said = waiter.stderr.readline()
    assert "copilot_seats is being synced by the holder test since" in said and "waiting up to 2m" in said
    (tmp_path / "release").write_text("go")
    out, err = waiter.communicate(timeout=300)
    holder.wait(timeout=60)
    assert waiter.returncode == 0, out + err
    assert "copilot_seats: success" in out


def test_a_killed_holder_does_not_lock_the_source_forever(warehouse_url, tmp_path):
    holder = hold(warehouse_url, tmp_path, 600)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    wh = open_warehouse(warehouse_url)
    # PostgreSQL drops the advisory lock with the dead session; SQLite's row lapses after its 2 s lease.
    deadline = time.time() + 30  # a loaded machine; either takes a second or two when idle
    while True:
        try:
            with source_lease(wh, "copilot_seats", holder="me"):
                break
        except LeaseHeld:
            assert time.time() < deadline, "the dead holder's lease never lapsed"
            time.sleep(0.2)
    assert current_holders(wh) == {}
