"""`scorecard adoption`: unmatched vendor users (matched against people imported by CSV) and per-tool
economics, on a small CSV set worked out by hand."""
import json

from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()

FILES = {
    "people": "login,name,team,level,since,emails\nana,Ana Lima,web,,,ana@corp.example;ana@home.example\n",
    "pull_requests": (
        "id,repo,team,number,title,author,created_at,merged_at,merge_commit_sha,labels,body,ai_assisted\n"
        "p1,acme/api,web,1,Add cache,ana,2026-03-01,2026-03-02T10:00:00Z,aaa1111,claude-code-assisted,,\n"
        "p2,acme/api,web,2,Add search,ana,2026-03-01,2026-03-03T10:00:00Z,bbb2222,claude-code-assisted,,\n"
        "p3,acme/api,web,3,Add login,bob,2026-03-01,2026-03-04T10:00:00Z,ccc3333,,Generated with Codex,\n"
        "p4,acme/api,web,4,Plain,bob,2026-03-01,2026-03-05T10:00:00Z,ddd4444,,,\n"
    ),
    "ai_spend": "date,team,tool,model,cost_usd\n2026-03-03,web,Cursor,gpt-5,30.00\n2026-03-04,web,anthropic,sonnet,5.00\n",
    "ai_usage_people": (
        "date,tool,vendor_user,email,active,cost_usd\n"
        "2026-03-02,claude-code,ana@home.example,ana@home.example,true,7.00\n"  # Ana's second address
        "2026-03-03,claude-code,ana@home.example,ana@home.example,true,5.00\n"
        "2026-03-03,cursor,temp@agency.example,temp@agency.example,true,30.00\n"  # nobody's
        "2026-03-04,cursor,temp@agency.example,temp@agency.example,true,1.00\n"
    ),
}


def test_adoption_lists_unmatched_users_and_per_tool_economics(tmp_path, warehouse_url):
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{warehouse_url}"\n[rules]\nmin_sample = 1\n')

    def cli(*args):
        return runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)

    for entity, text in FILES.items():
        (tmp_path / f"{entity}.csv").write_text(text)
        assert cli("import", entity, str(tmp_path / f"{entity}.csv")).exit_code == 0
    result = cli("adoption", "--start", "2026-03-01", "--end", "2026-03-31", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    # Ana's Claude Code rows match her second e-mail; the agency contractor's two Cursor days match no one.
    assert [(u["vendor_user"], u["rows"], u["first_day"], u["last_day"]) for u in report["unmatched"]] == [
        ("temp@agency.example", 2, "2026-03-03", "2026-03-04")]
    tools = {t["tool"]: t for t in report["tool_economics"]}
    # Claude Code (p1, p2 by label): no ai_spend row, so the vendor's per-person cost 7 + 5 = 12 ÷ 2 = 6.00.
    assert (tools["Claude Code"]["spend_usd"], tools["Claude Code"]["spend_from"], tools["Claude Code"]["merged_prs"],
            tools["Claude Code"]["cost_per_merged_pr"]) == (12.0, "vendor usage", 2, 6.0)
    # Cursor: billed 30 (its per-person 31 is not added), no PR names it: no cost per PR.
    assert (tools["Cursor"]["spend_usd"], tools["Cursor"]["spend_from"], tools["Cursor"]["merged_prs"],
            tools["Cursor"]["cost_per_merged_pr"]) == (30.0, "billing", 0, None)
    # OpenAI Codex (p3 by its body): no spend anywhere → no cost per PR; merged 1 of 1 closed.
    assert (tools["OpenAI Codex"]["spend_from"], tools["OpenAI Codex"]["cost_per_merged_pr"],
            tools["OpenAI Codex"]["merge_rate"]) == ("none", None, 1.0)
    assert tools["anthropic"]["spend_usd"] == 5.0 and tools["anthropic"]["merged_prs"] == 0
    table = cli("adoption", "--start", "2026-03-01", "--end", "2026-03-31")
    assert table.exit_code == 0 and "temp@agency.example" in table.output and "Claude Code" in table.output
    assert "$6.00" in table.output and "admin view" in table.output
    assert "ADMIN TOOL" in cli("adoption", "--help").output
    assert cli("adoption", "--format", "csv").exit_code == 1
