"""The Jira connector against a fake Jira (Cloud and Server flavours) through the real `jira` client:
rows, the MTTR / deflection / CSAT records they give, paging, incremental runs, retries and faults."""
from __future__ import annotations

import datetime as dt
from functools import partial

import polars as pl
import pytest

from config import Config
from metrics.scorecard import compute
from pipeline import run_source
from reports.data import load_evidence
from tests.connectors.jira.conftest import INCIDENT_JQL, TICKET_JQL, jira_config
from tests.connectors.jira.fake_jira import jira_time
from tests.connectors.loopback import Fault
from warehouse import read_table
from warehouse.runs import get_cursor

run = partial(run_source, source="jira")  # run(warehouse, config, **test hooks)

WEEK = dt.date(2026, 3, 2)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def records(warehouse, config: Config = Config()) -> dict:
    out = compute(load_evidence(warehouse), config, grain="week", start=WEEK, end=WEEK)
    return {(r["metric"], r["segment"], r["team"]): r for r in out.iter_rows(named=True)}


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_sync_fills_incidents_and_tickets_that_give_the_hand_worked_metrics(make_fake, warehouse, flavour):
    fake = make_fake(flavour)
    waits: list[float] = []
    report = run(warehouse, jira_config(fake), sleep=waits.append)

    assert report.status == "partial" and report.error is None  # partial: one unreadable issue, warnings
    assert report.tables["incidents"].inserted == 4 and report.tables["tickets"].inserted == 6
    assert [(r.stream, r.record_id) for r in report.rejected] == [("incidents", "jira:OPS-5")]
    assert "'05/03/2026 11:00' is not a date-time" in report.rejected[0].reason
    assert any("'Fix my laptop' ×1" in w and "counted as 'human'" in w for w in report.warnings)
    assert any("HELP-6" in w and "1 to 5" in w for w in report.warnings)
    assert waits == []

    incidents = read_table(warehouse, "incidents").sort("id")
    assert incidents.select("id", "team", "service", "severity", "started_at", "resolved_at", "ai_assisted").rows() == [
        # OPS-1 starts at its "Incident start" (08:30), not at created (09:00); its team from the component.
        ("jira:OPS-1", "payments", "Payments", "Sev 1", utc("2026-03-02 08:30"), utc("2026-03-02 12:30"), True),
        ("jira:OPS-2", "web", "Web", "Sev 3", utc("2026-03-03 10:00"), utc("2026-03-03 11:00"), False),
        # The Team field wins over the Payments component; "AI assisted: Yes" marks it.
        ("jira:OPS-3", "checkout", "Payments", None, utc("2026-03-04 10:00"), utc("2026-03-04 16:00"), True),
        ("jira:OPS-4", "web", "Web", None, utc("2026-03-05 10:00"), None, False),
    ]
    assert incidents["url"][0] == f"{fake.url}/browse/OPS-1"
    tickets = read_table(warehouse, "tickets").sort("id")
    assert tickets.select("id", "channel", "csat", "resolved_at").rows() == [
        ("jira:HELP-1", "human", 5.0, utc("2026-03-03 10:00")),
        ("jira:HELP-2", "ai_bot", 4.0, utc("2026-03-04 09:00")),
        ("jira:HELP-3", "self_serve", None, utc("2026-03-04 12:00")),
        ("jira:HELP-4", "human", 3.0, utc("2026-03-05 10:00")),
        ("jira:HELP-5", None, None, None),  # open: no channel yet (its "Resolved By" is not known)
        ("jira:HELP-6", "ai_bot", None, utc("2026-03-06 10:00")),
    ]

    r = records(warehouse)
    # MTTR: OPS-1 4 h, OPS-2 1 h, OPS-3 6 h → mean 11/3; median 4; p90 = 4 + 0.8·(6 − 4) = 5.6.
    mttr = r["mttr_hours", "all", None]
    assert (mttr["n"], mttr["value"], mttr["median"], mttr["p90"]) == (3, pytest.approx(11 / 3), 4.0, pytest.approx(5.6))
    # AI segment: OPS-1 (label) and OPS-3 (field) → (4 + 6)/2 = 5; the rest: OPS-2 → 1.
    assert r["mttr_hours", "ai", None]["value"] == pytest.approx(5.0)
    assert r["mttr_hours", "non_ai", None]["value"] == pytest.approx(1.0)
    assert r["mttr_hours", "all", "checkout"]["value"] == pytest.approx(6.0)
    # Deflection: 5 resolved tickets, HELP-2 and HELP-6 (virtual agent) and HELP-3 (knowledge base) → 3/5.
    deflection = r["deflection_rate", "all", None]
    assert (deflection["numerator"], deflection["n"], deflection["value"]) == (3, 5, pytest.approx(0.6))
    # CSAT: scores 5, 4, 3 (HELP-6's 9 is not a score) → 4.0; the ai_bot segment: HELP-2's 4.
    assert (r["csat", "all", None]["n"], r["csat", "all", None]["value"]) == (3, pytest.approx(4.0))
    assert (r["csat", "ai", None]["n"], r["csat", "ai", None]["value"]) == (1, pytest.approx(4.0))

    searches = fake.searches()
    assert {s.path for s in searches} == {"/rest/api/2/search/jql" if flavour == "cloud" else "/rest/api/2/search"}
    assert all(s.arg("maxResults") == "2" for s in searches)
    assert report.stats["calls"] == len(fake.requests)


def test_cloud_pages_with_next_page_token_within_a_bulk_edited_minute(make_fake, sqlite_warehouse):
    """Five issues edited in the same minute: restarting the query from that minute cannot progress, so
    the connector pages on with nextPageToken."""
    fake = make_fake("cloud")
    for n in range(7, 12):
        fake.add(f"OPS-{n}", created="2026-03-06 09:00", updated="2026-03-06 09:30", resolved="2026-03-06 09:20",
                 components=["Web"])
    report = run(sqlite_warehouse, jira_config(fake, tickets=None))
    assert report.status == "partial" and report.tables["incidents"].inserted == 9
    tokens = [s.arg("nextPageToken") for s in fake.searches()]
    assert any(tokens), "the bulk-edited minute is read by nextPageToken pages"
    assert read_table(sqlite_warehouse, "incidents").height == 9


def test_rerun_with_nothing_new_fetches_nothing_new_and_an_edit_is_picked_up(make_fake, sqlite_warehouse):
    fake = make_fake("cloud")
    config = jira_config(fake)
    first = run(sqlite_warehouse, config)
    assert first.tables["incidents"].inserted == 4
    # The cursor is the newest `updated` read: OPS-5 at 11:10 and HELP-4/5 at 11:01 on Mar 5 (UTC).
    assert get_cursor(sqlite_warehouse, "jira", "incidents") == "2026-03-05T11:10:00.000+00:00"
    assert get_cursor(sqlite_warehouse, "jira", "tickets") == "2026-03-06T10:01:00.000+00:00"

    fake.requests.clear()
    second = run(sqlite_warehouse, config)
    searches = fake.searches()
    # One search per stream, bounded at cursor − 10 min in the user's zone (New York, UTC−5):
    # 11:10 UTC − 10 min = 06:00 EST; 10:01 UTC − 10 min = 04:51 EST.
    assert [s.arg("jql") for s in searches] == [
        f'({INCIDENT_JQL}) AND updated >= "2026-03-05 06:00" ORDER BY updated ASC, key ASC',
        f'({TICKET_JQL}) AND updated >= "2026-03-06 04:51" ORDER BY updated ASC, key ASC',
    ]
    # Inside the overlap: HELP-6 (written again, unchanged) and OPS-5 (still unreadable, reported again).
    assert {t: (c.inserted, c.updated, c.unchanged) for t, c in second.tables.items()} == {"tickets": (0, 0, 1)}
    assert [r.record_id for r in second.rejected] == ["jira:OPS-5"]

    # OPS-4 is resolved later: the next run reads only it (and the overlap) and MTTR moves.
    fake.touch("OPS-4", "2026-03-07 09:00", resolutiondate=jira_time("2026-03-05 12:00"),
               status={"name": "Done", "statusCategory": {"key": "done"}})
    third = run(sqlite_warehouse, config)
    assert third.tables["incidents"].updated == 1 and third.tables["incidents"].inserted == 0
    # Now 4, 1, 6 and 2 hours: mean 13/4.
    assert records(sqlite_warehouse)["mttr_hours", "all", None]["value"] == pytest.approx(13 / 4)


def test_server_resolution_from_the_changelog_reads_the_whole_changelog(make_fake, sqlite_warehouse):
    """resolved_from = "changelog": the first transition into a done status. The search result carries
    only the first history; the rest is read from the issue."""
    fake = make_fake("server", changelog_in_search=1)
    fake.add("OPS-8", created="2026-03-06 08:00", updated="2026-03-06 15:00", resolved="2026-03-06 14:00",
             components=["Web"], histories=[
                 {"id": "1", "created": jira_time("2026-03-06 08:05"),
                  "items": [{"field": "status", "fromString": "Open", "toString": "In Progress"}]},
                 {"id": "2", "created": jira_time("2026-03-06 10:00"),
                  "items": [{"field": "status", "fromString": "In Progress", "toString": "Resolved"}]},
                 {"id": "3", "created": jira_time("2026-03-06 11:00"),
                  "items": [{"field": "status", "fromString": "Resolved", "toString": "Reopened"}]},
                 {"id": "4", "created": jira_time("2026-03-06 14:00"),
                  "items": [{"field": "status", "fromString": "Reopened", "toString": "Done"}]},
             ])
    config = jira_config(fake, tickets=None, incidents={"resolved_from": "changelog"})
    report = run(sqlite_warehouse, config)
    assert report.error is None
    row = read_table(sqlite_warehouse, "incidents").filter(pl.col("id") == "jira:OPS-8").row(0, named=True)
    # First transition into a done status at 10:00, not the later resolutiondate (14:00).
    assert row["resolved_at"] == utc("2026-03-06 10:00")
    assert any(r.path == "/rest/api/2/issue/OPS-8" and r.arg("expand") == "changelog" for r in fake.requests)
    # OPS-1..3 have no changelog: done without a transition falls back to resolutiondate.
    assert read_table(sqlite_warehouse, "incidents").filter(pl.col("id") == "jira:OPS-2")["resolved_at"][0] == utc("2026-03-03 11:00")


def test_cloud_changelog_is_paged(make_fake, sqlite_warehouse):
    fake = make_fake("cloud", changelog_in_search=1)
    # 102 histories a minute apart from 08:00; only the last one moves the issue to Done.
    histories = [{"id": str(i), "items": [{"field": "status", "toString": "Done" if i == 101 else "In Progress"}],
                  "created": jira_time((dt.datetime(2026, 3, 6, 8) + dt.timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M"))}
                 for i in range(102)]
    fake.add("OPS-9", created="2026-03-06 07:00", updated="2026-03-06 12:00", resolved="2026-03-06 11:59",
             histories=histories)
    run(sqlite_warehouse, jira_config(fake, tickets=None, incidents={"resolved_from": "changelog"}))
    pages = [r for r in fake.requests if r.path == "/rest/api/2/issue/OPS-9/changelog"]
    assert [p.arg("startAt") for p in pages] == ["0", "100"]
    row = read_table(sqlite_warehouse, "incidents").filter(pl.col("id") == "jira:OPS-9").row(0, named=True)
    assert row["resolved_at"] == utc("2026-03-06 09:41")  # history 101: 08:00 + 101 min


def test_an_issue_edited_during_the_sync_does_not_hide_another(make_fake, sqlite_warehouse):
    """Offset paging would skip OPS-3 here: OPS-1 (page 1) is edited before page 2, moves to the end,
    and every later issue shifts up one place."""
    fake = make_fake("server")
    fake.before_search = lambda n: n == 2 and fake.touch("OPS-1", "2026-03-09 12:00")
    report = run(sqlite_warehouse, jira_config(fake, tickets=None))
    ids = sorted(read_table(sqlite_warehouse, "incidents")["id"].to_list())
    assert ids == ["jira:OPS-1", "jira:OPS-2", "jira:OPS-3", "jira:OPS-4"]
    assert get_cursor(sqlite_warehouse, "jira", "incidents") == "2026-03-09T12:00:00.000+00:00"
    assert report.tables["incidents"].inserted == 4


def test_429_and_503_are_retried_honouring_retry_after(make_fake, sqlite_warehouse):
    fake = make_fake("cloud")
    fake.fail("/serverInfo", 503)  # no Retry-After: backoff 0.25 s
    fake.fail("/search/jql", 429, retry_after="7")
    fake.fail("/search/jql", 503, retry_after="2")
    fake.fail("/search/jql", 502)  # the third retry of that one search, no Retry-After: 0.25·2² = 1 s
    waits: list[float] = []
    report = run(sqlite_warehouse, jira_config(fake), sleep=waits.append)
    assert report.error is None and report.tables["incidents"].inserted == 4
    assert waits == [0.25, 7.0, 2.0, 1.0]
    assert report.stats["calls"] == len(fake.requests)


def test_a_stream_that_keeps_failing_stops_alone_and_its_cursor_stays(make_fake, sqlite_warehouse):
    fake = make_fake("server")
    # The first incidents search fails 4 times (1 + 3 retries): the stream gives up; tickets still sync.
    fake.fail("/search", 500, times=4)
    waits: list[float] = []
    report = run(sqlite_warehouse, jira_config(fake), sleep=waits.append)
    assert report.status == "partial"
    assert waits == [0.25, 0.5, 1.0]  # doubling, capped by max_backoff_seconds = 1
    assert any("incidents: GET /rest/api/2/search: HTTP 500 after retries" in w for w in report.warnings)
    assert "incidents" not in report.tables and report.tables["tickets"].inserted == 6
    assert get_cursor(sqlite_warehouse, "jira", "incidents") is None

    fake.fail("/search", 503, times=10)
    failed = run(sqlite_warehouse, jira_config(fake, tickets=None), sleep=waits.append)
    assert failed.status == "failed" and "HTTP 503 after retries" in failed.error


def test_a_retry_after_longer_than_allowed_stops_the_stream(make_fake, sqlite_warehouse):
    fake = make_fake("cloud")
    fake.fail("/search/jql", 429, retry_after="3600")
    report = run(sqlite_warehouse, jira_config(fake, tickets=None, max_wait_seconds=60), sleep=lambda s: None)
    assert report.status == "failed" and "asked to wait 3600 s" in report.error


def test_a_custom_field_that_does_not_exist_is_an_error_naming_it(make_fake, sqlite_warehouse):
    fake = make_fake("cloud")
    report = run(sqlite_warehouse, jira_config(fake, tickets={"csat_field": "Customer Satisfaction"}))
    assert report.status == "partial" and report.tables["incidents"].inserted == 4
    assert any("jira.tickets.csat_field: no Jira field named 'Customer Satisfaction' (did you mean 'Satisfaction'?)"
               in w for w in report.warnings)
    assert read_table(sqlite_warehouse, "tickets").height == 0


@pytest.mark.parametrize("overrides, message", [
    ({"tickets": {"channel_map": {"Portal": "self-service"}}},
     "jira.tickets.channel_map.Portal: 'self-service' is not one of self_serve, ai_bot, human"),
    ({"incidents": {"jql": "project = OPS ORDER BY created"}}, "jira.incidents.jql: leave out ORDER BY"),
    ({"incidents": {"resolved_from": "transitions"}}, "jira.incidents.resolved_from must be"),
])
def test_bad_stream_settings_are_errors_naming_the_key(make_fake, sqlite_warehouse, overrides, message):
    fake = make_fake("cloud")
    report = run(sqlite_warehouse, jira_config(fake, **overrides))
    assert report.status == "partial" and any(message in w for w in report.warnings)


def test_cloud_without_an_email_says_how_to_authenticate(make_fake, sqlite_warehouse):
    fake = make_fake("cloud")
    report = run(sqlite_warehouse, jira_config(fake, email_env=None))
    assert report.status == "failed" and "set jira.email_env" in report.error


def test_explicit_deployment_setting_wins_over_server_info(make_fake, sqlite_warehouse):
    fake = make_fake("cloud")
    report = run(sqlite_warehouse, jira_config(fake, tickets=None, deployment="server"))
    # Told "server", it pages /search with startAt, which Jira Cloud has removed: the error says so.
    assert report.status == "failed"
    assert "GET /rest/api/2/search: HTTP 410: The requested API has been removed" in report.error


def test_without_the_users_time_zone_the_bound_widens_and_one_query_is_paged(make_fake, sqlite_warehouse):
    fake = make_fake("server")
    fake.faults.append(Fault("/rest/api/2/myself", 403, times=5))
    report = run(sqlite_warehouse, jira_config(fake, tickets=None))
    assert report.tables["incidents"].inserted == 4
    assert [s.arg("startAt") for s in fake.searches()] == ["0", "2", "4"]
    fake.requests.clear()
    run(sqlite_warehouse, jira_config(fake, tickets=None))
    # Cursor 11:10 UTC − 10 min − 12 h, written in UTC.
    assert fake.searches()[0].arg("jql") == (
        f'({INCIDENT_JQL}) AND updated >= "2026-03-04 23:00" ORDER BY updated ASC, key ASC')
