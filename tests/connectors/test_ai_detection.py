"""AI attribution: explicit value wins, every rule that fired is kept as a signal."""
import json

import polars as pl

from config import AiDetectionConfig
from connectors.common.ai_detection import classify_prs
from connectors.common.reverts import revert_columns


def classify(**columns) -> list[tuple[bool, list[str]]]:
    frame = pl.DataFrame(columns)
    out = classify_prs(frame, AiDetectionConfig(), source="csv")
    return [(a, json.loads(s)) for a, s in zip(out["ai_assisted"], out["ai_signals"])]


def test_each_rule_and_the_signals_it_leaves():
    results = classify(
        labels=[["AI-Assisted"], ["copilot-ish"], [], [], [], [], []],
        author=["dev", "dev", "copilot-swe-agent", "devin-ai-integration[bot]", "dev", "dev", "dev"],
        body=[None, None, None, None, "🤖 Generated with [Claude Code](https://claude.com/claude-code)", "Generated with care", None],
        commit_messages=[[], [], [], [], [], [], ["Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>", "Made-with: Cursor"]],
    )
    assert results == [
        (True, ["label:AI-Assisted"]),  # whole label, case-insensitive
        (False, []),  # "copilot-ish" is not the label "copilot"
        (True, ["bot_author:copilot-swe-agent"]),  # GraphQL form without [bot]
        (True, ["bot_author:devin-ai-integration[bot]"]),
        (True, ["body:Generated with Claude Code"]),
        (False, []),  # "Generated with" must be followed by an AI tool's name
        (True, ["trailer:Co-Authored-By: Claude <noreply@anthropic.com>", "trailer:Made-with: Cursor"]),
    ]


def test_co_authored_by_a_human_is_not_ai_but_other_trailers_count_whatever_they_name():
    results = classify(commit_messages=[["x\n\nCo-authored-by: Bob <bob@example.com>"], ["x\n\nAssisted-by: an intern"]])
    assert results == [(False, []), (True, ["trailer:Assisted-by: an intern"])]


def test_explicit_value_wins_and_is_recorded_first():
    results = classify(labels=[["ai-assisted"], []], ai_explicit=[False, True])
    assert results == [(False, ["explicit:csv=false", "label:ai-assisted"]), (True, ["explicit:csv=true"])]


def test_custom_rules_replace_the_defaults():
    frame = pl.DataFrame({"labels": [["llm"], ["copilot"]], "author": ["helper-bot[bot]", "x"]})
    out = classify_prs(frame, AiDetectionConfig(labels=("llm",), bot_authors=("helper-bot",)), source="csv")
    assert out["ai_signals"].to_list() == ['["label:llm","bot_author:helper-bot[bot]"]', "[]"]


def test_revert_references_from_title_and_body():
    frame = pl.DataFrame({
        "title": ['Revert "Add cache"', "Undo", "Revert cache", 'Revert "Revert "X""', "Fix"],
        "body": [None, "This reverts commit ABCDEF1.\n", "Reverts acme/api#12", None, "reverts #3 and this reverts commit abc"],
        "merged_at": [1, 1, None, 1, 1],
    })
    out = revert_columns(frame)
    refs = [json.loads(r) if r else None for r in out["revert_ref"]]
    assert refs == [
        {"repo": None, "number": None, "sha": None, "title": "Add cache"},
        {"repo": None, "number": None, "sha": "abcdef1", "title": None},
        {"repo": "acme/api", "number": 12, "sha": None, "title": None},
        {"repo": None, "number": None, "sha": None, "title": 'Revert "X"'},
        None,  # keywords are case-sensitive and a sha needs 7+ hex characters
    ]
    assert out["is_revert"].to_list() == [True, True, False, True, False]  # only merged PRs are reverts
