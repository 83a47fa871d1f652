"""AI attribution (DESIGN.md "AI-assisted PR", revision 2): identities matched whole, markers, labels and
branches from the registry; every signal kept; tools, mode and confidence decided; revert references."""
import json

import polars as pl
import pytest

from config import AiDetectionConfig
from config.model import AiAgentConfig
from connectors.common.ai_detection import ai_labels, classify_prs
from connectors.common.ai_tools import TOOLS
from connectors.common.reverts import revert_columns


def classify(config: AiDetectionConfig | None = None, **columns) -> list[tuple]:
    out = classify_prs(pl.DataFrame(columns), config or AiDetectionConfig(), source="csv")
    return [(a, json.loads(s), json.loads(t), m, c) for a, s, t, m, c in
            out.select("ai_assisted", "ai_signals", "ai_tools", "ai_mode", "ai_confidence").iter_rows()]


def one(text: str, **columns) -> tuple:
    """The attribution of one PR whose body is `text`."""
    return classify(body=[text], **{k: [v] for k, v in columns.items()})[0]


def test_each_family_leaves_its_signal_tool_mode_and_confidence():
    results = classify(
        labels=[["AI-Assisted"], ["copilot-ish"], [], [], [], [], [], [], ["codex"]],
        author=["dev", "dev", "copilot-swe-agent", "devin-ai-integration[bot]", "dev", "dev", "dev",
                "198982749+Copilot@users.noreply.github.com", "dev"],
        head_branch=[None, "claude/fix-parser", None, None, None, None, None, None, "main"],
        body=[None, None, None, None, "🤖 Generated with [Claude Code](https://claude.com/claude-code)",
              "Generated with care", None, None, None],
        commit_messages=[[], [], [], [], [], [], ["Fix\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>",
                                                  "Made-with: Cursor"], [], []],
    )
    assert results == [
        (True, ["label:AI-Assisted"], [], "labelled", "medium"),  # whole label, case-insensitive, names no tool
        (True, ["branch:claude/fix-parser"], ["Claude Code"], "labelled", "medium"),  # "copilot-ish" is no label
        (True, ["author:copilot-swe-agent"], ["GitHub Copilot"], "agent", "high"),  # GraphQL form without [bot]
        (True, ["author:devin-ai-integration[bot]"], ["Devin"], "agent", "high"),
        (True, ["marker:Generated with Claude Code"], ["Claude Code"], "co_authored", "high"),
        (False, [], [], None, None),  # "Generated with" must be followed by a tool's name
        (True, ["trailer:Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>", "marker:Made-with: Cursor"],
         ["Claude Code", "Cursor"], "co_authored", "high"),  # a model-named co-author; two tools, registry order
        (True, ["author:198982749+Copilot@users.noreply.github.com"], ["GitHub Copilot"], "agent", "high"),
        (True, ["label:codex"], ["OpenAI Codex"], "labelled", "medium"),
    ]


@pytest.mark.parametrize(("line", "tool"), [
    # Identities, matched whole, in the forms seen in public history.
    ("Co-authored-by: Claude <noreply@anthropic.com>", "Claude Code"),
    ("Co-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>", "Claude Code"),
    ("Co-authored-by: claude[bot] <209825114+claude[bot]@users.noreply.github.com>", "Claude Code"),
    ("Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>", "GitHub Copilot"),  # Autofix / review
    ("Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>", "GitHub Copilot"),  # CLI, editors
    ("Co-authored-by: copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>", "GitHub Copilot"),
    ("Co-authored-by: Copilot <Copilot@users.noreply.github.com>", "GitHub Copilot"),  # the noreply form without id
    ("Co-authored-by: Cursor Agent <cursoragent@cursor.com>", "Cursor"),
    ("Co-authored-by: Codex <noreply@openai.com>", "OpenAI Codex"),
    ("Co-authored-by: chatgpt-codex-connector[bot] <199175422+chatgpt-codex-connector[bot]@users.noreply.github.com>",
     "OpenAI Codex"),
    ("Co-authored-by: devin-ai-integration[bot] <158243242+devin-ai-integration[bot]@users.noreply.github.com>", "Devin"),
    ("Co-authored-by: google-labs-jules[bot] <161369871+google-labs-jules[bot]@users.noreply.github.com>", "Jules"),
    ("Co-authored-by: gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>", "Gemini"),
    ("Co-authored-by: factory-droid[bot] <138933559+factory-droid[bot]@users.noreply.github.com>", "Factory"),
    ("Co-authored-by: aider (anthropic/claude-sonnet-4) <noreply@aider.chat>", "Aider"),
    ("Co-authored-by: Amp <amp@ampcode.com>", "Amp"),
    ("Co-authored-by: opencode <noreply@opencode.ai>", "OpenCode"),
    ("Co-authored-by: openhands <openhands@all-hands.dev>", "OpenHands"),
    # Markers: a tool's own trailers and footers, wherever they stand.
    ("Claude-Session: https://claude.ai/code/session_01ABC", "Claude Code"),
    ("Agent-Logs-Url: https://github.com/acme/api/sessions/0b9d-11", "GitHub Copilot"),
    ("Amp-Thread-ID: https://ampcode.com/threads/T-5e2f", "Amp"),
    ("Made with [Cursor](https://cursor.com)", "Cursor"),
    ("_Generated with Cursor_", "Cursor"),  # markdown around the name does not hide it
    ("Generated with GitHub Copilot", "GitHub Copilot"),  # a vendor prefix
    ("generated WITH [claude code](https://claude.ai/code)", "Claude Code"),  # any case
    ("Codex Task: https://chatgpt.com/codex/tasks/task_e_68a1", "OpenAI Codex"),
    ("Link to Devin run: https://app.devin.ai/sessions/4f2e", "Devin"),
    ("PR created automatically by Jules for task [123](https://jules.google.com/task/123)", "Jules"),
    ("See https://cursor.com/agents/bc-5f1d", "Cursor"),
])
def test_each_tool_is_found_by_its_own_strings(line, tool):
    ai, signals, tools, mode, confidence = one(f"Fix the parser\n\n{line}\n")
    assert (ai, tools, mode, confidence) == (True, [tool], "co_authored", "high"), signals


@pytest.mark.parametrize("line", [
    "Co-authored-by: Charlie Marsh <charliemarsh@openai.com>",  # a person at OpenAI
    "Co-authored-by: Jane Roe <jane@anthropic.com>",  # a person at Anthropic
    "Co-authored-by: Devin Smith <devin.smith@example.com>",  # a person called Devin
    "Co-authored-by: Claude Monet <claude@example.org>",  # a person called Claude
    "Co-authored-by: copilot-fan <12345+copilot-fan@users.noreply.github.com>",  # a login that merely contains a word
    "Co-authored-by: renovate[bot] <29139614+renovate[bot]@users.noreply.github.com>",  # a bot, not an AI tool
    "Generated with protoc-gen-go",  # names no tool
    "Made with cursors and love",  # not the tool's whole name
    "This function was generated with a macro; see the cursor module.",
    "We use Copilot sometimes.",  # a mention is no marker
])
def test_people_other_bots_and_mentions_are_not_ai(line):
    assert one(f"Change\n\n{line}\n") == (False, [], [], None, None)


def test_policy_trailers_count_whatever_they_name_and_name_a_tool_when_they_can():
    assert one("x\n\nAssisted-by: an intern's script") == (
        True, ["trailer:Assisted-by: an intern's script"], [], "co_authored", "high")
    assert one("x\n\nAssisted-by: Claude:claude-3-opus")[2] == ["Claude Code"]
    assert one("x\n\nGenerated-by: GitHub Copilot")[2] == ["GitHub Copilot"]


def test_explicit_value_wins_sets_mode_explicit_and_keeps_the_signals():
    results = classify(labels=[["ai-assisted"], [], []], ai_explicit=[False, True, None])
    assert results == [
        (False, ["explicit:csv=false", "label:ai-assisted"], [], "explicit", "high"),
        (True, ["explicit:csv=true"], [], "explicit", "high"),
        (False, [], [], None, None),
    ]


def test_each_pr_of_a_mixed_frame_comes_out_as_it_would_alone():
    # Only PRs with a signal or an explicit value are worked out; the others take the defaults. Each row
    # of a frame mixing the kinds (in a scattered order) equals that row classified on its own.
    columns = dict(
        author=pl.Series(["dev", "copilot-swe-agent", "dev", "dev", "dev", "dev", "dev"]),
        labels=pl.Series([[], [], ["ai-assisted"], [], [], [], []], dtype=pl.List(pl.String)),
        body=pl.Series([None, None, None, "Generated with Cursor", None, "plain", None], dtype=pl.String),
        ai_explicit=pl.Series([None, None, None, None, False, None, True], dtype=pl.Boolean),
    )
    together = classify(**columns)
    alone = [classify(**{k: v.slice(i, 1) for k, v in columns.items()})[0] for i in range(7)]
    assert together == alone
    assert together[0] == together[5] == (False, [], [], None, None)  # neither a signal nor an explicit value
    assert together[4] == (False, ["explicit:csv=false"], [], "explicit", "high")
    assert together[6] == (True, ["explicit:csv=true"], [], "explicit", "high")


def test_author_identity_makes_an_agent_pr_even_with_trailers():
    results = classify(author=["cursor[bot]", "Jane Roe (aider)", "Devin"],
                       commit_messages=[["x\n\nCo-authored-by: Cursor Agent <cursoragent@cursor.com>"], [], []])
    assert [(a, t, m) for a, _, t, m, _ in results] == [
        (True, ["Cursor"], "agent"), (True, ["Aider"], "agent"),
        (False, [], None),  # a person named Devin: the bot is devin-ai-integration
    ]


def test_config_extends_the_registry_with_an_organisations_agents():
    config = AiDetectionConfig(
        labels=("llm",), bot_authors=("helper-bot",), trailers=("AI-Tool",),
        agents={"Acme Agent": AiAgentConfig(emails=("agent@acme.dev",), bots=("our-agent",), markers=("Acme-Run:",),
                                            branch_prefixes=("acme-agent/",), labels=("acme-ai",))},
    )
    results = classify(
        config,
        labels=[["llm"], ["copilot"], [], [], [], [], ["acme-ai"]],
        author=["x", "x", "helper-bot[bot]", "our-agent[bot]", "x", "x", "x"],
        head_branch=[None, None, None, None, "acme-agent/task-1", None, None],
        body=[None, None, None, None, None, "x\n\nCo-authored-by: Agent <agent@acme.dev>\nAcme-Run: 42", "AI-Tool: foo"],
    )
    assert [(a, t, m) for a, _, t, m, _ in results] == [
        (True, [], "labelled"), (True, ["GitHub Copilot"], "labelled"),  # defaults still apply
        (True, ["helper-bot"], "agent"), (True, ["Acme Agent"], "agent"), (True, ["Acme Agent"], "labelled"),
        (True, ["Acme Agent"], "co_authored"), (True, ["Acme Agent"], "co_authored"),
    ]
    assert "acme-ai" in ai_labels(config) and "copilot" in ai_labels(config)


def test_replace_defaults_makes_the_config_the_whole_registry():
    config = AiDetectionConfig(replace_defaults=True, labels=("llm",), bot_authors=("helper-bot",))
    results = classify(config, labels=[["llm"], ["copilot"]], author=["helper-bot[bot]", "copilot-swe-agent"],
                       body=[None, "Co-authored-by: Claude <noreply@anthropic.com>"])
    assert [(a, s) for a, s, *_ in results] == [
        (True, ["label:llm", "author:helper-bot[bot]"]), (False, []),
    ]
    assert ai_labels(config) == {"llm"}


def test_commit_messages_may_be_one_text_as_a_csv_gives_them():
    out = classify(commit_messages=["first\n\nsecond\n\nCo-authored-by: Codex <noreply@openai.com>"])
    assert out[0][2] == ["OpenAI Codex"]


def test_the_registry_covers_the_tools_design_names():
    assert [t.name for t in TOOLS] == [
        "Claude Code", "GitHub Copilot", "Cursor", "OpenAI Codex", "Devin", "Jules", "Amazon Q", "Kiro", "Gemini",
        "Aider", "Amp", "OpenCode", "OpenHands", "Windsurf", "Factory",
    ]


def test_ten_thousand_prs_with_large_bodies_are_classified_by_their_trailers():
    # 62 MB of body text (every 20th body 60 KB): the patterns must find the trailer at the end of each
    # long body. How long it takes is measured by benchmarks/classify.py, not here.
    from benchmarks.classify import frame

    out = classify_prs(frame(10_000), AiDetectionConfig(), source="csv")
    assert out["ai_assisted"].sum() == len(range(0, 10_000, 7))  # every 7th carries Claude's trailer: 1,429
    assert out.filter(pl.col("ai_assisted"))["author"].head(3).to_list() == ["dev0", "dev7", "dev14"]


def test_revert_references_from_title_and_body():
    frame = pl.DataFrame({
        "title": ['Revert "Add cache"', "Undo", "Revert cache", 'Revert "Revert "X""', "Fix",
                  '[1.2] revert "Update maturin (#19445)"', 'Revert "Update maturin (#19445)" (#19460)',
                  "Partial rollback", 'ci: Revert "Pin ruff"', 'Don\'t revert "foo" anymore',
                  "Remove snapshot pinning", "Restore APIs", 'Revert "Publish to registry #1197"', "Refactor",
                  "Revert some docs changes from #13457", "Reapply X"],
        "body": [None, "This reverts commit ABCDEF1.\n", "Reverts acme/api#12", None,
                 "reverts #3 and this reverts commit abcdef0", None, "Reverts #19001",
                 "This PR partially reverts #16471, see also reverts #2", None, None,
                 "Reverts https://github.com/astral-sh/uv/pull/19032/changes", "Revert #27347 and restore it", None,
                 "I had to revert (the revert of) the changes; it was reverted in #26792", None,
                 "This reverts commit a0582726 (#19925), reapplying it."],
        "merged_at": [1, 1, None, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    })
    out = revert_columns(frame)
    refs = [json.loads(r) if r else None for r in out["revert_ref"]]
    assert refs == [
        {"repo": None, "number": None, "sha": None, "title": "Add cache"},
        {"repo": None, "number": None, "sha": "abcdef1", "title": None},
        {"repo": "acme/api", "number": 12, "sha": None, "title": None},
        {"repo": None, "number": None, "sha": None, "title": 'Revert "X"'},
        {"repo": None, "number": 3, "sha": "abcdef0", "title": None},  # keywords in any case, inside prose
        {"repo": None, "number": 19445, "sha": None, "title": "Update maturin (#19445)"},  # the quoted (#n)
        {"repo": None, "number": 19001, "sha": None, "title": "Update maturin (#19445)"},  # the text's number wins
        {"repo": None, "number": 16471, "sha": None, "title": None},  # the first reference wins
        {"repo": None, "number": None, "sha": None, "title": "Pin ruff"},  # after a prefix ending in ':'
        None,  # a quote in the middle of prose is not a revert title
        {"repo": "astral-sh/uv", "number": 19032, "sha": None, "title": None},  # a link to the PR
        {"repo": None, "number": 27347, "sha": None, "title": None},  # the imperative
        {"repo": None, "number": 1197, "sha": None, "title": "Publish to registry #1197"},  # a bare #n ends the title
        None,  # prose about reverting names nothing it reverts ("reverted in" is the other way round)
        {"repo": None, "number": 13457, "sha": None, "title": None},  # a partial revert in one sentence
        {"repo": None, "number": 19925, "sha": "a0582726", "title": None},  # the (#n) after the sha
    ]
    # Merged and naming a title or number; a bare commit sha waits for the metrics to find it on the main line.
    assert out["is_revert"].to_list() == [True, False, False, True, True, True, True, True, True, False,
                                          True, True, True, False, True, True]
