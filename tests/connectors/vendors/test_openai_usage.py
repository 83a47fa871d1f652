"""OpenAI completions usage by project, user, API key and model against a fake on loopback."""
import datetime as dt
import json
from functools import partial
import logging

import polars as pl

from config import Config, WarehouseConfig
from config.spend import RetryConfig
from config.vendors import OpenAiUsageConfig, VendorsConfig
from pipeline import run_source
from tests.connectors.hygiene import everything_written
from tests.connectors.loopback import Fault
from tests.connectors.vendors.fakes import FakeOpenAIUsage
from warehouse import read_table
from warehouse.runs import get_cursor

run_openai_usage = partial(run_source, source="openai_usage")  # run_openai_usage(warehouse, config, **test hooks)

KEY = "sk-admin-SCORECARDtestOPENAIusageKEY012345"
D = dt.date
TODAY = D(2026, 11, 8)  # complete days: Nov 1 .. 7
USAGE = {
    D(2026, 11, 1): [("proj_pay", "user-ana", "key_ana", "gpt-5", 1200, 300, 12),
                     ("proj_pay", "user-ana", "key_ana", "gpt-5-mini", 100, 20, 3),
                     ("proj_pay", None, "key_svc", "gpt-5", 5000, 900, 40)],  # a service key: no user
    D(2026, 11, 6): [("proj_web", "user-bo", "key_bo", "o3", 800, 800, 2),
                     ("proj_web", "user-bo", "key_bo", "o3", "lots", 1, 1)],  # not a number
}


def section(fake) -> OpenAiUsageConfig:
    return OpenAiUsageConfig(admin_key_env="TEST_OPENAI_USAGE_KEY", base_url=fake.url, start=D(2026, 11, 1),
                             page_days=3, retry=RetryConfig(max_retries=3, backoff_seconds=1.0))


def test_usage_by_user_key_and_model(warehouse, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TEST_OPENAI_USAGE_KEY", KEY)
    waits = []
    with FakeOpenAIUsage(KEY, USAGE) as fake:
        fake.faults.append(Fault("/v1/", 429, headers={"Retry-After": "7"},
                                 body={"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
        fake.faults.append(Fault("/v1/", 503, headers={"Retry-After": "3"}, body={"error": {"message": "overloaded"}}))
        cfg = Config(warehouse=WarehouseConfig(url=warehouse.display_url), vendors=VendorsConfig(openai_usage=section(fake)))
        report = run_openai_usage(warehouse, cfg, today=TODAY, sleep=waits.append)
        # 7 days in pages of 3 buckets: 3 pages, plus the 429 and the 503.
        assert waits == [7.0, 3.0] and report.stats["calls"] == 5
        assert [(r.record_id, r.reason) for r in report.rejected] == [
            ("openai_usage:2026-11-06 result 2", "input_tokens is not a number: 'lots'")]
        people = read_table(warehouse, "ai_usage_people").sort("id")
        assert people.select("id", "vendor_user", "api_key", "model", "requests", "tokens").rows() == [
            # tokens = input + output: 1200 + 300 = 1500, 100 + 20 = 120, 5000 + 900 = 5900, 800 + 800 = 1600.
            ("openai_usage:2026-11-01:proj_pay:-:key_svc:gpt-5", "api_key:key_svc", "key_svc", "gpt-5", 40, 5900),
            ("openai_usage:2026-11-01:proj_pay:user-ana:key_ana:gpt-5", "user-ana", "key_ana", "gpt-5", 12, 1500),
            ("openai_usage:2026-11-01:proj_pay:user-ana:key_ana:gpt-5-mini", "user-ana", "key_ana", "gpt-5-mini", 3, 120),
            ("openai_usage:2026-11-06:proj_web:user-bo:key_bo:o3", "user-bo", "key_bo", "o3", 2, 1600),
        ]
        assert set(people["tool"]) == {"openai"} and people["cost_usd"].null_count() == 4  # cost stays with the costs API
        assert people["project"].to_list() == ["proj_pay", "proj_pay", "proj_pay", "proj_web"]
        # The token kinds and the batch flag as sent (the fake caches half of each input).
        assert json.loads(people["detail"][1]) == {"input_tokens": 1200, "output_tokens": 300, "input_cached_tokens": 600,
                                                   "input_audio_tokens": 0, "output_audio_tokens": 0, "batch": False}
        assert get_cursor(warehouse, "openai_usage", "completions") == "2026-11-07"
        again = run_openai_usage(warehouse, cfg, today=TODAY, sleep=waits.append)
        assert again.stats["calls"] == 1 and again.tables["ai_usage_people"].inserted == 0
        assert again.tables["ai_usage_people"].updated == 0
    assert KEY not in everything_written(warehouse) and KEY not in caplog.text
