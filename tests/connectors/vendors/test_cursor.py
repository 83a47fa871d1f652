"""Cursor Admin API through `requests` against a fake on loopback: daily usage per person, cost per user
and model from the usage events (every page), Retry-After, a malformed record named, idempotent reruns."""
import datetime as dt
import json
from functools import partial
import logging

import polars as pl

from config import Config, WarehouseConfig
from config.spend import RetryConfig
from config.vendors import CursorConfig, VendorsConfig
from pipeline import run_source
from reports.export import ExportFilters, encode, export_frame
from tests.connectors.hygiene import everything_written
from tests.connectors.loopback import Fault, Reply
from tests.connectors.vendors.fakes import FakeCursor, cursor_event, cursor_usage
from warehouse import read_table
from warehouse.runs import get_cursor

run_cursor = partial(run_source, source="cursor")  # run_cursor(warehouse, config, **test hooks)

KEY = "key_SCORECARDtestCURSORadminKEY0123456789abcdef"
D = dt.date
TODAY = D(2026, 11, 6)  # complete days: Nov 1 .. Nov 5


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.timezone.utc)


USAGE = [
    cursor_usage("ana@acme.dev", D(2026, 11, 1)),
    cursor_usage("bo@acme.dev", D(2026, 11, 1), isActive=False, totalTabsShown=0, totalTabsAccepted=0, totalAccepts=0,
                 totalRejects=0, acceptedLinesAdded=0, acceptedLinesDeleted=0, composerRequests=0, chatRequests=0,
                 agentRequests=0, cmdkUsages=0),
    cursor_usage("ana@acme.dev", D(2026, 11, 4), totalTabsShown=10, totalTabsAccepted=4, totalAccepts=1, totalRejects=1,
                 acceptedLinesAdded=40, composerRequests=0, chatRequests=2, agentRequests=3, cmdkUsages=0),
    cursor_usage(None, D(2026, 11, 4)),  # no e-mail
    cursor_usage("cy@acme.dev", D(2026, 11, 5), totalTabsShown="many"),  # not a number
]
EVENTS = [
    cursor_event("ana@acme.dev", at(1, 9), "claude-4-sonnet", 20.18232, tokens=(126, 450, 6112, 11964)),
    cursor_event("ana@acme.dev", at(1, 10), "claude-4-sonnet", 40.167, tokens=(5805, 311, 11964, 0)),
    cursor_event("ana@acme.dev", at(1, 11), "gpt-5", None),  # included in the plan: no extra cost
    cursor_event("ana@acme.dev", at(4, 15), "gpt-5", 3.5, tokens=(1000, 200, 0, 0)),
    cursor_event("dee@acme.dev", at(5, 8), "gpt-5", 12.0, tokens=(10, 10, 0, 0)),  # cost, no usage record
]


def section(fake, **kw) -> CursorConfig:
    kw.setdefault("retry", RetryConfig(max_retries=3, backoff_seconds=1.0))
    return CursorConfig(api_key_env="TEST_CURSOR_KEY", base_url=fake.url, start=D(2026, 11, 1), page_size=2, **kw)


def config(url: str, cursor: CursorConfig) -> Config:
    return Config(warehouse=WarehouseConfig(url=url), vendors=VendorsConfig(cursor=cursor))


def test_cursor_usage_and_cost_per_person(warehouse, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TEST_CURSOR_KEY", KEY)
    waits = []
    with FakeCursor(KEY, USAGE, EVENTS) as fake:
        fake.faults.append(Fault("/teams/daily-usage-data", 503, headers={"Retry-After": "2"},
                                 body={"error": "Service unavailable"}))
        fake.faults.append(Fault("/teams/filtered-usage-events", 429, headers={"Retry-After": "12"},
                                 body={"error": "Too many requests"}))
        cfg = config(warehouse.display_url, section(fake))
        report = run_cursor(warehouse, cfg, today=TODAY, sleep=waits.append)
        # One window of 5 days: 1 usage call; 5 events in pages of 2 = 3 calls; plus the 503 and the 429.
        assert waits == [2.0, 12.0] and report.stats["calls"] == 6
        assert report.status == "partial"
        assert sorted((r.stream, r.reason[:30]) for r in report.rejected) == [
            ("daily_usage", "no email: the record cannot be"), ("daily_usage", "totalTabsShown is not a number")]
        assert all("record" in r.record_id for r in report.rejected)
        people = read_table(warehouse, "ai_usage_people")
        ana = people.filter(pl.col("id") == "cursor:2026-11-01:ana@acme.dev").row(0, named=True)
        # suggestions = 342 tabs shown + 73 accepted + 14 rejected = 429; acceptances = 289 + 73 = 362;
        # requests = 45 + 128 + 12 + 67 = 252; cost = (20.18232 + 40.167) cents = $0.6034932;
        # tokens = 126+450+6112+11964 + 5805+311+11964 = 36732.
        assert {k: ana[k] for k in ("active", "engaged", "suggestions", "acceptances", "lines_added", "lines_removed",
                                    "requests", "cost_usd", "tokens", "email")} == {
            "active": True, "engaged": True, "suggestions": 429, "acceptances": 362, "lines_added": 1102,
            "lines_removed": 645, "requests": 252, "cost_usd": 0.603493, "tokens": 36732, "email": "ana@acme.dev"}
        # chat 128 > 0; agent 12 + composer 45 > 0; the most used model; every other documented field in detail,
        # the day's three events summed (two token-based "Usage-based", one included in the plan).
        assert (ana["used_chat"], ana["used_agent"], ana["used_cli"], ana["model"]) == (True, True, None, "gpt-5")
        assert json.loads(ana["detail"]) == {
            "totalLinesAdded": 1543, "totalLinesDeleted": 892, "totalApplies": 87, "totalAccepts": 73,
            "totalRejects": 14, "totalTabsShown": 342, "totalTabsAccepted": 289, "composerRequests": 45,
            "chatRequests": 128, "agentRequests": 12, "cmdkUsages": 67, "subscriptionIncludedReqs": 180,
            "apiKeyReqs": 0, "usageBasedReqs": 5, "bugbotUsages": 3, "applyMostUsedExtension": ".tsx",
            "tabMostUsedExtension": ".ts", "clientVersion": "1.7.2",
            "usageEvents": {"count": 3, "requestsCosts": 3.0, "maxMode": 0, "tokenBased": 2, "freeBugbot": 0,
                            "kinds": {"Usage-based": 2, "Included in Business": 1}}}
        bo = people.filter(pl.col("vendor_user") == "bo@acme.dev").row(0, named=True)
        assert (bo["active"], bo["engaged"], bo["cost_usd"]) == (False, False, None)
        assert (bo["used_chat"], bo["used_agent"]) == (False, False)
        # Dee spent on Nov 5 without a usage record: the cost still belongs to her, counted as not active.
        dee = people.filter(pl.col("vendor_user") == "dee@acme.dev").row(0, named=True)
        assert (dee["date"], dee["active"], dee["cost_usd"], dee["tokens"]) == (D(2026, 11, 5), False, 0.12, 20)
        spend = read_table(warehouse, "ai_spend").sort("id")
        assert spend.select("id", "model", "cost_usd", "requests", "vendor_user").rows() == [
            ("cursor:2026-11-01:ana@acme.dev:claude-4-sonnet", "claude-4-sonnet", 0.603493, 2, "ana@acme.dev"),
            ("cursor:2026-11-01:ana@acme.dev:gpt-5", "gpt-5", 0.0, 1, "ana@acme.dev"),
            ("cursor:2026-11-04:ana@acme.dev:gpt-5", "gpt-5", 0.035, 1, "ana@acme.dev"),
            ("cursor:2026-11-05:dee@acme.dev:gpt-5", "gpt-5", 0.12, 1, "dee@acme.dev"),
        ]
        assert set(spend["tool"]) == {"cursor"} and get_cursor(warehouse, "cursor", "daily_usage") == "2026-11-05"

        before = fake.calls()
        again = run_cursor(warehouse, cfg, today=TODAY, sleep=waits.append)
        # The look-back day (Nov 5) only: one usage call and one events page; nothing changes.
        assert fake.calls() - before == 2
        for table in ("ai_usage_people", "ai_spend"):
            assert again.tables[table].inserted == again.tables[table].updated == 0
        window = fake.requests[-1][1]
        assert window["startDate"] == 1_793_836_800_000  # 2026-11-05T00:00Z in epoch ms
    written = everything_written(warehouse)
    assert KEY not in written and KEY not in caplog.text
    # Exports of what the sync wrote (the dashboard's Export page and `scorecard export` use this).
    for table in ("ai_usage_people", "ai_spend"):
        frame = export_frame(warehouse, cfg, table, ExportFilters(start=D(2026, 11, 1), end=D(2026, 11, 5)))
        assert frame.height > 0 and KEY.encode() not in encode(frame, "csv")
    assert export_frame(warehouse, cfg, "ai_usage_people", ExportFilters(start=D(2026, 11, 5))).height == 1  # Dee


def test_a_key_without_admin_rights_is_a_warning(sqlite_warehouse, monkeypatch):
    monkeypatch.setenv("TEST_CURSOR_KEY", KEY)
    with FakeCursor(KEY, USAGE, EVENTS) as fake:
        fake.faults.append(Fault("/teams/", 403, body={"error": "Forbidden: admin API key required"}))
        report = run_cursor(sqlite_warehouse, config(sqlite_warehouse.display_url, section(fake)), today=TODAY)
    assert report.status == "partial" and "HTTP 403" in report.warnings[0] and "Admin API key" in report.warnings[0]
    assert read_table(sqlite_warehouse, "ai_usage_people").height == 0


def test_windows_are_split_and_the_cursor_moves_per_window(sqlite_warehouse, monkeypatch):
    monkeypatch.setenv("TEST_CURSOR_KEY", KEY)
    with FakeCursor(KEY, USAGE, EVENTS) as fake:
        # The second window's usage call keeps failing (the first call of that path passes).
        cfg = config(sqlite_warehouse.display_url, section(fake, window_days=3,
                                                           retry=RetryConfig(max_retries=1, backoff_seconds=0)))
        calls = []
        original = fake.answer

        def second_window_fails(request, body):
            calls.append(request.path)
            if request.path == "/teams/daily-usage-data" and calls.count(request.path) > 1:
                return Reply(502, {"error": "Bad gateway"})
            return original(request, body)

        fake.answer = second_window_fails
        report = run_cursor(sqlite_warehouse, cfg, today=TODAY, sleep=lambda s: None)
    windows = [(body["startDate"], body["endDate"]) for r, body in fake.requests if r.path == "/teams/daily-usage-data"]
    # Nov 1-3, then Nov 4-5 (tried twice: max_retries 1); each ends the millisecond before the next starts.
    assert windows == [(1_793_491_200_000, 1_793_750_399_999)] + [(1_793_750_400_000, 1_793_923_199_999)] * 2
    # The first window is kept and its cursor moved; the failed one is read again next time.
    assert report.status == "failed" and "HTTP 502" in report.error
    assert get_cursor(sqlite_warehouse, "cursor", "daily_usage") == "2026-11-03"
    assert read_table(sqlite_warehouse, "ai_usage_people")["date"].max() == D(2026, 11, 1)
