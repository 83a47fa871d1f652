"""Claude Code analytics through `requests` against a fake Admin API on loopback: every documented
field mapped, paging, Retry-After, a malformed record named, reruns idempotent in one call, no key leaks."""
import dataclasses
import datetime as dt
import json
from functools import partial
import logging

import polars as pl

from config import Config, WarehouseConfig
from config.spend import RetryConfig
from config.vendors import ClaudeCodeConfig, VendorsConfig
from pipeline import run_source, run_sources
from tests.connectors.hygiene import everything_written
from tests.connectors.loopback import Fault
from tests.connectors.vendors.fakes import FakeClaudeCode, claude_record
from warehouse import read_table
from warehouse.runs import get_cursor

run_claude_code = partial(run_source, source="claude_code")  # run_claude_code(warehouse, config, **test hooks)

KEY = "sk-ant-admin01-SCORECARDtestCLAUDECODEkey"
D = dt.date
TODAY = D(2026, 11, 4)  # complete days: Nov 1, 2, 3
DAYS = {
    D(2026, 11, 1): [
        claude_record("ana@acme.dev", D(2026, 11, 1)),
        claude_record("bo@acme.dev", D(2026, 11, 1), sessions=1, added=0, removed=0, commits=0, prs=0,
                      accepted=(0, 0, 0, 0), rejected=(1, 0, 0, 0), models=()),
        claude_record(None, D(2026, 11, 1), api_key="ci-review-bot", sessions=4, added=10, removed=0, commits=0, prs=0,
                      models=(("claude-haiku-4-5", 500, 100, 0, 0, 7),)),
    ],
    D(2026, 11, 2): [claude_record("ana@acme.dev", D(2026, 11, 2), models=(
        ("claude-sonnet-4-5", 2000, 500, 0, 0, 250), ("claude-opus-4-1", 100, 20, 0, 0, 99.5)))],
    D(2026, 11, 3): [{"actor": {"type": "user_actor"}, "core_metrics": {}}],  # no e-mail: cannot be a person
}


def section(fake, **kw) -> ClaudeCodeConfig:
    retry = RetryConfig(max_retries=3, backoff_seconds=1.0)
    return ClaudeCodeConfig(admin_key_env="TEST_CLAUDE_ADMIN_KEY", base_url=fake.url, start=D(2026, 11, 1),
                            page_size=2, retry=retry, **kw)


def config(url: str, claude: ClaudeCodeConfig) -> Config:
    return Config(warehouse=WarehouseConfig(url=url), vendors=VendorsConfig(claude_code=claude))


def test_claude_code_maps_every_field_pages_retries_and_reruns_in_one_call(warehouse, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TEST_CLAUDE_ADMIN_KEY", KEY)
    waits = []
    with FakeClaudeCode(KEY, DAYS) as fake:
        fake.faults.append(Fault("/v1/", 429, headers={"Retry-After": "5"},
                                 body={"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited"}}))
        fake.faults.append(Fault("/v1/", 503, headers={"Retry-After": "1"}))
        cfg = config(warehouse.display_url, section(fake, to_spend=True))
        report = run_claude_code(warehouse, cfg, today=TODAY, sleep=waits.append)
        # Nov 1 holds 3 records in pages of 2 (2 calls), Nov 2 and 3 one each, plus the 429 and the 503.
        assert waits == [5.0, 1.0] and report.stats["calls"] == 6
        assert report.status == "partial"
        assert [(r.record_id, r.reason) for r in report.rejected] == [
            ("claude_code:2026-11-03 record 1", "actor is neither a user (email_address) nor an API key (api_key_name)")]
        people = read_table(warehouse, "ai_usage_people").sort("id")
        ana = people.filter(pl.col("id") == "claude_code:2026-11-01:ana@acme.dev").row(0, named=True)
        # suggestions = accepted 10+2+1+0 + rejected 2+0+0+1 = 16; acceptances 13; tokens 1000+250+400+50 = 1700;
        # cost 186 cents = $1.86.
        assert {k: ana[k] for k in ("tool", "vendor_user", "email", "active", "engaged", "sessions", "lines_added",
                                    "lines_removed", "commits", "prs", "suggestions", "acceptances", "tokens",
                                    "cost_usd")} == {
            "tool": "claude-code", "vendor_user": "ana@acme.dev", "email": "ana@acme.dev", "active": True,
            "engaged": True, "sessions": 3, "lines_added": 120, "lines_removed": 30, "commits": 2, "prs": 1,
            "suggestions": 16, "acceptances": 13, "tokens": 1700, "cost_usd": 1.86}
        # The account fields, the tool actions per tool and the model breakdown as sent, in detail.
        assert json.loads(ana["detail"]) == {
            "organization_id": "12345678-1234-5678-1234-567812345678", "customer_type": "api",
            "subscription_type": "enterprise", "terminal_type": "vscode",
            "tool_actions": {"edit_tool": {"accepted": 10, "rejected": 2}, "multi_edit_tool": {"accepted": 2, "rejected": 0},
                             "write_tool": {"accepted": 1, "rejected": 0}, "notebook_edit_tool": {"accepted": 0, "rejected": 1}},
            "model_breakdown": [{"model": "claude-sonnet-4-5", "estimated_cost": {"amount": 186, "currency": "USD"},
                                 "tokens": {"input": 1000, "output": 250, "cache_read": 400, "cache_creation": 50}}]}
        assert (ana["used_chat"], ana["used_agent"], ana["used_cli"], ana["model"]) == (None, None, None, None)
        bo = people.filter(pl.col("vendor_user") == "bo@acme.dev").row(0, named=True)
        # Bo opened a session and rejected one edit: active, not engaged, no cost.
        assert (bo["active"], bo["engaged"], bo["suggestions"], bo["acceptances"], bo["cost_usd"]) == (True, False, 1, 0, 0.0)
        bot = people.filter(pl.col("vendor_user") == "api_key:ci-review-bot").row(0, named=True)
        assert (bot["email"], bot["api_key"], bot["cost_usd"]) == (None, "ci-review-bot", 0.07)
        # Nov 2: 250 + 99.5 cents = $3.495, two models as two spend rows.
        spend = read_table(warehouse, "ai_spend").filter(pl.col("date") == D(2026, 11, 2)).sort("model")
        assert spend.select("model", "cost_usd", "tokens", "vendor_user").rows() == [
            ("claude-opus-4-1", 0.995, 120, "ana@acme.dev"), ("claude-sonnet-4-5", 2.5, 2500, "ana@acme.dev")]
        assert people.height == 4 and get_cursor(warehouse, "claude_code", "usage_report") == "2026-11-03"

        before = fake.calls()
        again = run_claude_code(warehouse, cfg, today=TODAY, sleep=waits.append)
        # Nothing new: one call for the look-back day (Nov 3), nothing written.
        assert fake.calls() - before == 1 and again.stats["calls"] == 1
        assert again.tables["ai_usage_people"].inserted == again.tables["ai_usage_people"].updated == 0
    assert KEY not in everything_written(warehouse) and KEY not in caplog.text


def test_spend_rows_only_when_asked(sqlite_warehouse, monkeypatch):
    monkeypatch.setenv("TEST_CLAUDE_ADMIN_KEY", KEY)
    with FakeClaudeCode(KEY, DAYS) as fake:
        report = run_claude_code(sqlite_warehouse, config(sqlite_warehouse.display_url, section(fake)), today=TODAY,
                                 sleep=lambda s: None)
    # The cost report already bills API Claude Code usage: by default nothing lands in ai_spend.
    assert "ai_spend" not in report.tables and read_table(sqlite_warehouse, "ai_spend").height == 0
    # 1.86 (Ana) + 0 (Bo) + 0.07 (the CI key) on Nov 1, 3.495 (Ana) on Nov 2.
    assert round(read_table(sqlite_warehouse, "ai_usage_people")["cost_usd"].sum(), 3) == 5.425


def test_a_key_without_the_permission_is_a_warning_naming_it(sqlite_warehouse, monkeypatch, caplog):
    monkeypatch.setenv("TEST_CLAUDE_ADMIN_KEY", KEY)
    with FakeClaudeCode(KEY, DAYS) as fake:
        fake.faults.append(Fault("/v1/", 403, body={"type": "error", "error": {
            "type": "permission_error", "message": f"key {KEY} does not have permission"}}))
        report = run_claude_code(sqlite_warehouse, config(sqlite_warehouse.display_url, section(fake)), today=TODAY)
    assert report.status == "partial" and len(report.warnings) == 1
    assert "HTTP 403" in report.warnings[0] and "Admin API key" in report.warnings[0]
    assert KEY not in report.warnings[0] and KEY not in everything_written(sqlite_warehouse)
    assert get_cursor(sqlite_warehouse, "claude_code", "usage_report") is None


def test_a_refused_key_fails_and_a_missing_one_names_the_variable(sqlite_warehouse, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEST_CLAUDE_ADMIN_KEY", "sk-ant-admin01-WRONGkeyWRONGkeyWRONG")
    with FakeClaudeCode(KEY, DAYS) as fake:
        cfg = config(sqlite_warehouse.display_url, section(fake))
        refused = run_claude_code(sqlite_warehouse, cfg, today=TODAY)
        monkeypatch.delenv("TEST_CLAUDE_ADMIN_KEY")
        missing = run_claude_code(sqlite_warehouse, cfg, today=TODAY)
    assert refused.status == "failed" and "HTTP 401" in refused.error and "WRONGkey" not in refused.error
    assert missing.status == "failed" and "$TEST_CLAUDE_ADMIN_KEY is not set" in missing.error


def test_sync_runs_it_from_the_registry(sqlite_warehouse, monkeypatch):
    monkeypatch.setenv("TEST_CLAUDE_ADMIN_KEY", KEY)
    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    with FakeClaudeCode(KEY, {yesterday: [claude_record("ana@acme.dev", yesterday)]}) as fake:
        cfg = config(sqlite_warehouse.display_url, dataclasses.replace(section(fake), start=yesterday))
        (report,) = [r for r in run_sources(sqlite_warehouse, cfg) if r.source == "claude_code"]
    assert report.status == "success" and report.tables["ai_usage_people"].inserted == 1
