"""Strict configuration: unknown keys and wrong types are errors that name the key."""
import datetime as dt

import pytest

from config import ConfigError
from config.load import load_config, parse_config


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCORECARD_CONFIG", raising=False)
    config = load_config(env={})
    assert config.rules.min_sample == 20 and config.rules.production_environments == ("production", "prod")
    assert config.source_path is None


def test_a_full_file_parses(tmp_path):
    path = tmp_path / "scorecard.toml"
    path.write_text(
        """
[warehouse]
url = "sqlite:///wh.db"
[baseline]
start = 2026-01-01
end = "2026-03-31"
[baseline.mttr_hours]
start = 2025-10-01
end = 2026-03-31
[rules]
rollback_window_days = 3
min_sample = 10
cost_tolerance = 0.15
[ai_detection]
labels = ["ai"]
[teams.payments]
owner = "dana"
repos = ["acme/pay-*"]
"""
    )
    config = load_config(path, env={})
    assert config.warehouse.url == "sqlite:///wh.db"
    assert config.baseline.window.end == dt.date(2026, 3, 31)
    assert config.baseline.per_metric["mttr_hours"].start == dt.date(2025, 10, 1)
    assert (config.rules.rollback_window_days, config.rules.min_sample, config.rules.cost_tolerance) == (3.0, 10, 0.15)
    assert config.ai_detection.labels == ("ai",)
    assert config.teams["payments"].repos == ("acme/pay-*",)


def test_environment_overrides_the_warehouse_url(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[warehouse]\nurl = "sqlite:///a.db"\n')
    assert load_config(path, env={"SCORECARD_WAREHOUSE_URL": "postgresql://x/y"}).warehouse.url == "postgresql://x/y"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules]\nmin_samples = 5\n", "unknown key 'rules.min_samples'"),
        ("[rules]\nmin_sample = \"20\"\n", "'rules.min_sample' must be a whole number, got '20' (a string)"),
        ("[rules]\nmin_sample = 2.5\n", "'rules.min_sample' must be a whole number"),
        ("[rules]\nproduction_environments = \"prod\"\n", "'rules.production_environments' must be a list"),
        ("[rules]\nproduction_environments = [\"prod\", 3]\n", "'rules.production_environments[1]' must be a string"),
        ("[baseline]\nstart = 2026-01-01\n", "missing key 'baseline.end'"),
        ("[baseline]\nstart = 2026-03-01\nend = 2026-01-01\n", "end 2026-01-01 is before start 2026-03-01"),
        ("[baseline]\nstart = \"March\"\nend = 2026-01-01\n", "'baseline.start' must be a date"),
        ("[baseline.mttr]\nstart = 2026-01-01\nend = 2026-02-01\n", "[baseline.mttr]: unknown metric id"),
        ("[teams.web]\nrepo = [\"a\"]\n", "unknown key 'teams.web.repo'"),
        ("[nonsense]\nx = 1\n", "unknown key 'nonsense'"),
        ("[rules\n", "not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_an_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_parse_config_accepts_ints_for_floats():
    assert parse_config({"rules": {"csat_tolerance": 1}}).rules.csat_tolerance == 1.0


def test_schedule_keys_and_durations_are_checked(tmp_path):
    from config.schedule import parse_duration

    assert (parse_duration("15m"), parse_duration("1h30m"), parse_duration("1d"), parse_duration("1 hour")) == (900, 5400, 86_400, None)
    good = parse_config({"schedule": {"github": "2h", "spend": "12h", "jitter": 0, "retry": "1m", "max_backoff": "1h"}})
    assert (good.schedule.interval("github"), good.schedule.interval("openai"), good.schedule.retry) == (7200, 43_200, 60)
    for raw, message in (
        ({"githib": "1h"}, "unknown key 'schedule.githib' (a source or group: anthropic, claude_code, copilot_seats, cursor, github"),
        ({"jira": "soon"}, "'schedule.jira' must be a duration such as"),
        ({"jira": 15}, "'schedule.jira' must be a duration such as"),
        ({"default": "0s"}, "'schedule.default' must be at least 1s"),
        ({"jitter": 2}, "'schedule.jitter' must be a number from 0 to 1"),
        ({"retry": "2h", "max_backoff": "1h"}, "'schedule.max_backoff' (1h) is shorter than 'schedule.retry' (2h)"),
    ):
        with pytest.raises(ConfigError) as exc:
            parse_config({"schedule": raw})
        assert message in str(exc.value), str(exc.value)
