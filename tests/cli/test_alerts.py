"""`scorecard alerts` on the demo organisation: exit 1 with exactly the demo's spend spike."""
import datetime as dt
import json

from typer.testing import CliRunner

from app.cli import app
from connectors.demo.generator import SPIKE_DAYS_BEFORE_END
from tests.connectors.spend.fakes import WebhookReceiver

runner = CliRunner()
END = dt.date(2026, 11, 22)


def test_alerts_flag_the_demo_spike_and_nothing_else(tmp_path, monkeypatch):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "demo.db"}"\n'
                      '[spend.alerts]\nwebhook_url_env = "TEST_DEMO_WEBHOOK"\n')
    seeded = runner.invoke(app, ["demo", "--end", END.isoformat(), "--config", str(config)])
    assert seeded.exit_code == 0, seeded.output
    spike = END - dt.timedelta(days=SPIKE_DAYS_BEFORE_END - 1)  # the demo's last day is END
    with WebhookReceiver() as hook:
        monkeypatch.setenv("TEST_DEMO_WEBHOOK", hook.hook_url)
        result = runner.invoke(app, ["alerts", "--format", "json", "--config", str(config)])
        assert result.exit_code == 1, result.output
        report = json.loads(result.stdout)
        assert report["as_of"] == END.isoformat()
        assert [a["id"] for a in report["alerts"]] == [f"spend_anomaly:data:anthropic:{spike}"]
        assert len(hook.bodies) == 1
        table = runner.invoke(app, ["alerts", "--config", str(config)])
        assert table.exit_code == 1 and "data spent $" in table.stdout and "anthropic" in table.stdout
        assert len(hook.bodies) == 1  # not posted twice
    acknowledged = tmp_path / "acknowledged.toml"
    acknowledged.write_text(config.read_text().split("[spend.alerts]")[0]
                            + f'[spend.alerts]\nacknowledged = ["spend_anomaly:data:anthropic:{spike}"]\n')
    quiet = runner.invoke(app, ["alerts", "--config", str(acknowledged)])
    assert quiet.exit_code == 0 and f"No open AI spend alerts as of {END}" in quiet.stdout


def test_out_of_range_settings_name_their_key(tmp_path):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n[spend.alerts]\nk = 0\n')
    result = runner.invoke(app, ["alerts", "--config", str(config)])
    assert result.exit_code == 1 and "'spend.alerts.k' must be greater than 0" in result.output
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n[spend]\nusd_rates = {{ EUR = -1 }}\n')
    focus = tmp_path / "focus.csv"
    focus.write_text("ChargePeriodStart,EffectiveCost,BillingCurrency,ServiceName\n")
    result = runner.invoke(app, ["import", "ai_spend", str(focus), "--format", "focus", "--config", str(config)])
    assert result.exit_code == 1 and "'spend.usd_rates.EUR' must not be negative, got -1" in result.output
