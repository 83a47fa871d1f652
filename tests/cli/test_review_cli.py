"""`scorecard metrics` (the review window in 80 columns, --grain range, --all, --as-of), `explain`
defaults, and `scorecard digest` (formats, --post to a Slack-compatible receiver on loopback, exit
codes) on the demo organisation with the shipped example config."""
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import app
from app.cli.report import _compact
from config.load import load_config
from metrics.registry import METRICS
from reports.data import load_cube
from reports.format import fmt_value
from reports.review import review
from tests.connectors.spend.fakes import WebhookReceiver
from warehouse import open_warehouse
from warehouse.schema import audit_log

runner = CliRunner()
END = dt.date(2026, 3, 29)  # a Sunday: the demo's last day
EXAMPLE = Path(__file__).resolve().parents[2] / "scorecard.toml.example"
HOOK_ENV = "TEST_DIGEST_WEBHOOK"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("reviewcli")
    config = root / "scorecard.toml"
    url = f"sqlite:///{root / 'demo.db'}"
    text = EXAMPLE.read_text().replace("sqlite:///data/scorecard.db", url)
    config.write_text(text + f'\n[dashboard]\nurl = "https://scorecard.example"\n\n[digest]\nwebhook_env = "{HOOK_ENV}"\n')
    seeded = runner.invoke(app, ["demo", "--end", END.isoformat(), "--config", str(config)])
    assert seeded.exit_code == 0, seeded.output
    cfg = load_config(config, env={})
    wh = open_warehouse(url)
    cube = load_cube(wh, cfg)
    yield {"config": str(config), "cfg": cfg, "cube": cube, "url": url}
    wh.engine.dispose()


def invoke(*args, env=None):
    return runner.invoke(app, [*args], env=env, terminal_width=80)


def the_review(demo, as_of: dt.datetime):
    # The dashboard's default range as of that day: the 26 weeks Sep 29 – Mar 29.
    return review(demo["cube"], demo["cfg"], grain="week", start=dt.date(2025, 9, 29), end=END, now=as_of)


def test_metrics_prints_the_review_windows_org_records_in_80_columns(demo):
    as_of = dt.datetime(2026, 3, 30, tzinfo=dt.timezone.utc)
    result = invoke("metrics", "--as-of", "2026-03-30", "--config", demo["config"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    expected = the_review(demo, as_of).records.filter(pl.col("team").is_null() & ~pl.col("segment").str.contains(":"))
    # One row per metric and fixed segment of the whole org: ai_merge_rate 1, rollback_share 3, mttr_hours 5
    # (all, ai, non_ai, ai_change, non_ai_change), deflection_rate 1, csat 3, ai_cost_per_unit 1,
    # deployment_frequency 1, lead_time_hours 3, change_failure_rate 3, rework_rate 3, senior_review_load 2
    # = 26 (the tool: / mode: segments are in --all).
    assert expected.height == 26
    assert lines[0].startswith("Review window 2025-12-22 to 2026-03-22, whole org")
    for r in expected.iter_rows(named=True):
        unit = METRICS[r["metric"]].unit
        row = next(line for line in lines if line.split()[:2] == [r["metric"] + ("*" if r["provisional"] else ""), r["segment"]])
        assert _compact(fmt_value(r["value"], unit)) in row and _compact(fmt_value(r["baseline"], unit)) in row
        assert f"{r['n']:,}" in row
    assert "* provisional" in result.stdout  # rollback_share's last days can still gain rollbacks


def test_grain_range_without_dates_is_the_review_window_and_agrees_with_the_dashboard(demo):
    as_of = dt.datetime(2026, 3, 30, tzinfo=dt.timezone.utc)
    result = invoke("metrics", "--grain", "range", "--format", "json", "--as-of", "2026-03-30", "--config", demo["config"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = the_review(demo, as_of).records
    assert {r["period"] for r in rows} == {"2025-12-22"} and {r["grain"] for r in rows} == {"range"}
    assert len(rows) == expected.height
    ours = {(r["metric"], r["team"], r["segment"]): (r["value"], r["n"], r["status"], r["provisional"]) for r in rows}
    for r in expected.iter_rows(named=True):
        assert ours[(r["metric"], r["team"], r["segment"])] == (pytest.approx(r["value"]), r["n"], r["status"], r["provisional"])


def test_all_prints_every_record_and_as_of_ignores_later_events(demo):
    every = invoke("metrics", "--all", "--format", "csv", "--as-of", "2026-03-30", "--config", demo["config"])
    assert every.exit_code == 0
    header = every.stdout.splitlines()[0].split(",")
    assert header[-1] == "provisional" and len(every.stdout.splitlines()) > 100
    # As of Mar 16 the week of Mar 16 has no events yet: the last week with records is Mar 9.
    early = invoke("metrics", "--all", "--format", "json", "--as-of", "2026-03-16", "--start", "2026-03-02",
                   "--end", "2026-03-22", "--config", demo["config"])
    rows = json.loads(early.stdout)
    # Zero is a value for deployment frequency and senior review load: they have a record (0, still
    # provisional) for the week of Mar 16 too; every other metric's last record is Mar 9.
    zero_ok = {"deployment_frequency", "senior_review_load"}
    assert {r["period"] for r in rows if r["metric"] not in zero_ok} == {"2026-03-02", "2026-03-09"}
    assert all(r["value"] == 0 and r["provisional"] for r in rows if r["period"] == "2026-03-16")


def test_explain_defaults_to_the_latest_complete_period_and_shows_whole_ids(demo):
    result = invoke("explain", "rollback_share", "--segment", "ai", "--config", demo["config"])
    assert result.exit_code == 0, result.output
    # The demo's last merge is in the week of Mar 23, still running then: the week of Mar 16.
    assert result.stdout.startswith("rollback_share week of 2026-03-16, whole org, segment ai:")
    ids = [line.split()[0] for line in result.stdout.splitlines()[1:] if line.startswith("demo:")]
    assert ids and all("#" in i and not i.endswith("…") for i in ids)


def test_digest_markdown_reads_in_a_minute_with_the_tiles_numbers_and_links(demo):
    result = invoke("digest", "--config", demo["config"])
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert page.startswith("# AI impact scorecard: weekly digest\n\n**Look at mobile first: support deflection counts as worse")
    assert "Governance recommends pausing coding-agents, support-bot." in page
    assert "| Rollback share, AI PRs |" in page and "provisional:" in page
    assert "Pause recommended for Coding agents opening PRs (team payments)" in page
    assert "- [Rolled-back PRs](https://scorecard.example/rollbacks)" in page
    assert len(page.splitlines()) < 45  # a page, not a report
    team = invoke("digest", "--team", "payments", "--format", "text", "--config", demo["config"])
    assert team.exit_code == 0 and "team payments" in team.stdout and "support-bot" not in team.stdout.split("Pause")[1]
    html = invoke("digest", "--format", "html", "--config", demo["config"])
    assert html.stdout.startswith("<!doctype html>") and "<table>" in html.stdout


def test_digest_post_sends_slack_json_once_audit_logged_and_the_url_stays_secret(demo):
    with WebhookReceiver() as hook:
        result = invoke("digest", "--post", "--config", demo["config"], env={HOOK_ENV: hook.hook_url})
        assert result.exit_code == 0, result.output
        (body,) = hook.bodies
    assert body["text"].startswith("AI impact scorecard: weekly digest: Look at mobile first")
    assert [b["type"] for b in body["blocks"]][:4] == ["header", "section", "context", "section"]
    assert "<https://scorecard.example/governance|Governance>" in body["blocks"][-1]["text"]["text"]
    wh = open_warehouse(demo["url"])
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.action, audit_log.c.detail)).all()
    wh.engine.dispose()
    assert any(action == "digest posted" for action, _ in rows)
    assert "s3cr3t-token" not in json.dumps([list(map(str, r)) for r in rows]) + result.output


def test_digest_exit_codes_for_cron(demo):
    missing = invoke("digest", "--post", "--config", demo["config"], env={HOOK_ENV: ""})
    assert missing.exit_code == 1 and "TEST_DIGEST_WEBHOOK" in missing.output and missing.stdout == ""
    with WebhookReceiver(status=500) as hook:
        failed = invoke("digest", "--post", "--config", demo["config"], env={HOOK_ENV: hook.hook_url})
    assert failed.exit_code == 2 and "answered HTTP 500" in failed.output and "s3cr3t" not in failed.output
    assert failed.stdout.startswith("# AI impact scorecard")  # still printed
    assert invoke("digest", "--format", "pdf", "--config", demo["config"]).exit_code == 1
    assert invoke("digest", "--team", "nobody", "--config", demo["config"]).exit_code == 1
