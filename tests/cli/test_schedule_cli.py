"""The scheduling commands end to end, over the one source that needs no server (copilot_seats prices
the seat counts already in the warehouse): `status --check`, stale alerts and their webhook, `sync
--all`, and `scorecard schedule` stopped by SIGTERM in a real process."""
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from app.cli.base import out as cli_out
from tests.connectors.spend.fakes import WebhookReceiver
from warehouse import open_warehouse
from warehouse.runs import clock, finish_run, last_runs, start_run

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def configured(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n'
                      f'[spend.copilot]\nprice_per_seat_month = 19\n[schedule]\ncopilot_seats = "1h"\n{extra}')
    return config


def synced(tmp_path: Path, hours_ago: float, status: str = "success") -> None:
    wh = open_warehouse(f"sqlite:///{tmp_path / 'wh.db'}")
    with clock(lambda: dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours_ago)):
        finish_run(wh, start_run(wh, "copilot_seats"), status=status, rows=0)


def test_status_check_fails_while_a_source_is_stale(tmp_path, monkeypatch):
    # Wide enough that no cell wraps (the console's width is fixed when the CLI is imported).
    monkeypatch.setattr(cli_out, "width", 200)
    config = configured(tmp_path)
    # Never synced: stale. Every hour, synced 1.5 h ago: fresh (stale after 2 h). 2.5 h ago: stale.
    never = runner.invoke(app, ["status", "--check", "--config", str(config)])
    assert never.exit_code == 1 and "copilot_seats: never synced successfully (it has never run)" in never.stdout
    synced(tmp_path, 1.5)
    fresh = runner.invoke(app, ["status", "--check", "--config", str(config)])
    assert fresh.exit_code == 0 and "ok: 1 configured source, none stale" in fresh.stdout
    synced(tmp_path, 0.5, status="failed")  # a failure does not make it fresh, nor stale sooner
    assert runner.invoke(app, ["status", "--check", "--config", str(config)]).exit_code == 0
    table = runner.invoke(app, ["status", "--config", str(config)])
    assert table.exit_code == 0 and "copilot_seats" in table.stdout and "retry after 1 failure" in table.stdout


def test_a_stale_source_is_an_alert_posted_once(tmp_path, monkeypatch):
    config = configured(tmp_path, '[spend.alerts]\nwebhook_url_env = "TEST_STALE_WEBHOOK"\n')
    synced(tmp_path, 3)
    with WebhookReceiver() as hook:
        monkeypatch.setenv("TEST_STALE_WEBHOOK", hook.hook_url)
        result = runner.invoke(app, ["alerts", "--format", "json", "--config", str(config)])
        assert result.exit_code == 1, result.output
        [alert] = json.loads(result.stdout)["alerts"]
        assert alert["kind"] == "stale_source" and alert["id"].startswith("stale:copilot_seats:")
        assert alert["message"].startswith("copilot_seats: no successful sync for 3h")
        assert len(hook.bodies) == 1 and "copilot_seats" in json.dumps(hook.bodies[0])
        again = runner.invoke(app, ["alerts", "--config", str(config)])
        assert again.exit_code == 1 and len(hook.bodies) == 1  # listed again, not posted again


def test_sync_all_runs_every_configured_source_once(tmp_path):
    config = configured(tmp_path)
    result = runner.invoke(app, ["sync", "--all", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "copilot_seats: success" in result.stdout
    assert runner.invoke(app, ["status", "--check", "--config", str(config)]).exit_code == 0
    both = runner.invoke(app, ["sync", "--all", "--source", "github", "--config", str(config)])
    assert both.exit_code == 1 and "--all and --source exclude each other" in both.output


def test_scorecard_schedule_stops_on_sigterm(tmp_path):
    config = configured(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "schedule", "--config", str(config)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wh = open_warehouse(f"sqlite:///{tmp_path / 'wh.db'}")
    deadline = time.time() + 300  # a loaded machine takes its time to start a Python process
    while not any(r["last_success"] for r in last_runs(wh)):  # never run: due at once
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "the scheduler never synced"
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "scheduling copilot_seats every 1h" in err and "stopped (SIGTERM)" in err
    [run] = last_runs(wh)
    assert run["last_run"]["status"] == "success"  # one run, then asleep until the next hour


def test_nothing_to_schedule_is_an_error(tmp_path):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n')
    result = runner.invoke(app, ["schedule", "--config", str(config)])
    assert result.exit_code == 1 and "nothing to schedule" in result.output
