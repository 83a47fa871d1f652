"""Every metric gives the same records from SQLite, from PostgreSQL and from the frames themselves."""
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from config import Config
from connectors.demo.generator import generate
from metrics.evidence import Evidence
from metrics.registry import METRICS
from metrics.scorecard import compute
from pipeline import ingest
from reports.data import load_evidence
from warehouse import open_warehouse

END = dt.date(2026, 11, 22)


def records(evidence, grain):
    start = dt.date(2026, 5, 1) if grain == "month" else dt.date(2026, 8, 3)
    return compute(evidence, Config(), grain=grain, start=start, end=END)


def test_sqlite_postgres_and_in_memory_agree_on_every_record(sqlite_warehouse, postgres_schema_url):
    frames = generate("small", seed=11, end=END)
    postgres = open_warehouse(postgres_schema_url)
    for wh in (sqlite_warehouse, postgres):
        ingest(wh, "demo", frames, action="demo")
    in_memory = Evidence.of(**{k: v for k, v in frames.items() if k not in ("ai_usage", "ai_usage_people")})
    from_sqlite, from_postgres = load_evidence(sqlite_warehouse), load_evidence(postgres)
    for grain in ("week", "month"):
        expected = records(in_memory, grain)
        assert expected.height > 500 and set(expected["metric"]) == set(METRICS)
        assert {"ai_change", "non_ai_change"} <= set(expected.filter(pl.col("metric") == "mttr_hours")["segment"])
        assert_frame_equal(records(from_sqlite, grain), expected)
        assert_frame_equal(records(from_postgres, grain), expected)
    postgres.engine.dispose()
