"""`scorecard export pull_requests` carries what the rollback rules decided about each PR (the resolved
revert links, the shipping deployment, rolled back or not, by what, until when), so an analyst can
recompute the rollback share from the export alone; attribution columns come from the CSV's text."""
import csv
import datetime as dt
import json

import polars as pl
import pytest

from metrics.scorecard import compute
from tests.cli.test_cli import cli  # noqa: F401  (the fixture)

PRS = (
    "id,repo,number,title,author,merged_at,merge_commit_sha,body,commit_messages,head_branch\n"
    # DESIGN.md's worked example, its revert written as people write them.
    "p15,acme/api,15,Ship it,alice,2026-03-01T08:00:00Z,15aa15bb15,,,\n"
    "p11,acme/api,11,Tune pool,bob,2026-03-02T09:00:00Z,sha11,\"Pool\n\nCo-authored-by: Claude <noreply@anthropic.com>\",,\n"
    "p12,acme/api,12,Retry,bob,2026-03-03T12:00:00Z,sha12,,,copilot/retry\n"
    "p13,acme/api,13,Logs,carol,2026-03-04T09:00:00Z,sha13,,\"wip\n\nCo-authored-by: Charlie <charlie@openai.com>\",\n"
    "p14,acme/api,14,Docs,carol,2026-03-05T09:30:00Z,sha14,,,\n"
    "p10,acme/api,10,Add cache,dave,2026-03-10T12:00:00Z,abcdef1234,,,\n"
    # Reverts #10 by its title carrying the squash subject's (#10); 10 days later: outside the window.
    "p16,acme/api,16,\"Revert \"\"Add cache (#10)\"\"\",dave,2026-03-20T12:00:00Z,sha16,,,\n"
    # Quotes a `git revert` of a commit inside its own branch: no merge commit of a PR, no revert.
    "p17,acme/api,17,Refactor,erin,2026-03-21T12:00:00Z,sha17,\"* wip\n\n* Revert wip\n\nThis reverts commit 99999999.\",,\n"
    # Reverts #14 in prose, 2 days after it: rolled back.
    "p18,acme/api,18,Undo docs,erin,2026-03-07T09:30:00Z,sha18,This PR partially reverts #14.,,\n"
    # A bare `This reverts commit` naming #15's merge commit: a revert of #15, 9 days on: outside the window.
    "p19,acme/api,19,Back out,erin,2026-03-10T08:00:00Z,sha19,This reverts commit 15aa15b.,,\n"
)
DEPLOYMENTS = (
    "id,repo,environment,sha,finished_at,status\n"
    "D1,acme/api,production,a,2026-03-01T10:00:00Z,success\n"
    "D2,acme/api,production,b,2026-03-03T10:00:00Z,success\n"
    "D3,acme/api,production,c,2026-03-04T10:00:00Z,success\n"
    "D4,acme/api,production,a,2026-03-05T10:00:00Z,success\n"
    "D5,acme/api,production,d,2026-03-06T10:00:00Z,success\n"
)


def test_export_carries_the_resolved_facts_behind_the_rollback_share(cli, tmp_path):  # noqa: F811
    for entity, text in (("pull_requests", PRS), ("deployments", DEPLOYMENTS)):
        path = tmp_path / f"{entity}.csv"
        path.write_text(text)
        assert cli("import", entity, str(path)).exit_code == 0
    out = tmp_path / "prs.csv"
    result = cli("export", "pull_requests", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in csv.DictReader(out.open())}
    facts = {i: (r["reverts_pr_id"], r["reverted_by_pr_id"], r["shipped_by_deployment_id"], r["rolled_back"],
                 r["rolled_back_by"]) for i, r in rows.items()}
    assert facts == {
        "p15": ("", "p19", "D1", "false", ""),  # D1 is T of the rollback D4, not between; #19 came 9 days later
        "p11": ("", "", "D2", "true", "D4"),  # D4 restores a: rolls back D2 and D3
        "p12": ("", "", "D3", "true", "D4"),
        "p13": ("", "", "D3", "true", "D4"),
        "p14": ("", "p18", "D5", "true", "p18"),  # D4 is a rollback, so D5 ships it; #18 reverts it 2 days on
        "p10": ("", "p16", "", "false", ""),  # reverted 10 days later: outside the 7-day window
        "p16": ("p10", "", "", "false", ""),  # the quoted title names #10 by its (#10)
        "p17": ("", "", "", "false", ""),
        "p18": ("p14", "", "", "false", ""),
        "p19": ("p15", "", "", "false", ""),
    }
    assert [i for i, r in rows.items() if r["is_revert"] == "true"] == ["p16", "p18", "p19"]
    # The window ends 7 days after the later of the merge and the shipping deployment.
    assert rows["p14"]["rollback_window_ends_at"] == "2026-03-13T10:00:00Z"  # D5 finished Mar 6 10:00
    assert rows["p10"]["rollback_window_ends_at"] == "2026-03-17T12:00:00Z"  # not shipped: merge + 7 days
    attribution = {i: (json.loads(r["ai_tools"]), r["ai_mode"]) for i, r in rows.items() if r["ai_assisted"] == "true"}
    assert attribution == {"p11": (["Claude Code"], "co_authored"), "p12": (["GitHub Copilot"], "labelled")}

    # The rollback share recomputed from the export equals the metric: March, merged PRs 10, rolled back
    # #11, #12, #13, #14 = 4 → 4/10.
    exported = pl.read_csv(out)
    assert (exported["rolled_back"].sum(), exported.height) == (4, 10)
    import reports.data  # the metric from the same warehouse
    from config.load import load_config

    config = load_config(tmp_path / "scorecard.toml")
    ev = reports.data.load_evidence(reports.data.warehouse_for(config))
    record = compute(ev, config, grain="month", start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31),
                     metrics=["rollback_share"]).filter(pl.col("team").is_null() & (pl.col("segment") == "all"))
    assert (record["numerator"][0], record["denominator"][0]) == (4, 10)
    assert record["value"][0] == pytest.approx(0.4)
