"""Change history: the effective config and the metric-definition version are recorded once per
version, with what changed, and never with a secret."""
import dataclasses
import datetime as dt
import json

import polars as pl
import pytest

from config import Config, RulesConfig, WarehouseConfig
from governance import changes
from governance.changes import (
    CONFIG_CHANGE, config_in_force, config_versions, effective_config, metrics_version, record_config_version,
)
from metrics import registry
from warehouse import read_table


def history(wh) -> pl.DataFrame:
    return read_table(wh, "audit_log").filter(pl.col("action") == CONFIG_CHANGE).sort("id")


def test_a_version_is_recorded_once_and_again_when_the_config_changes(warehouse):
    config = Config()
    assert record_config_version(warehouse, config, actor="cli:ana") is True
    assert record_config_version(warehouse, config, actor="cli:ana") is False  # same version: nothing new
    changed = dataclasses.replace(config, rules=RulesConfig(min_sample=30))
    assert record_config_version(warehouse, changed, actor="dashboard:dana@acme.example") is True
    rows = history(warehouse)
    assert rows["actor"].to_list() == ["cli:ana", "dashboard:dana@acme.example"]
    first, second = (json.loads(d) for d in rows["detail"])
    assert first["first"] is True and second["changed"] == ["rules.min_sample"]
    assert second["config"]["rules"]["min_sample"] == 30 and first["config_hash"] != second["config_hash"]
    assert first["metrics_version"] == second["metrics_version"] == metrics_version()
    versions = config_versions(read_table(warehouse, "audit_log"))
    assert versions["changed"].to_list() == ["rules.min_sample", "first record"]  # latest first
    # The config in force at a moment: the last version recorded at or before it.
    assert config_in_force(rows, rows["ts"][0])["config_hash"] == first["config_hash"]
    assert config_in_force(rows, dt.datetime.now(dt.timezone.utc))["config_hash"] == second["config_hash"]
    assert config_in_force(rows, dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)) is None


def test_a_changed_metric_definition_is_a_new_version(warehouse, monkeypatch):
    record_config_version(warehouse, Config())
    spec = registry.METRICS["csat"]
    monkeypatch.setitem(registry.METRICS, "csat", dataclasses.replace(spec, description="A new definition"))
    monkeypatch.setattr(changes, "METRICS", registry.METRICS)
    assert record_config_version(warehouse, Config()) is True
    last = json.loads(history(warehouse)["detail"][-1])
    assert last["metrics_changed"] is True and last["changed"] == []
    assert config_versions(read_table(warehouse, "audit_log"))["changed"][0] == "metric definitions"


@pytest.mark.parametrize("url, shown", [
    ("postgresql://scorer:hunter2-secret@db.internal:5432/scorecard", "postgresql://scorer:***@db.internal:5432/scorecard"),
    ("https://ghp_tokenvalue123@github.example/api", "https://***@github.example/api"),
    ("sqlite:///data/scorecard.db", "sqlite:///data/scorecard.db"),
])
def test_effective_config_masks_credentials_in_urls(url, shown):
    assert effective_config(Config(warehouse=WarehouseConfig(url=url)))["warehouse"]["url"] == shown


def test_a_failing_warehouse_never_fails_the_command(caplog):
    class Broken:
        engine = None
    assert record_config_version(Broken(), Config()) is False
    assert "could not record" in caplog.text
