"""`scorecard sync --source github` against the fake GitHub, then `scorecard metrics`: the scorecard
shows the worked example's numbers, on SQLite and PostgreSQL."""
import json

from typer.testing import CliRunner

from app.cli import app
from tests.connectors.github.conftest import TOKEN, TOKEN_ENV, serve_worked_example

runner = CliRunner()


def test_sync_then_scorecard_through_the_cli(tmp_path, warehouse_url, fake):
    serve_worked_example(fake)
    config = tmp_path / "scorecard.toml"
    config.write_text(
        f'[warehouse]\nurl = "{warehouse_url}"\n[rules]\nmin_sample = 1\n'
        f'[github]\nbase_url = "{fake.base_url}"\ntoken_env = "{TOKEN_ENV}"\norg = "acme"\nrepos = ["api", "acme/w*"]\n'
        'backoff_seconds = 0\nsecondary_wait_seconds = 0\n[github.copilot]\nenabled = false\n'
    )

    def invoke(*args):
        return runner.invoke(app, [*args, "--config", str(config)], env={TOKEN_ENV: TOKEN}, catch_exceptions=False)

    synced = invoke("sync", "--source", "github")
    assert synced.exit_code == 0, synced.output
    # 1 org listing (for the glob) + one GraphQL call per repo
    assert "github: success — pull_requests 10 new/0 updated, deployments 11 new/0 updated, " \
           "deployment_prs 2 new/0 updated, 3 API calls" in " ".join(synced.output.split())

    scorecard = invoke("metrics", "--grain", "month", "--start", "2026-03-01", "--end", "2026-03-31",
                       "--metric", "rollback_share", "--metric", "ai_merge_rate", "--format", "json")
    assert scorecard.exit_code == 0, scorecard.output
    org = {(r["metric"], r["segment"]): r for r in json.loads(scorecard.output) if r["team"] is None}
    # March: 9 merged PRs; rolled back api#11, #12, #13 (D4 rolls back D2, D3) and web#5 (W3 flagged).
    assert (org[("rollback_share", "all")]["numerator"], org[("rollback_share", "all")]["n"]) == (4, 9)
    assert (org[("rollback_share", "ai")]["numerator"], org[("rollback_share", "ai")]["n"]) == (3, 5)
    assert (org[("ai_merge_rate", "all")]["numerator"], org[("ai_merge_rate", "all")]["n"]) == (5, 9)

    again = invoke("sync", "--source", "github", "--full")
    assert again.exit_code == 0 and "github: success — pull_requests 0 new/0 updated" in " ".join(again.output.split())
    status = invoke("status")
    assert "github" in status.output and "success" in status.output
    assert TOKEN not in synced.output + scorecard.output + again.output + status.output
