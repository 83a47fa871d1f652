"""`scorecard explain` prepares only the evidence of the record's days on (and the earlier rows they link
to) and places the default period and baselines with the stored cube: its rows are those of the whole
evidence, for a period, a range and a baseline window, segments and teams included."""
import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

import reports.data as data
from app.cli import app
from config.load import load_config
from connectors.demo.generator import generate
from metrics.baseline import baselines
from metrics.explain import record_events
from metrics.periods import Window, utc
from metrics.scorecard import prepare
from pipeline import ingest
from reports.data import load_evidence
from warehouse import open_warehouse

END = dt.date(2026, 3, 29)  # a Sunday: the demo's last day
EXAMPLE = Path(__file__).resolve().parents[2] / "scorecard.toml.example"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("explainrows")
    url = f"sqlite:///{root / 'demo.db'}"
    config = root / "scorecard.toml"
    config.write_text(EXAMPLE.read_text().replace("sqlite:///data/scorecard.db", url))
    cfg = load_config(config, env={})
    wh = open_warehouse(url)
    ingest(wh, "demo", generate("small", seed=7, end=END, ai_detection=cfg.ai_detection), action="demo")
    prepared = prepare(load_evidence(wh), cfg)
    yield {"config": str(config), "cfg": cfg, "prepared": prepared}
    wh.engine.dispose()


def explain_csv(demo, *args) -> pl.DataFrame:
    result = runner.invoke(app, ["explain", *args, "--format", "csv", "--config", demo["config"]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return pl.read_csv(io.StringIO(result.stdout), infer_schema_length=0)


def expected(demo, metric, **record) -> pl.DataFrame:
    from reports.export import encode

    rows = record_events(demo["prepared"], metric, **record)
    return pl.read_csv(io.BytesIO(encode(rows, "csv")), infer_schema_length=0)


@pytest.mark.parametrize("metric,args,record", [
    # The default period: the latest week that ended by the demo's last event (Sat 28 March, 23:48), so
    # the week of 16 March (the week of 23 March ends on the 29th).
    ("rollback_share", [], {"grain": "week", "period": dt.date(2026, 3, 16)}),
    ("lead_time_hours", ["--period", "2026-02-01", "--grain", "month", "--segment", "cohort:heavy"],
     {"grain": "month", "period": dt.date(2026, 2, 1), "segment": "cohort:heavy"}),
    ("mttr_hours", ["--period", "2026-01-05", "--team", "payments"],
     {"grain": "week", "period": dt.date(2026, 1, 5), "team": "payments"}),
    ("change_failure_rate", ["--grain", "range", "--period", "2026-02-02", "--end", "2026-03-01"],
     {"grain": "week", "window": Window(utc(dt.date(2026, 2, 2)), utc(dt.date(2026, 3, 2)) - dt.timedelta(microseconds=1), "range")}),
    ("ai_cost_per_unit", ["--period", "2026-03-02"], {"grain": "week", "period": dt.date(2026, 3, 2)}),
])
def test_explain_lists_the_rows_of_the_whole_evidence(demo, metric, args, record):
    ours = explain_csv(demo, metric, *args)
    assert ours.height > 0
    assert_frame_equal(ours, expected(demo, metric, **record))


def test_explain_baseline_lists_the_baseline_windows_rows(demo, monkeypatch):
    window = baselines(demo["prepared"].cube, demo["cfg"]).window("rework_rate")
    assert window.first_day < dt.date(2025, 12, 1)  # months before the latest period: an earlier slice
    read_from = []  # the command imports load_evidence_since from reports.data when it runs: spy there
    real = data.load_evidence_since
    monkeypatch.setattr(data, "load_evidence_since", lambda wh, cfg, since: read_from.append(since) or real(wh, cfg, since))
    ours = explain_csv(demo, "rework_rate", "--baseline")
    assert read_from == [window.first_day]
    assert ours.height > 0
    assert_frame_equal(ours, expected(demo, "rework_rate", grain="week", window=window))
