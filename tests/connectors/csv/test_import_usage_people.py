"""Per-person usage of a tool without a connector, imported from CSV (issue 18)."""
import pytest

from config import Config
from connectors.csv import CsvImportError, read_csv
from pipeline import ingest
from warehouse import read_table

USAGE = """date,tool,vendor_user,email,active,suggestions,acceptances,lines_added,cost_usd
2026-03-02,windsurf,ana@acme.dev,ana@acme.dev,true,40,22,310,1.25
2026-03-02,windsurf,bo@acme.dev,bo@acme.dev,false,0,0,0,
"""


def test_usage_people_import_is_idempotent(tmp_path, sqlite_warehouse):
    path = tmp_path / "usage.csv"
    path.write_text(USAGE, encoding="utf-8")
    frames = read_csv(path, "ai_usage_people", Config()).frames
    first = ingest(sqlite_warehouse, "csv:ai_usage_people", frames)["ai_usage_people"]
    again = ingest(sqlite_warehouse, "csv:ai_usage_people", read_csv(path, "ai_usage_people", Config()).frames)
    assert (first.inserted, again["ai_usage_people"].inserted, again["ai_usage_people"].unchanged) == (2, 0, 2)
    rows = read_table(sqlite_warehouse, "ai_usage_people").sort("vendor_user")
    assert rows.select("vendor_user", "active", "acceptances", "cost_usd").rows() == [
        ("ana@acme.dev", True, 22, 1.25), ("bo@acme.dev", False, 0, None)]


def test_a_row_without_vendor_user_is_named(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text("date,tool,vendor_user\n2026-03-02,windsurf,\n", encoding="utf-8")
    with pytest.raises(CsvImportError, match="line 2.*vendor_user"):
        read_csv(path, "ai_usage_people", Config())


def test_the_chat_agent_and_cli_flags_and_the_project_import_too(tmp_path, sqlite_warehouse):
    path = tmp_path / "usage.csv"
    path.write_text("date,tool,vendor_user,project,used_chat,used_agent,used_cli\n"
                    "2026-03-02,windsurf,ana@acme.dev,web,true,false,\n", encoding="utf-8")
    ingest(sqlite_warehouse, "csv:ai_usage_people", read_csv(path, "ai_usage_people", Config()).frames)
    rows = read_table(sqlite_warehouse, "ai_usage_people")
    assert rows.select("project", "used_chat", "used_agent", "used_cli").rows() == [("web", True, False, None)]
