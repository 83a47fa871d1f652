"""`scorecard metrics` and `scorecard explain` on the change chain, from the CLI test's CSV set."""
import csv
import io
import json

from tests.cli.test_cli import cli, import_all  # noqa: F401  (the shared fixture)


def test_change_failure_and_incident_causes_through_the_cli(cli, tmp_path):  # noqa: F811
    import_all(cli, tmp_path)
    result = cli("metrics", "--grain", "week", "--start", "2026-03-02", "--end", "2026-03-08", "--format", "json")
    org = {(r["metric"], r["segment"]): r for r in json.loads(result.output) if r["team"] is None}
    # d1 (Mar 2 12:00) ships p1, d2 (Mar 3 12:00) ships p2. i1 starts Mar 3 10:00, 22 h after d1; i2 Mar 4
    # 10:00, 22 h after d2: both inferred. d1 also shipped p1, reverted by p3 after it. Both failed: 2/2.
    cfr = org["change_failure_rate", "all"]
    assert (cfr["numerator"], cfr["n"], cfr["value"]) == (2, 2, 1.0)
    # Two production deployments in 7 days.
    assert org["deployment_frequency", "all"]["value"] == 2 / 7
    # i1 (4 h) was caused by d1, which shipped the AI-assisted p1; i2 (1 h) by d2, which shipped p2.
    assert org["mttr_hours", "ai_change"]["value"] == 4 and org["mttr_hours", "non_ai_change"]["value"] == 1
    # Lead times: p1 created Mar 1 00:00 → d1 Mar 2 12:00 = 36 h; p2 → d2 = 60 h: median 48.
    assert org["lead_time_hours", "all"]["median"] == 48 and org["lead_time_hours", "all"]["n"] == 2

    explain = cli("explain", "change_failure_rate", "--period", "2026-03-02", "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(explain.output))}
    assert rows["d1"]["reason"] == "failed: p1 it shipped was reverted by p3 at 2026-03-04 12:00 UTC"
    assert rows["d2"]["reason"] == "failed: caused incident i2 (inferred link)"
    incidents = cli("explain", "mttr_hours", "--period", "2026-03-02", "--format", "csv")
    causes = {r["id"]: r for r in csv.DictReader(io.StringIO(incidents.output))}
    assert (causes["i1"]["caused_by_deployment_id"], causes["i1"]["cause_how"], causes["i1"]["cause_prs"]) == ("d1", "inferred", "p1")
    assert causes["i1"]["cause_rule"].startswith("inferred: latest production deployment of team web finished within 24 h")
    table = cli("explain", "rework_rate", "--period", "2026-03-02", "--segment", "ai")
    assert table.exit_code == 0 and "rework_rate week of 2026-03-02" in table.output
    bad = cli("explain", "senior_review_load", "--period", "2026-03-02", "--segment", "non_ai")
    assert bad.exit_code != 0 and "senior_review_load has segments all, ai, not 'non_ai'" in bad.output
