"""CSV import of the change chain's evidence: PR files, reviews and people, on both warehouses."""
import datetime as dt

import pytest

from config import Config
from config.model import PeopleConfig
from connectors.csv import CsvImportError, read_csv
from metrics.scorecard import compute
from pipeline import ingest
from reports.data import load_evidence
from warehouse import read_table

PRS = """id,repo,team,number,title,created_at,merged_at,labels,files
p1,acme/api,api,1,Add cache,2026-03-02T08:00:00Z,2026-03-02T10:00:00Z,,src/cache.py; src/api.py;;
p2,acme/api,api,2,Fix cache expiry,2026-03-03T08:00:00Z,2026-03-03T10:00:00Z,,src/cache.py
p3,acme/api,api,3,Docs,2026-03-03T08:00:00Z,2026-03-03T11:00:00Z,,
"""
REVIEWS = """id,pr_id,reviewer,state,submitted_at
r1,p1,Alice,approved,2026-03-02T09:00:00Z
r2,p2,alice,COMMENTED,2026-03-03T09:00:00Z
r3,p2,bob,PENDING,
"""
PEOPLE = """login,name,team,level,since,emails
alice,Alice A,api,Staff,,alice@acme.test;a.a@acme.test
bob,Bob B,api,junior,,
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_files_reviews_and_people_import_and_feed_the_metrics(tmp_path, warehouse):
    config = Config()
    for name, entity, text in (("prs.csv", "pull_requests", PRS), ("reviews.csv", "reviews", REVIEWS), ("people.csv", "people", PEOPLE)):
        ingest(warehouse, f"csv:{entity}", read_csv(write(tmp_path, name, text), entity, config).frames)
    files = read_table(warehouse, "pull_request_files").sort("pr_id", "path")
    assert list(zip(files["pr_id"], files["path"])) == [("p1", "src/api.py"), ("p1", "src/cache.py"), ("p2", "src/cache.py")]
    assert read_table(warehouse, "reviews").sort("id")["state"].to_list() == ["APPROVED", "COMMENTED", "PENDING"]
    assert read_table(warehouse, "people").sort("login")["emails"].to_list() == ["alice@acme.test;a.a@acme.test", None]
    # Again: nothing new, nothing changed.
    again = ingest(warehouse, "csv:pull_requests", read_csv(write(tmp_path, "prs.csv", PRS), "pull_requests", config).frames)
    assert (again["pull_request_files"].inserted, again["pull_request_files"].unchanged) == (0, 3)

    out = compute(load_evidence(warehouse), config, grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 2))
    rework = out.filter((out["metric"] == "rework_rate") & out["team"].is_null() & (out["segment"] == "all")).row(0, named=True)
    # p2 "Fix cache expiry" touches src/cache.py, which p1 touched, a day later: p1 reworked, 1 of 3.
    assert (rework["numerator"], rework["n"]) == (1, 3)
    load = out.filter((out["metric"] == "senior_review_load") & (out["team"] == "api") & (out["segment"] == "all")).row(0, named=True)
    # alice (level Staff) is the one senior: 2 submitted reviews ("Alice" is alice) in 1 week; bob's is pending.
    assert (load["numerator"], load["denominator"]) == (2, 1)


def test_a_pr_created_after_its_merge_is_rejected(tmp_path):
    text = "id,repo,created_at,merged_at\np1,acme/api,2026-03-03,2026-03-02\n"
    with pytest.raises(CsvImportError, match="line 2, column 'created_at': created after it was merged"):
        read_csv(write(tmp_path, "p.csv", text), "pull_requests", Config())


def test_review_and_people_files_are_checked(tmp_path):
    with pytest.raises(CsvImportError, match="missing required column 'reviewer'"):
        read_csv(write(tmp_path, "r.csv", "id,pr_id,state,submitted_at\nr1,p1,APPROVED,2026-03-01\n"), "reviews", Config())
    with pytest.raises(CsvImportError, match="line 3, column 'login': duplicate id"):
        read_csv(write(tmp_path, "p.csv", "login,level\nalice,senior\nalice,staff\n"), "people", Config(people=PeopleConfig()))
