"""One classifier: a GitHub sync from the fake GitHub and a CSV import of the same PRs (the text a
`git log` export gives: the merge commit's message in `commit_messages`, the rest as columns) decide
attribution and reverts alike — with the strings real repositories carry in titles, bodies, authors,
commit messages and branches."""
from __future__ import annotations

import csv
import json

from connectors.csv.reader import read_csv
from tests.connectors.github.fake_github import pr
from warehouse import read_table

# number → (title, body, author (GraphQL login), commit messages, merge commit message, head branch, labels)
CASES = {
    1: ("Tune pool", "Pool sizes.", "dev", ["wip", "tidy\n\nCo-authored-by: Claude Opus 4.6 (1M context) <noreply@anthropic.com>"],
        "Tune pool (#1)", "feature/pool", []),
    2: ("Fix parser", "Fixes #9", "Copilot", ["Initial plan", "Fix parser"],
        "Fix parser (#2)\n\nCo-authored-by: copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
        "copilot/fix-parser", []),
    3: ("Speed up", "Co-authored-by: Charlie Marsh <charliemarsh@openai.com>", "dev", ["speed"], "Speed up (#3)", "speed", []),
    4: ("Docs", "_Generated with Cursor_", "dev", ["docs"], "Docs (#4)", "docs", []),
    5: ("Lint", "Made with care", "devin", ["lint"], "Lint (#5)\n\nCo-authored-by: Devin Smith <devin@example.com>", "lint", []),
    6: ("Bump", "Generated with protoc-gen-go", "renovate", ["bump"],
        "Bump (#6)\n\nCo-authored-by: renovate[bot] <29139614+renovate[bot]@users.noreply.github.com>", "renovate/x", []),
    7: ("Task", "Codex task: https://chatgpt.com/codex/tasks/task_e_1", "chatgpt-codex-connector", ["task"], "Task (#7)",
        "codex/task", ["codex"]),
    8: ("Refactor", "Refactor.", "dev", ["a", "Assisted-by: Claude:claude-opus-4"], "Refactor (#8)", "refactor", []),
    9: ("Labelled", "", "dev", ["x"], "Labelled (#9)", "claude/labelled", ["AI-Generated"]),
    10: ('Revert "Tune pool (#1)"', "", "dev", ["Revert"], 'Revert "Tune pool (#1)" (#10)', "revert-1", []),
    11: ("Back out", "This PR partially reverts #4.", "dev", ["x"], "Back out (#11)", "x", []),
    12: ("Squash", "* wip\n\n* Revert wip\n\nThis reverts commit 99999999.", "dev", ["wip"], "Squash (#12)", "x", []),
    13: ("Amp", "Amp-Thread-ID: https://ampcode.com/threads/T-1", "dev", ["x"],
         "Amp (#13)\n\nCo-authored-by: Amp <amp@ampcode.com>", "amp", []),
}
COMPARED = ("ai_assisted", "ai_signals", "ai_tools", "ai_mode", "ai_confidence", "is_revert", "revert_ref")


def test_github_sync_and_csv_import_decide_alike(warehouse, fake, sync, tmp_path):
    repo = fake.repo("acme/api")
    repo.prs = [
        pr(n, merged_at=f"2026-03-{n + 1:02d} 10:00", title=title, body=body, author=author, commits=commits,
           merge_message=merge, head_ref=branch, labels=labels, merge_sha=f"{n:04d}" + "b" * 36)
        for n, (title, body, author, commits, merge, branch, labels) in CASES.items()
    ]
    assert sync(repos=("acme/api",)).status == "success"
    synced = {r["number"]: r for r in read_table(warehouse, "pull_requests").iter_rows(named=True)}

    path = tmp_path / "prs.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "repo", "number", "title", "author", "merged_at", "merge_commit_sha", "labels", "body",
                         "commit_messages", "head_branch"])
        for n, (title, body, author, commits, merge, branch, labels) in CASES.items():
            writer.writerow([f"csv:{n}", "acme/api", n, title, author, f"2026-03-{n + 1:02d}T10:00:00Z",
                             f"{n:04d}" + "b" * 36, ";".join(labels), body, "\n\n".join([*commits, merge]), branch])
    from config import Config

    imported = {r["number"]: r for r in read_csv(path, "pull_requests", Config()).frames["pull_requests"].iter_rows(named=True)}
    for n in CASES:
        assert {c: synced[n][c] for c in COMPARED} == {c: imported[n][c] for c in COMPARED}, n

    decided = {n: (synced[n]["ai_assisted"], json.loads(synced[n]["ai_tools"]), synced[n]["ai_mode"]) for n in CASES}
    assert decided == {
        1: (True, ["Claude Code"], "co_authored"),  # a model-named co-author in a branch commit
        2: (True, ["GitHub Copilot"], "agent"),  # GraphQL names the coding agent "Copilot"
        3: (False, [], None),  # a person at OpenAI
        4: (True, ["Cursor"], "co_authored"),
        5: (False, [], None),  # a person named Devin; "Made with care"
        6: (False, [], None),  # renovate; protoc-gen-go
        7: (True, ["OpenAI Codex"], "agent"),
        8: (True, ["Claude Code"], "co_authored"),  # a policy trailer naming a tool
        9: (True, ["Claude Code"], "labelled"),  # a generic label and an agent branch
        10: (False, [], None), 11: (False, [], None), 12: (False, [], None),
        13: (True, ["Amp"], "co_authored"),
    }
    reverts = {n: synced[n]["is_revert"] for n in CASES}
    assert [n for n, flag in reverts.items() if flag] == [10, 11]  # #12 quotes a revert inside its own branch
    assert json.loads(synced[10]["revert_ref"])["number"] == 1  # the (#1) inside the quoted title
