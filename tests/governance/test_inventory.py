"""The AI identities the data names, who owns them, and the ghost contributors nobody declared."""
import datetime as dt
import json

import polars as pl

from config.governance import GovernanceConfig, ToolConfig, WorkflowConfig
from governance.inventory import (
    found_in_data, inventory, partials, pr_identities, spend_partials, unapproved_models, unowned, usage_identities,
)
from tests.factories import evidence, make_pr, make_spend

# Signals and tools as the attribution (connectors.common.ai_detection) records them.
SIGNALS = {
    1: (["author:devin-ai-integration[bot]"], ["Devin"]),
    2: (["trailer:Co-Authored-By: Claude <noreply@anthropic.com>", "marker:Generated with Claude Code"], ["Claude Code"]),
    3: (["label:ai-assisted"], []),  # names no tool: not an identity
    4: (["author:Devin-AI-Integration", "trailer:Assisted-by: Acme Helper <bot@acme.example>"], ["Devin"]),
    5: (["trailer:Co-authored-by: copilot-swe-agent[bot] <1+Copilot@users.noreply.github.com>"], ["GitHub Copilot"]),
    6: (["trailer:Assisted-by: Acme Helper <bot@acme.example>"], []),  # a policy trailer naming no registry tool
}


def prs() -> pl.DataFrame:
    rows = [make_pr(n, merged_at=f"2026-03-0{n} 10:00", team="payments" if n % 2 else "web", ai=True, signals=s, tools=t)
            for n, (s, t) in SIGNALS.items()]
    return evidence(prs=rows).pull_requests


def spend() -> pl.DataFrame:
    return evidence(spend=[
        make_spend("s1", date="2026-03-01", cost=10.0, team="payments", tool="anthropic", model="claude-sonnet-4",
                   workflow="code-review"),
        make_spend("s2", date="2026-03-02", cost=5.5, team="web", tool="anthropic", model="claude-opus-4",
                   workflow="code-review"),
        make_spend("s3", date="2026-03-03", cost=2.0, team="web", tool="openai", model="gpt-5", workflow=None),
    ]).ai_spend


def usage() -> pl.DataFrame:
    return pl.DataFrame({"id": ["u1", "u2"], "team": ["web", "web"], "date": [dt.date(2026, 3, 1), dt.date(2026, 3, 4)],
                         "tool": ["github-copilot", "GitHub-Copilot"]})


def identities() -> pl.DataFrame:
    """Every identity summed per kind × name × team, as found_in_data reads them."""
    return pl.concat([partials(pr_identities(prs())), spend_partials(spend()),
                      partials(usage_identities(usage()))])


def test_signals_name_bots_and_tools_in_one_spelling():
    ids = pr_identities(prs())
    got = sorted(ids.select("id", "kind", "name").iter_rows())
    assert got == [
        ("github:acme/api#1", "bot", "devin-ai-integration"),
        ("github:acme/api#1", "coding_tool", "Devin"),
        ("github:acme/api#2", "coding_tool", "Claude Code"),  # the registry's name, whatever the trailer said
        ("github:acme/api#4", "bot", "devin-ai-integration"),  # login case and [bot] do not matter
        ("github:acme/api#4", "coding_tool", "Acme Helper"),  # an unknown tool: the policy trailer's value
        ("github:acme/api#4", "coding_tool", "Devin"),
        ("github:acme/api#5", "coding_tool", "GitHub Copilot"),
        ("github:acme/api#6", "coding_tool", "Acme Helper"),
    ]


def test_with_no_inventory_everything_found_is_unowned_with_its_evidence():
    found = found_in_data(identities(), GovernanceConfig())
    # 5 from PRs (the bot devin-ai-integration; the tools Devin, Claude Code, GitHub Copilot, Acme Helper), 2 spend tools, 3 models,
    # 1 workflow (a null workflow names nothing), 1 adoption tool (two spellings, one identity).
    assert found["owned_by"].null_count() == found.height == 12
    devin = found.filter(pl.col("name") == "devin-ai-integration").row(0, named=True)
    # PRs 1 (payments, Mar 1) and 4 (web, Mar 4), latest first in the examples.
    assert (devin["kind"], devin["rows"], devin["teams"]) == ("bot", 2, ["payments", "web"])
    assert (devin["first_seen"], devin["last_seen"]) == (dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert devin["examples"] == ["github:acme/api#4", "github:acme/api#1"]
    anthropic = found.filter((pl.col("kind") == "spend_tool") & (pl.col("name") == "anthropic")).row(0, named=True)
    assert (anthropic["rows"], anthropic["cost_usd"]) == (2, 15.5)
    copilot = found.filter(pl.col("kind") == "usage_tool").row(0, named=True)
    assert copilot["rows"] == 2 and copilot["name"].lower() == "github-copilot"
    assert found.filter(pl.col("kind") == "spend_workflow")["name"].to_list() == ["code-review"]  # no null workflow


def test_declared_items_own_what_their_patterns_recognise():
    gov = GovernanceConfig(
        tools={"claude": ToolConfig(risk_tier=2, business_owner="Dana", signal_tools=("claude*",),
                                    spend_tools=("anthropic",), approved_models=("claude-sonnet*",)),
               "copilot": ToolConfig(risk_tier=1, signal_tools=("*copilot",), usage_tools=("github-copilot",))},
        workflows={"review": WorkflowConfig(risk_tier=2, spend_workflows=("code-review",), tools=("claude",))},
    )
    found = found_in_data(identities(), gov)
    owners = {(k, n): o for k, n, o in found.select("kind", "name", "owned_by").iter_rows()}
    assert owners[("coding_tool", "Claude Code")] == "claude" and owners[("coding_tool", "GitHub Copilot")] == "copilot"
    assert owners[("spend_model", "claude-sonnet-4")] == "claude"  # an approved model is recognised
    assert owners[("spend_workflow", "code-review")] == "review"
    ghosts = unowned(found)
    # Unowned first in the table; these nobody declared:
    assert sorted(ghosts.select("kind", "name").iter_rows()) == [
        ("bot", "devin-ai-integration"), ("coding_tool", "Acme Helper"), ("coding_tool", "Devin"), ("spend_model", "claude-opus-4"),
        ("spend_model", "gpt-5"), ("spend_tool", "openai")]
    assert found.head(ghosts.height)["owned_by"].null_count() == ghosts.height
    items = inventory(gov, pr_identities(prs()), found, spend())
    claude = items.filter(pl.col("id") == "claude").row(0, named=True)
    # PR 2 names Claude Code (a trailer and a marker): one PR. Spend s1 + s2 (tool anthropic) = 15.50.
    assert (claude["prs"], claude["spend_usd"], claude["last_seen"]) == (1, 15.5, dt.date(2026, 3, 2))
    assert claude["gaps"] == "no technical owner; no security owner"
    review = items.filter(pl.col("id") == "review").row(0, named=True)
    assert review["spend_usd"] == 15.5 and "no stop condition" in review["gaps"]


def test_spend_on_a_model_the_owner_did_not_approve():
    gov = GovernanceConfig(tools={"claude": ToolConfig(risk_tier=2, spend_tools=("anthropic",),
                                                       approved_models=("claude-sonnet*",))})
    flagged = unapproved_models(spend(), gov)
    assert flagged.select("tool", "model", "owned_by", "rows", "cost_usd").rows() == [
        ("anthropic", "claude-opus-4", "claude", 1, 5.5)]
    assert unapproved_models(spend(), gov, visible_teams=frozenset({"payments"}))["examples"].to_list() == [[]]


def test_examples_come_only_from_the_teams_a_user_may_see():
    found = found_in_data(identities(), GovernanceConfig(), visible_teams=frozenset({"payments"}))
    devin = found.filter(pl.col("name") == "devin-ai-integration").row(0, named=True)
    assert devin["rows"] == 2 and devin["examples"] == ["github:acme/api#1"]  # counts stay org-wide aggregates
    payments = {"github:acme/api#1", "github:acme/api#3", "github:acme/api#5", "s1"}  # the odd PRs and s1
    shown = {e for ex in found["examples"] for e in ex}
    assert shown and shown <= payments
    assert json.dumps(found.filter(pl.col("kind") == "usage_tool")["examples"].to_list()) == "[[]]"


def test_no_data_no_identities():
    empty = evidence()
    ids = pl.concat([partials(pr_identities(empty.pull_requests)), spend_partials(empty.ai_spend)])
    assert found_in_data(ids, GovernanceConfig()).height == 0
