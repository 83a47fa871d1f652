"""The vendor connectors end to end: Claude Code, Cursor, OpenAI usage and OpenAI costs synced from their
fakes on loopback into one warehouse, then the Adoption page and the exports — OpenAI's cost cut by user
and key (shared out by tokens, worked by hand), and no key anywhere: logs, warehouse, exports, page."""
from __future__ import annotations

import datetime as dt
import json
import logging
from functools import partial

import polars as pl
from typer.testing import CliRunner

from app.cli import app
from reports.export import ExportFilters, encode, export_frame
from config import Config, WarehouseConfig
from config.spend import OpenAiSpendConfig, RetryConfig, SpendConfig
from config.vendors import ClaudeCodeConfig, CursorConfig, OpenAiUsageConfig, VendorsConfig
from pipeline import run_source
from tests.app.conftest import clear_streamlit_caches, run_app
from tests.app.test_adoption_page import frames, number
from tests.connectors.hygiene import everything_written
from tests.connectors.spend.fakes import FakeOpenAI
from tests.connectors.vendors.fakes import FakeClaudeCode, FakeCursor, FakeOpenAIUsage, claude_record, cursor_usage

run_claude_code, run_cursor, run_openai_usage, run_openai = (
    partial(run_source, source=name) for name in ("claude_code", "cursor", "openai_usage", "openai"))

KEYS = {"TEST_AV_CLAUDE": "sk-ant-admin01-ADOPTIONpageCLAUDEkey0123",
        "TEST_AV_CURSOR": "key_ADOPTIONpageCURSORkey0123456789abcdef",
        "TEST_AV_OPENAI_USAGE": "sk-admin-ADOPTIONpageOPENAIusageKEY0123",
        "TEST_AV_OPENAI_COSTS": "sk-admin-ADOPTIONpageOPENAIcostsKEY0123"}


def test_vendor_syncs_reach_the_page_with_openai_cost_per_user_and_key_and_no_key(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    for name, key in KEYS.items():
        monkeypatch.setenv(name, key)
    today = dt.date.today()
    monday = today - dt.timedelta(days=today.weekday())
    day = monday - dt.timedelta(days=6)  # last week's Tuesday: inside the page's default range
    url = f"sqlite:///{tmp_path / 'w.db'}"
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{url}"\n', encoding="utf-8")
    (tmp_path / "people.csv").write_text("login,name,team,level,since,emails\n"
                                         "ana,Ana Lima,payments,,,ana@acme.dev;user-ana\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "people", str(tmp_path / "people.csv"), "--config", str(config)])
    assert result.exit_code == 0, result.output

    retry = RetryConfig(max_retries=2, backoff_seconds=0.0)
    with (FakeClaudeCode(KEYS["TEST_AV_CLAUDE"], {day: [claude_record("ana@acme.dev", day)]}) as claude,
          FakeCursor(KEYS["TEST_AV_CURSOR"], [cursor_usage("ana@acme.dev", day)], []) as cursor,
          FakeOpenAIUsage(KEYS["TEST_AV_OPENAI_USAGE"], {day: [
              ("proj_pay", "user-ana", "key_ana", "gpt-5", 800, 200, 10),
              ("proj_pay", None, "key_svc", "gpt-5", 2500, 500, 40)]}) as usage,
          FakeOpenAI(KEYS["TEST_AV_OPENAI_COSTS"], {day: [
              ("proj_pay", "gpt-5, input", 2.5, "usd"), ("proj_pay", "gpt-5, output", 1.5, "usd"),
              ("proj_pay", "web search tool calls", 0.8, "usd")]}) as costs):
        vendors = VendorsConfig(
            claude_code=ClaudeCodeConfig(admin_key_env="TEST_AV_CLAUDE", base_url=claude.url, start=day, retry=retry),
            cursor=CursorConfig(api_key_env="TEST_AV_CURSOR", base_url=cursor.url, start=day, retry=retry),
            openai_usage=OpenAiUsageConfig(admin_key_env="TEST_AV_OPENAI_USAGE", base_url=usage.url, start=day,
                                           retry=retry))
        spend = SpendConfig(openai=OpenAiSpendConfig(admin_key_env="TEST_AV_OPENAI_COSTS", base_url=costs.url,
                                                     start=day, retry=retry))
        cfg = Config(warehouse=WarehouseConfig(url=url), vendors=vendors, spend=spend)
        from warehouse import open_warehouse

        warehouse = open_warehouse(url)
        try:
            for run in (run_claude_code, run_cursor, run_openai_usage, run_openai):
                report = run(warehouse, cfg, today=day + dt.timedelta(days=1), sleep=lambda s: None)
                assert report.status == "success", (run.__name__, report.error, report.warnings)
            stored = everything_written(warehouse)
            exported = b"".join(encode(export_frame(warehouse, cfg, table, ExportFilters(start=day, end=day)), "csv")
                                for table in ("ai_usage_people", "ai_spend"))
        finally:
            warehouse.engine.dispose()

    # The same cut from the terminal (`scorecard adoption`, an admin tool): whole org, by key.
    cli = CliRunner().invoke(app, ["adoption", "--start", day.isoformat(), "--end", day.isoformat(), "--format", "json",
                                   "--config", str(config)], catch_exceptions=False)
    assert cli.exit_code == 0, cli.output
    by_key = {k["api_key"]: k for k in json.loads(cli.output)["api_keys"]}
    assert [(k, round(by_key[k]["cost_usd"], 9), by_key[k]["tokens"], by_key[k]["vendor_users"]) for k in by_key] == [
        ("key_svc", 3.6, 3000, "api_key:key_svc"), ("key_ana", 1.2, 1000, "user-ana")]

    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    clear_streamlit_caches()
    try:
        at = run_app("adoption")
    finally:
        clear_streamlit_caches()
    shown = frames(at)
    # proj_pay that day: gpt-5 $2.50 + $1.50 over the gpt-5 rows' tokens (ana 800 + 200 = 1000, the service key
    # 2500 + 500 = 3000) → ana $1.00, key_svc $3.00; web search $0.80 (no usage row names it) over all 4000
    # tokens → ana $0.20, key_svc $0.60. Ana (matched by her OpenAI user id) $1.20; key_svc $3.60.
    keys = {r["api_key"]: r for r in next(f for f in shown if "api_key" in f.columns).iter_rows(named=True)}
    assert set(keys) == {"key_ana", "key_svc"}
    assert (keys["key_ana"]["team"], number(keys["key_ana"]["cost_usd"]), keys["key_ana"]["tokens"]) == ("payments", 1.2, 1000)
    assert (keys["key_svc"]["team"], number(keys["key_svc"]["cost_usd"]), keys["key_svc"]["requests"]) == ("unassigned", 3.6, 40)
    people = {(r["person"], r["tool"]): r for r in next(f for f in shown if "active_days" in f.columns).iter_rows(named=True)}
    assert set(people) == {("ana", "claude-code"), ("ana", "cursor"), ("ana", "openai")}
    assert number(people["ana", "openai"]["cost_usd"]) == 1.2
    teams = {(r["team"], r["tool"]): r for r in next(f for f in shown if "chat_users" in f.columns).iter_rows(named=True)}
    # Cursor's record: 128 chat and 12 agent requests → ana counts as a chat and an agent user.
    assert (number(teams["payments", "cursor"]["chat_users"]), number(teams["payments", "cursor"]["agent_users"])) == (1, 1)
    unmatched = next(f for f in shown if "reason" in f.columns)
    assert unmatched["vendor_user"].to_list() == ["api_key:key_svc"]  # the service key: listed, not dropped
    page = " ".join([str(e.value) for e in (*at.markdown, *at.caption, *at.metric, *at.subheader, *at.error,
                                            *at.warning, *at.info)] + [str(f.to_dicts()) for f in shown])
    places = {"logs": caplog.text, "warehouse": stored, "exports": exported.decode("utf-8"), "page": page,
              "cli": cli.output}
    leaks = [(name, where) for name, key in KEYS.items() for where, text in places.items() if key in text]
    assert leaks == [] and not at.exception
