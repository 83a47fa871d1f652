"""CSV import: one clear error naming line and column, all-or-nothing, idempotent re-import."""
import json

import polars as pl
import pytest

from config import Config
from connectors.csv import CsvImportError, read_csv
from pipeline import ingest
from warehouse import read_table


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


PRS = '''
id,repo,team,number,title,author,created_at,merged_at,merge_commit_sha,labels,body,ai_assisted
p1,acme/api,,1,Add cache,alice,2026-03-01T08:00:00Z,2026-03-01T10:00:00Z,abc1234,copilot;bug,,
p2,acme/api,core,2,"Revert ""Add cache""",bob,2026-03-02,2026-03-03 10:00:00+01:00,def5678,,"This reverts commit abc1234.",false
p3,acme/api,,3,Open PR,carol,2026-03-02,,,,,
'''


def test_pull_requests_are_normalised(tmp_path):
    parsed = read_csv(write(tmp_path, "prs.csv", PRS), "pull_requests", Config())
    rows = {r["id"]: r for r in parsed.frames["pull_requests"].iter_rows(named=True)}
    assert rows["p1"]["labels"] == '["copilot","bug"]'
    assert (rows["p1"]["ai_assisted"], json.loads(rows["p1"]["ai_signals"])) == (True, ["label:copilot"])
    assert rows["p2"]["merged_at"].isoformat() == "2026-03-03T09:00:00+00:00"  # offset converted to UTC
    assert (rows["p2"]["ai_assisted"], rows["p2"]["is_revert"]) == (False, True)
    assert json.loads(rows["p2"]["revert_ref"])["sha"] == "abc1234"
    assert rows["p3"]["merged_at"] is None and rows["p3"]["team"] is None
    assert {r["source"] for r in rows.values()} == {"csv"}


@pytest.mark.parametrize(
    ("entity", "text", "expected"),
    [
        ("pull_requests", "id,repo\np1,acme/api\n", "line 1: missing required column 'merged_at'"),
        ("pull_requests", "id,repo,merged_at\np1,acme/api,2026-03-01\np2,acme/api,yesterday\n",
         "line 3, column 'merged_at': not an ISO 8601 timestamp: 'yesterday'"),
        ("pull_requests", "id,repo,merged_at\np1,acme/api,2026-02-30T10:00:00\n", "line 2, column 'merged_at'"),
        ("pull_requests", "id,repo,merged_at\np1,acme/api,2026-03-01\np1,acme/api,2026-03-02\n",
         "line 3, column 'id': duplicate id"),
        ("pull_requests", "id,repo,merged_at,ai_assisted\np1,acme/api,2026-03-01,maybe\n",
         "line 2, column 'ai_assisted': not true or false: 'maybe'"),
        ("pull_requests", "id,repo,merged_at\n,acme/api,2026-03-01\n", "line 2, column 'id': empty, but a value is required"),
        ("ai_spend", "date,team,tool,model,cost_usd,tokens\n2026-03-01,web,copilot,x,-1.5,10\n",
         "line 2, column 'cost_usd': a cost cannot be negative: '-1.5'"),
        ("ai_spend", "date,cost_usd\n2026-13-01,1\n", "line 2, column 'date': not a date"),
        ("tickets", "id,team,created_at,resolved_at,channel,csat\nt1,web,,2026-03-01,human,6\n",
         "line 2, column 'csat': CSAT must be between 1 and 5: '6'"),
        ("tickets", "id,resolved_at,channel\nt1,2026-03-01,chatbot\n", "line 2, column 'channel': unknown channel"),
        ("incidents", "id,started_at,resolved_at\ni1,,2026-03-01\n", "line 2, column 'started_at': empty, but a value is required"),
        ("incidents", "id,started_at,resolved_at\ni1,2026-03-02,2026-03-01\n", "line 2, column 'resolved_at': resolved before it started"),
        ("pull_requests", "id,repo,merged_at\np1,acme/api,2026-03-01,extra\n", "line 2, column 4 (after the last header column): the row has 4 fields where the header has 3"),
        ("pull_requests", "id,id,merged_at\n", "column 'id' appears twice"),
        ("pull_requests", "", "the file is empty"),
    ],
)
def test_a_bad_file_gets_one_error_naming_line_and_column(tmp_path, entity, text, expected):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(CsvImportError) as info:
        read_csv(path, entity, Config())
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_the_first_problem_in_file_order_is_named_with_a_count_of_the_rest(tmp_path):
    text = "id,resolved_at,channel,csat\nt1,2026-03-01,human,9\nt2,bad,robot,3\nt3,2026-03-01,human,0\n"
    with pytest.raises(CsvImportError) as info:
        read_csv(write(tmp_path, "t.csv", text), "tickets", Config())
    assert "line 2, column 'csat'" in str(info.value) and "(3 more problems in this file)" in str(info.value)


def test_line_numbers_count_quoted_multi_line_cells(tmp_path):
    text = 'id,repo,merged_at,body\np1,acme/api,2026-03-01,"two\nlines"\np2,acme/api,nope,x\n'
    with pytest.raises(CsvImportError, match="line 4, column 'merged_at'"):
        read_csv(write(tmp_path, "m.csv", text), "pull_requests", Config())


def test_unknown_entity_and_missing_file(tmp_path):
    with pytest.raises(CsvImportError, match="unknown entity 'widgets'"):
        read_csv(write(tmp_path, "w.csv", "id\n1\n"), "widgets", Config())
    with pytest.raises(CsvImportError, match="file not found"):
        read_csv(tmp_path / "none.csv", "tickets", Config())


def test_unknown_columns_are_ignored_with_a_warning(tmp_path):
    parsed = read_csv(write(tmp_path, "t.csv", "id,resolved_at,channel,Priority\nt1,2026-03-01,AI_Bot,high\n"), "tickets", Config())
    assert parsed.warnings and "priority" in parsed.warnings[0]
    assert parsed.frames["tickets"]["channel"].to_list() == ["ai_bot"]  # channels compare case-insensitively


SPEND = "date,team,tool,model,cost_usd,tokens\n2026-03-01,web,copilot,gpt,1.50,10\n2026-03-01,web,copilot,gpt,1.50,10\n2026-03-02,web,claude,sonnet,2.25,\n"


def test_spend_rows_without_id_get_stable_content_ids(tmp_path, sqlite_warehouse):
    path = write(tmp_path, "spend.csv", SPEND)
    first = read_csv(path, "ai_spend", Config()).frames["ai_spend"]
    ids = first["id"].to_list()
    # Two identical rows stay two rows (occurrence 1 and 2); the ids do not depend on column order.
    assert len(set(ids)) == 3 and ids[0].endswith(":1") and ids[1].endswith(":2")
    reordered = write(tmp_path, "spend2.csv", "tool,date,team,model,tokens,cost_usd\ncopilot,2026-03-01,web,gpt,10,1.50\n")
    assert read_csv(reordered, "ai_spend", Config()).frames["ai_spend"]["id"].to_list() == [ids[0]]
    counts = ingest(sqlite_warehouse, "csv:ai_spend", {"ai_spend": first})["ai_spend"]
    again = ingest(sqlite_warehouse, "csv:ai_spend", read_csv(path, "ai_spend", Config()).frames)["ai_spend"]
    assert (counts.inserted, again.inserted, again.unchanged) == (3, 0, 3)
    assert read_table(sqlite_warehouse, "ai_spend")["cost_usd"].sum() == pytest.approx(5.25)


def test_incident_ai_flag_from_explicit_value_or_ai_label(tmp_path):
    text = "id,started_at,resolved_at,ai_assisted,labels\ni1,2026-03-01,2026-03-01T05:00,,ai-assisted\ni2,2026-03-01,,true,\ni3,2026-03-01,,,sev2\ni4,2026-03-01,,false,copilot\n"
    frame = read_csv(write(tmp_path, "i.csv", text), "incidents", Config()).frames["incidents"]
    assert frame["ai_assisted"].to_list() == [True, True, False, False]
    assert "labels" not in frame.columns
