"""OpenAI and Anthropic cost APIs through `requests` against fakes on loopback: amounts in USD to the
cent, team attribution, paging, 429 + Retry-After, incremental cursors, idempotent reruns, secrets."""
import dataclasses
import datetime as dt
from functools import partial
import logging

import polars as pl
import pytest

from config import Config, WarehouseConfig
from config.spend import AnthropicSpendConfig, OpenAiSpendConfig, RetryConfig, SpendConfig
from pipeline import run_source, run_sources
from tests.connectors.hygiene import everything_written
from tests.connectors.spend.fakes import Fault, FakeAnthropic, FakeOpenAI
from warehouse import read_table
from warehouse.runs import get_cursor

run_openai = partial(run_source, source="openai")  # run_openai(warehouse, config, **test hooks)
run_anthropic = partial(run_source, source="anthropic")  # run_anthropic(warehouse, config, **test hooks)

OPENAI_KEY = "sk-admin-SCORECARDtestOPENAIkey0123456789"
ANTHROPIC_KEY = "sk-ant-admin01-SCORECARDtestANTHROPICkey"
TODAY = dt.date(2026, 11, 10)  # fetched: 2026-11-01 .. 2026-11-09 (complete days only)
D = dt.date

OPENAI_COSTS = {
    D(2026, 11, 1): [("proj_pay", "gpt-4o-2024-08-06, input", 1.25, "usd"),
                     ("proj_pay", "gpt-4o-2024-08-06, output", 2.5, "usd"),
                     ("proj_web", "o1-2024-12-17, input", 0.104, "usd")],
    D(2026, 11, 2): [("proj_lab", "gpt-4o-mini, input", 0.01, "usd"), (None, None, 0.02, "usd")],
    D(2026, 11, 5): [("proj_pay", "gpt-4o-2024-08-06, input", 3.3333, "usd")],
    D(2026, 11, 7): [("proj_web", "o1-2024-12-17, input", 5, "eur")],
    D(2026, 11, 12): [("proj_pay", "gpt-4o-2024-08-06, input", 99.0, "usd")],  # after TODAY: never fetched
}


def no_waits() -> RetryConfig:
    return RetryConfig(max_retries=3, backoff_seconds=1.0, max_backoff_seconds=60.0, max_wait_seconds=900.0)


def config_with(url: str, **spend) -> Config:
    return Config(warehouse=WarehouseConfig(url=url), spend=SpendConfig(**spend))


def openai_section(fake, **kw) -> OpenAiSpendConfig:
    return OpenAiSpendConfig(admin_key_env="TEST_OPENAI_ADMIN_KEY", base_url=fake.url, start=D(2026, 11, 1),
                             page_days=3, projects={"proj_pay": "payments", "proj_web": "web"},
                             workflows={"proj_pay": "checkout-assistant"}, retry=no_waits(), **kw)


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("TEST_OPENAI_ADMIN_KEY", OPENAI_KEY)
    monkeypatch.setenv("TEST_ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY)


def by_team(frame: pl.DataFrame) -> dict[str, float]:
    totals = frame.group_by(pl.col("team").fill_null("unassigned")).agg(pl.col("cost_usd").sum())
    return {team: round(cost, 2) for team, cost in totals.iter_rows()}


def test_openai_costs_paged_retried_attributed_and_rerun_idempotent(warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    waits = []
    with FakeOpenAI(OPENAI_KEY, OPENAI_COSTS) as fake:
        fake.faults.append(Fault(429, headers={"Retry-After": "7"}))
        config = config_with(warehouse.display_url, openai=openai_section(fake), usd_rates={"EUR": 1.1})
        report = run_openai(warehouse, config, today=TODAY, sleep=waits.append)
        assert report.status == "success", report
        # 9 days in pages of 3 buckets = 3 pages, plus the one retried 429 (after exactly Retry-After).
        assert waits == [7.0] and report.stats["calls"] == 4 and len(fake.requests) == 4
        assert [r.params.get("page") for r in fake.requests] == [None, None, ["page_2026-11-04"], ["page_2026-11-07"]]
        spend = read_table(warehouse, "ai_spend")
        # payments 1.25 + 2.50 + 3.3333 = 7.0833; web 0.104 + 5 EUR × 1.1 = 5.604; lab and the default project
        # are not mapped: 0.01 + 0.02 = 0.03 unassigned.
        assert by_team(spend) == {"payments": 7.08, "web": 5.60, "unassigned": 0.03}
        assert spend.filter(pl.col("date") == D(2026, 11, 12)).height == 0
        row = spend.filter(pl.col("id") == "openai:2026-11-01:proj_pay:gpt-4o-2024-08-06, output").row(0, named=True)
        assert (row["source"], row["tool"], row["model"], row["workflow"], row["cost_usd"]) == (
            "openai", "openai", "gpt-4o-2024-08-06", "checkout-assistant", 2.5)
        assert get_cursor(warehouse, "openai", "costs") == "2026-11-09"
        assert "proj_lab" in caplog.text  # the unmapped project is named, once

        again = run_openai(warehouse, config, today=TODAY, sleep=waits.append)
        # The rerun asks only for the look-back (3 days before the cursor's next day) and changes nothing.
        assert dt.datetime.fromtimestamp(int(fake.requests[-1].params["start_time"][0]), dt.timezone.utc).date() == D(2026, 11, 7)
        assert again.tables["ai_spend"].inserted == 0 and again.tables["ai_spend"].updated == 0
        assert read_table(warehouse, "ai_spend").height == spend.height
    assert OPENAI_KEY not in everything_written(warehouse) and OPENAI_KEY not in caplog.text


def test_openai_currency_without_a_rate_is_rejected_and_counted(sqlite_warehouse):
    with FakeOpenAI(OPENAI_KEY, OPENAI_COSTS) as fake:
        report = run_openai(sqlite_warehouse, config_with(sqlite_warehouse.display_url, openai=openai_section(fake)),
                            today=TODAY, sleep=lambda s: None)
    assert report.status == "partial"
    assert [(r.record_id, "EUR" in r.reason) for r in report.rejected] == [("openai:2026-11-07:proj_web:o1-2024-12-17, input", True)]
    assert by_team(read_table(sqlite_warehouse, "ai_spend")) == {"payments": 7.08, "web": 0.10, "unassigned": 0.03}


def test_a_refused_key_fails_the_source_without_leaking_it(sqlite_warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeOpenAI(OPENAI_KEY, OPENAI_COSTS) as fake:
        # Servers echo keys back in their error messages; the report and the run must not.
        fake.faults.append(Fault(401, body={"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}"}}))
        report = run_openai(sqlite_warehouse, config_with(sqlite_warehouse.display_url, openai=openai_section(fake)),
                            today=TODAY, sleep=lambda s: None)
    assert report.status == "failed" and "HTTP 401" in report.error and "***" in report.error
    assert OPENAI_KEY not in report.error and OPENAI_KEY not in everything_written(sqlite_warehouse)
    assert OPENAI_KEY not in caplog.text
    assert get_cursor(sqlite_warehouse, "openai", "costs") is None


def test_a_missing_key_names_the_variable(sqlite_warehouse, monkeypatch, tmp_path):
    monkeypatch.delenv("TEST_OPENAI_ADMIN_KEY")
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    section = OpenAiSpendConfig(admin_key_env="TEST_OPENAI_ADMIN_KEY", base_url="http://127.0.0.1:9")
    report = run_openai(sqlite_warehouse, config_with(sqlite_warehouse.display_url, openai=section), today=TODAY)
    assert report.status == "failed" and "$TEST_OPENAI_ADMIN_KEY is not set" in report.error


def test_server_errors_are_retried_then_reported(sqlite_warehouse):
    waits = []
    with FakeOpenAI(OPENAI_KEY, OPENAI_COSTS) as fake:
        fake.faults.extend([Fault(503, body={"error": {"message": "overloaded"}})] * 4)
        report = run_openai(sqlite_warehouse, config_with(sqlite_warehouse.display_url, openai=openai_section(fake)),
                            today=TODAY, sleep=waits.append)
    # max_retries 3: backoff 1, 2, 4 s, then the fourth 503 ends the run; nothing was written.
    assert waits == [1.0, 2.0, 4.0] and report.status == "failed" and "HTTP 503" in report.error
    assert read_table(sqlite_warehouse, "ai_spend").height == 0


ANTHROPIC_COSTS = {
    D(2026, 11, 3): [("wrkspc_review", "Claude Sonnet 4 Usage - Input Tokens", "claude-sonnet-4-20250514", "12345.6789"),
                     ("wrkspc_review", "Claude Sonnet 4 Usage - Output Tokens", "claude-sonnet-4-20250514", "250"),
                     (None, "Claude Haiku 3.5 Usage - Input Tokens", "claude-3-5-haiku-20241022", "0.4")],
    D(2026, 11, 9): [("wrkspc_other", "Web Search Usage", None, "1000")],
}


def anthropic_section(fake, **kw) -> AnthropicSpendConfig:
    return AnthropicSpendConfig(admin_key_env="TEST_ANTHROPIC_ADMIN_KEY", base_url=fake.url, start=D(2026, 11, 1),
                                page_days=31, workspaces={"wrkspc_review": "data", "default": "platform"},
                                workflows={"wrkspc_review": "code-review"}, retry=no_waits(), **kw)


def test_anthropic_cents_strings_become_dollars_by_workspace_team(warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeAnthropic(ANTHROPIC_KEY, ANTHROPIC_COSTS) as fake:
        fake.faults.append(Fault(429, headers={"Retry-After": "0"}))
        config = config_with(warehouse.display_url, anthropic=dataclasses.replace(anthropic_section(fake), page_days=4))
        report = run_anthropic(warehouse, config, today=TODAY, sleep=lambda s: None)
        assert report.status == "success", report
        assert report.stats["calls"] == 1 + 3  # the 429, then 9 days in pages of 4
        spend = read_table(warehouse, "ai_spend")
        # data: 12345.6789 + 250 cents = $125.956789; platform (the default workspace): 0.4 cents;
        # wrkspc_other has no team: $10.00 unassigned.
        assert by_team(spend) == {"data": 125.96, "platform": 0.0, "unassigned": 10.0}
        assert round(spend.filter(pl.col("team") == "platform")["cost_usd"].sum(), 3) == 0.004
        review = spend.filter(pl.col("team") == "data").sort("id")
        assert review["workflow"].unique().to_list() == ["code-review"]
        assert review["model"].unique().to_list() == ["claude-sonnet-4-20250514"]
        assert review["id"].to_list() == [
            "anthropic:2026-11-03:wrkspc_review:Claude Sonnet 4 Usage - Input Tokens",
            "anthropic:2026-11-03:wrkspc_review:Claude Sonnet 4 Usage - Output Tokens",
        ]
        assert get_cursor(warehouse, "anthropic", "cost_report") == "2026-11-09"
        again = run_anthropic(warehouse, config, today=TODAY + dt.timedelta(days=1), sleep=lambda s: None)
        assert fake.requests[-1].params["starting_at"] == ["2026-11-07T00:00:00Z"]
        assert again.tables["ai_spend"].inserted == 0 and again.tables["ai_spend"].updated == 0
    assert ANTHROPIC_KEY not in everything_written(warehouse) and ANTHROPIC_KEY not in caplog.text


def test_sync_runs_every_configured_spend_source(sqlite_warehouse, monkeypatch):
    with FakeOpenAI(OPENAI_KEY, OPENAI_COSTS) as openai, FakeAnthropic(ANTHROPIC_KEY, ANTHROPIC_COSTS) as anthropic:
        # Through the registry, as `scorecard sync` runs them (today is the real today: fetch from `start`).
        start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
        config = config_with(sqlite_warehouse.display_url, usd_rates={"EUR": 1.1},
                             openai=dataclasses.replace(openai_section(openai), start=start),
                             anthropic=dataclasses.replace(anthropic_section(anthropic), start=start))
        reports = run_sources(sqlite_warehouse, config)
    assert [(r.source, r.status) for r in reports if r.source in ("openai", "anthropic")] == [
        ("openai", "success"), ("anthropic", "success")]
    assert len(openai.requests) == 1 and len(anthropic.requests) == 1


def test_cli_sync_reports_without_showing_the_key(tmp_path):
    from typer.testing import CliRunner

    from app.cli import app

    start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=3)
    with FakeOpenAI(OPENAI_KEY, {start: [("proj_pay", "gpt-4o, input", 4.5, "usd")]}) as fake:
        config = tmp_path / "scorecard.toml"
        config.write_text(
            f'[warehouse]\nurl = "sqlite:///{tmp_path / "wh.db"}"\n'
            f'[spend.openai]\nadmin_key_env = "TEST_OPENAI_ADMIN_KEY"\nbase_url = "{fake.url}"\nstart = {start}\n'
            '[spend.openai.projects]\nproj_pay = "payments"\n'
        )
        runner = CliRunner()
        ok = runner.invoke(app, ["sync", "--source", "openai", "--config", str(config)])
        assert ok.exit_code == 0 and "openai: success — ai_spend 1 new/0 updated, 1 API calls" in ok.output
        fake.faults.append(Fault(401, body={"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}"}}))
        refused = runner.invoke(app, ["sync", "--source", "openai", "--full", "--config", str(config)])
    assert refused.exit_code == 1 and "openai: failed" in refused.output and "HTTP 401" in refused.output
    assert OPENAI_KEY not in ok.output + refused.output


def test_a_key_with_a_line_break_inside_is_refused_by_name(sqlite_warehouse, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    broken = OPENAI_KEY[:12] + "\r\n" + OPENAI_KEY[12:]
    monkeypatch.setenv("TEST_OPENAI_ADMIN_KEY", broken)
    section = OpenAiSpendConfig(admin_key_env="TEST_OPENAI_ADMIN_KEY", base_url="http://127.0.0.1:9")
    report = run_openai(sqlite_warehouse, config_with(sqlite_warehouse.display_url, openai=section), today=TODAY)
    assert report.status == "failed" and "$TEST_OPENAI_ADMIN_KEY contains a line break" in report.error
    text = report.error + caplog.text + everything_written(sqlite_warehouse)
    assert OPENAI_KEY[:12] not in text and OPENAI_KEY[12:] not in text


def test_a_key_from_a_secret_file_with_a_newline_works(sqlite_warehouse, monkeypatch):
    monkeypatch.setenv("TEST_OPENAI_ADMIN_KEY", OPENAI_KEY + "\n")
    with FakeOpenAI(OPENAI_KEY, OPENAI_COSTS) as fake:
        report = run_openai(sqlite_warehouse, config_with(sqlite_warehouse.display_url, openai=openai_section(fake)),
                            today=TODAY, sleep=lambda s: None)
        sent = {r.headers.get("authorization") for r in fake.requests}
    assert report.status != "failed" and report.rows > 0, report.error
    assert sent == {f"Bearer {OPENAI_KEY}"}  # the newline was stripped, not sent
