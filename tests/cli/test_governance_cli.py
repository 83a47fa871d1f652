"""`scorecard governance`, `scorecard alerts` with stop conditions and `scorecard audit` on the demo
organisation with the shipped example config; and with no config, where everything is unowned."""
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from app.cli import app
from warehouse import open_warehouse, read_table

runner = CliRunner()
END = dt.date(2026, 3, 29)  # a Sunday: the demo's last day
EXAMPLE = Path(__file__).resolve().parents[2] / "scorecard.toml.example"
# Tools under the AI tool registry's names; a bot author is also its tool (devin-ai-integration → Devin).
GHOSTS = [("bot", "chatgpt-codex-connector"), ("bot", "devin-ai-integration"), ("coding_tool", "OpenAI Codex"),
          ("coding_tool", "Devin"), ("coding_tool", "Gemini"), ("coding_tool", "Cursor")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("govcli")
    config = root / "scorecard.toml"
    url = f"sqlite:///{root / 'demo.db'}"
    config.write_text(EXAMPLE.read_text().replace("sqlite:///data/scorecard.db", url))
    plain = root / "plain.toml"
    plain.write_text(f'[warehouse]\nurl = "{url}"\n')
    seeded = runner.invoke(app, ["demo", "--end", END.isoformat(), "--config", str(config)])
    assert seeded.exit_code == 0, seeded.output
    return {"config": str(config), "plain": str(plain), "url": url, "root": root}


def invoke(*args):
    return runner.invoke(app, [*args])


def test_governance_names_the_ghosts_and_the_workflows_past_a_stop_condition(demo):
    result = invoke("governance", "--format", "json", "--today", "2026-03-30", "--config", demo["config"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(u["kind"], u["name"]) for u in report["unowned"]] == GHOSTS
    devin = next(u for u in report["unowned"] if u["name"] == "devin-ai-integration")
    assert devin["rows"] == 146 and len(devin["examples"]) == 3 and devin["last_seen"] <= END.isoformat()
    pauses = [(p["workflow"], p["team"], p["period"]) for p in report["policies"] if p["verdict"] == "pause_recommended"]
    # As of Mar 30 the latest complete month is February: payments' AI PRs (21.0% rolled back against a
    # 1.9% baseline, significant) and mobile's CSAT (3.56 against 4.19, more than 0.3 below). The budget
    # condition reads March to date: data spent $3,083.66 by Mar 29 against the example's $1,500 budget
    # (its agents ran away in March), so coding-agents pauses for data too; payments' $1,720 < $4,000.
    assert pauses == [("coding-agents", "payments", "2026-02-01"), ("coding-agents", "data", "2026-03-01"),
                      ("support-bot", "mobile", "2026-02-01")]
    assert {i["id"] for i in report["inventory"]} == {"github-copilot", "claude-code", "openai-api", "coding-agents",
                                                       "support-bot"}
    table = invoke("governance", "--today", "2026-03-30", "--config", demo["config"])
    assert table.exit_code == 0 and "Unowned: 6 AI identities" in table.stdout


def test_with_no_config_everything_found_is_unowned(demo):
    result = invoke("governance", "--format", "json", "--config", demo["plain"])
    report = json.loads(result.stdout)
    assert report["inventory"] == [] and report["policies"] == []
    # 9 from PR signals (3 bots; 6 registry tools: Claude Code, GitHub Copilot, Cursor, OpenAI Codex, Devin,
    # Gemini), 3 spend tools, 5 models (copilot, claude-opus-4, claude-sonnet-4, gpt-5, gpt-5-mini),
    # 4 workflows (seats, coding-agent, code-review, support-bot), 1 adoption tool.
    assert len(report["unowned"]) == 22
    assert "No AI tools or workflows are declared" in invoke("governance", "--config", demo["plain"]).stdout


def test_alerts_include_stop_conditions_and_keep_exit_1(demo):
    result = invoke("alerts", "--format", "json", "--no-webhook", "--config", demo["config"])
    assert result.exit_code == 1, result.output
    ids = [a["id"] for a in json.loads(result.stdout)["alerts"]]
    assert "stop_condition:coding-agents:0:payments:2026-02-01" in ids
    assert "stop_condition:support-bot:0:mobile:2026-02-01" in ids
    assert any(i.startswith("spend_anomaly:data:anthropic:") for i in ids)  # the demo's spend spike still alerts
    stop = next(a for a in json.loads(result.stdout)["alerts"] if a["id"].startswith("stop_condition:support-bot"))
    assert stop["owner"] == "Omar Haddad (Data)" and stop["message"].startswith("Pause recommended for Support bot")


def test_audit_log_lists_actions_exports_itself_and_keeps_the_change_history(demo, tmp_path):
    out = tmp_path / "audit.csv"
    result = invoke("audit", "--format", "csv", "--out", str(out), "--config", demo["config"])
    assert result.exit_code == 0, result.output
    log = pl.read_csv(out)
    assert {"demo", "config change"} <= set(log["action"].to_list())
    wh = open_warehouse(demo["url"])
    try:
        rows = read_table(wh, "audit_log")
    finally:
        wh.engine.dispose()
    export = json.loads(rows.filter(pl.col("action") == "export")["detail"][-1])
    assert (export["name"], export["rows"], export["destination"]) == ("audit_log", log.height, str(out))
    assert invoke("status", "--config", demo["plain"]).exit_code == 0  # a command under another config
    history = invoke("audit", "--history", "--format", "json", "--config", demo["config"])
    versions = json.loads(history.stdout)
    # The example config and the plain one are two versions of the config in one warehouse.
    assert len({v["config_hash"] for v in versions}) >= 2 and all(v["actor"].startswith("cli") for v in versions)
    assert invoke("audit", "--out", str(out), "--config", demo["config"]).exit_code == 1  # --out needs csv or json


def test_the_example_budgets_give_the_demo_an_over_budget_alert(demo):
    result = invoke("alerts", "--format", "json", "--no-webhook", "--config", demo["config"])
    assert result.exit_code == 1, result.output  # open alerts
    alerts = json.loads(result.stdout)["alerts"]
    budget = [a for a in alerts if a["kind"] == "budget_pace"]
    # As of Mar 29 (the last spend day): data spent $3,083.66 of March against its $1,500 budget → over
    # budget; payments' $1,720.17 projects to $1,838.80 < $4,000 → no alert.
    assert [a["team"] for a in budget] == ["data"]
    assert budget[0]["message"].startswith("data has spent $3,083.66 of its $1,500.00 budget for March 2026 by 2026-03-29")
