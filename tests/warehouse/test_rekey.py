"""Spend rows imported before ids came from parsed values are re-keyed by migration 0003, so that
re-importing their file after the upgrade writes nothing twice (on both warehouses)."""
from __future__ import annotations

import datetime as dt

import polars as pl

from config import Config
from connectors.csv import read_csv
from pipeline import ingest
from warehouse.rekey import rekey_stored_rows
from warehouse import read_table


def test_rows_keyed_by_their_text_are_rekeyed_and_a_reimport_adds_nothing(warehouse, tmp_path):
    # As the old importer stored them: ids from a hash of the text, two identical rows, one other.
    old = pl.DataFrame({
        "id": ["csv:ai_spend:aaaa:1", "csv:ai_spend:aaaa:2", "csv:ai_spend:bbbb:1", "openai:2026-03-01:x"],
        "source": ["csv", "csv", "csv", "openai"],
        "date": [dt.date(2026, 3, 1)] * 3 + [dt.date(2026, 3, 1)],
        "team": ["web", "web", "core", "web"], "tool": ["claude"] * 3 + ["openai"],
        "cost_usd": [12.5, 12.5, 7.0, 3.0],
    })
    ingest(warehouse, "csv:ai_spend", {"ai_spend": old})
    with warehouse.engine.begin() as conn:
        assert rekey_stored_rows(conn, ("ai_spend", "ai_usage")) == {"ai_spend": 3}
    path = tmp_path / "spend.csv"
    path.write_text("date,team,tool,cost_usd,tokens\n2026-03-01,web,claude,12.50,10\n2026-03-01,web,claude,12.5,\n"
                    "2026-03-01,core,claude,7,\n")
    counts = ingest(warehouse, "csv:ai_spend", read_csv(path, "ai_spend", Config()).frames)["ai_spend"]
    assert (counts.inserted, counts.updated + counts.unchanged) == (0, 3)
    stored = read_table(warehouse, "ai_spend")
    # 12.5 + 12.5 + 7 + the OpenAI row's 3 (not a CSV row: untouched) = 35.
    assert stored.height == 4 and stored["cost_usd"].sum() == 35.0
    assert "openai:2026-03-01:x" in stored["id"].to_list()
