"""The PagerDuty connector against a fake PagerDuty over TLS, through the real `pagerduty` client:
rows, the MTTR records they give, windows and paging, look-back, retries, resume after a kill."""
from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from metrics.scorecard import compute
from pipeline import run_source
from reports.data import load_evidence
from tests.connectors.pagerduty.conftest import NOW, pd_config
from warehouse import read_table
from warehouse.runs import get_cursor

run = partial(run_source, source="pagerduty")  # run(warehouse, config, **test hooks)

WEEK = dt.date(2026, 3, 2)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


def stamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def mttr(warehouse, config) -> dict:
    out = compute(load_evidence(warehouse), config, grain="week", start=WEEK, end=WEEK, metrics=["mttr_hours"])
    return {(r["segment"], r["team"]): r for r in out.iter_rows(named=True)}


def test_sync_fills_incidents_that_give_the_hand_worked_mttr(fake_pd, cert, warehouse):
    config = pd_config(fake_pd, cert)
    report = run(warehouse, config, now=NOW)

    assert report.status == "partial" and report.error is None  # partial: Q5 is unreadable
    assert report.tables["incidents"].inserted == 5
    assert [(r.record_id, r.reason) for r in report.rejected] == [
        ("pagerduty:Q5", "created_at 'yesterday' is not a date-time")]
    rows = read_table(warehouse, "incidents").sort("started_at")
    assert rows.select("id", "team", "service", "severity", "started_at", "resolved_at", "ai_assisted").rows() == [
        ("pagerduty:Q6", "payments", "Payments API", "sev1", utc("2026-02-10 09:00"), utc("2026-02-10 10:00"), False),
        # The service mapping wins over the incident's PagerDuty team ("Payments Team").
        ("pagerduty:Q1", "payments", "Payments API", "sev1", utc("2026-03-02 10:00"), utc("2026-03-02 12:00"), False),
        ("pagerduty:Q2", "web", "Web frontend", "sev3", utc("2026-03-03 08:00"), utc("2026-03-03 08:30"), False),
        ("pagerduty:Q3", None, "Database", "sev1", utc("2026-03-04 10:00"), utc("2026-03-04 13:30"), False),
        ("pagerduty:Q4", None, "Web frontend", "sev1", utc("2026-03-05 10:00"), None, False),
    ]
    assert rows["url"][1] == "https://acme.pagerduty.com/incidents/Q1"

    r = mttr(warehouse, config)
    # Resolved in the week: 2 h, 0.5 h, 3.5 h → mean 2.0, median 2.0, p90 = 2 + 0.8·(3.5 − 2) = 3.2.
    org = r["all", None]
    assert (org["n"], org["value"], org["median"], org["p90"]) == (3, pytest.approx(2.0), 2.0, pytest.approx(3.2))
    # Q3 has no team from PagerDuty: [teams.platform] services = ["Database"] gives it one.
    assert {team: r["all", team]["value"] for team in ("payments", "web", "platform")} == {
        "payments": pytest.approx(2.0), "web": pytest.approx(0.5), "platform": pytest.approx(3.5)}

    # Windows of at most 30 days from the start date to now, contiguous; paged by limit/offset.
    listed = fake_pd.listed()
    windows = sorted({(stamp(q.arg("since")), stamp(q.arg("until"))) for q in listed})
    assert windows[0][0] == utc("2026-01-01 00:00") and windows[-1][1] == NOW
    assert all(until - since <= dt.timedelta(days=30) for since, until in windows)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    # Jan 1–31: nothing; Jan 31–Mar 2: Q6; Mar 2–10: Q1..Q5 in pages of 2 → 1 + 1 + 3 requests.
    assert [(q.arg("since")[:10], q.arg("offset")) for q in listed] == [
        ("2026-01-01", "0"), ("2026-01-31", "0"), ("2026-03-02", "0"), ("2026-03-02", "2"), ("2026-03-02", "4")]
    assert report.stats["calls"] == 5
    assert get_cursor(warehouse, "pagerduty", "incidents") == NOW.isoformat()


def test_rerun_reads_only_the_look_back_and_sees_late_resolutions(fake_pd, cert, sqlite_warehouse):
    config = pd_config(fake_pd, cert)
    run(sqlite_warehouse, config, now=NOW)
    fake_pd.requests.clear()

    again = run(sqlite_warehouse, config, now=NOW)
    # PagerDuty filters by creation time only: the rerun reads the 30-day look-back before the cursor
    # (Feb 8 to Mar 10, one window, 6 incidents in 3 pages) and writes nothing.
    assert {(q.arg("since"), q.arg("until")) for q in fake_pd.listed()} == {
        ("2026-02-08T00:00:00+00:00", "2026-03-10T00:00:00+00:00")}
    assert len(fake_pd.listed()) == 3
    assert (again.tables["incidents"].inserted, again.tables["incidents"].updated) == (0, 0)

    fake_pd.resolve("Q4", "2026-03-05 14:00")
    later = run(sqlite_warehouse, config, now=NOW + dt.timedelta(days=2))
    assert later.tables["incidents"].updated == 1
    # Now 2, 0.5, 3.5 and 4 hours: mean 10/4 = 2.5.
    assert mttr(sqlite_warehouse, config)["all", None]["value"] == pytest.approx(2.5)
    assert get_cursor(sqlite_warehouse, "pagerduty", "incidents") == "2026-03-12T00:00:00+00:00"


def test_429_503_and_500_are_retried_and_retry_after_is_honoured(fake_pd, cert, sqlite_warehouse):
    fake_pd.fail(429, retry_after="3")
    fake_pd.fail(503)
    fake_pd.fail(500)
    waits: list[float] = []
    report = run(sqlite_warehouse, pd_config(fake_pd, cert), now=NOW, sleep=waits.append)
    assert report.error is None and report.tables["incidents"].inserted == 5
    assert waits == [3.0]  # what Retry-After asked; the client's own backoff is configured to 0 here
    assert report.stats["calls"] == 5 + 3


def test_a_server_that_keeps_failing_fails_the_run_and_keeps_the_cursor(fake_pd, cert, sqlite_warehouse):
    fake_pd.fail(503, times=10)
    report = run(sqlite_warehouse, pd_config(fake_pd, cert), now=NOW, sleep=lambda s: None)
    assert report.status == "failed"
    assert report.error == "PagerDutyError: GET /incidents: HTTP 503 after retries: Internal Server Error"
    assert len(fake_pd.listed()) == 4  # the first try and 3 retries
    assert get_cursor(sqlite_warehouse, "pagerduty", "incidents") is None
    assert read_table(sqlite_warehouse, "incidents").height == 0


def test_a_retry_after_longer_than_allowed_stops_the_run(fake_pd, cert, sqlite_warehouse):
    fake_pd.fail(429, retry_after="7200")
    report = run(sqlite_warehouse, pd_config(fake_pd, cert, max_wait_seconds=600), now=NOW, sleep=lambda s: None)
    assert report.status == "failed" and "asked to wait 7200 s" in report.error


class KilledAfter:
    """A progress bar that kills the run (as Ctrl-C or SIGKILL would) after `n` committed batches."""

    def __init__(self, n: int):
        self.n = n

    def update(self, done, total, message):
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt


def test_resume_after_a_kill_loses_and_duplicates_nothing(fake_pd, cert, sqlite_warehouse):
    config = pd_config(fake_pd, cert)
    with pytest.raises(KeyboardInterrupt):
        # Batches: Jan 1–31 (empty), Jan 31–Mar 2 (Q6), then the first page of Mar 2–10 (Q1, Q2).
        run(sqlite_warehouse, config, now=NOW, progress=KilledAfter(3))
    assert sorted(read_table(sqlite_warehouse, "incidents")["id"]) == ["pagerduty:Q1", "pagerduty:Q2", "pagerduty:Q6"]
    # The cursor covers only complete windows: Mar 2, not the half-read last window.
    assert get_cursor(sqlite_warehouse, "pagerduty", "incidents") == "2026-03-02T00:00:00+00:00"

    fake_pd.requests.clear()
    resumed = run(sqlite_warehouse, config, now=NOW)
    assert stamp(fake_pd.listed()[0].arg("since")) == utc("2026-01-31 00:00")  # Mar 2 less 30 days
    assert (resumed.tables["incidents"].inserted, resumed.tables["incidents"].unchanged) == (2, 3)
    ids = read_table(sqlite_warehouse, "incidents")["id"].to_list()
    assert sorted(ids) == ["pagerduty:Q1", "pagerduty:Q2", "pagerduty:Q3", "pagerduty:Q4", "pagerduty:Q6"]


def test_only_the_configured_services_are_read(fake_pd, cert, sqlite_warehouse):
    report = run(sqlite_warehouse, pd_config(fake_pd, cert, service_ids=["WEBSVC2"]), now=NOW)
    assert all(q.query["service_ids[]"] == ["WEBSVC2"] for q in fake_pd.listed())
    assert report.tables["incidents"].inserted == 2  # Q2 and Q4 (Q5 is unreadable)
    assert sorted(read_table(sqlite_warehouse, "incidents")["id"]) == ["pagerduty:Q2", "pagerduty:Q4"]


def test_a_plain_http_base_url_is_refused_with_a_message(fake_pd, cert, sqlite_warehouse):
    report = run(sqlite_warehouse, pd_config(fake_pd, cert, base_url="http://127.0.0.1:9"), now=NOW)
    assert report.status == "failed" and "pagerduty.base_url must start with https://" in report.error


def test_without_the_api_key_the_error_names_the_variable(fake_pd, cert, sqlite_warehouse, monkeypatch):
    monkeypatch.delenv("TEST_PD_KEY")
    report = run(sqlite_warehouse, pd_config(fake_pd, cert), now=NOW)
    assert report.status == "failed" and "$TEST_PD_KEY is not set" in report.error
    assert fake_pd.requests == []


def test_past_the_offset_limit_a_window_restarts_from_the_newest_creation_time(fake_pd, cert, sqlite_warehouse,
                                                                             monkeypatch):
    import connectors.pagerduty.sync as pagerduty_sync

    # PagerDuty stops classic pagination at offset 10,000; here at 4, with pages of 2.
    fake_pd.max_offset = 4
    monkeypatch.setattr(pagerduty_sync, "OFFSET_LIMIT", 4)
    report = run(sqlite_warehouse, pd_config(fake_pd, cert), now=NOW)
    assert report.error is None and report.tables["incidents"].inserted == 5
    last_window = [(q.arg("since"), q.arg("offset")) for q in fake_pd.listed() if q.arg("until").startswith("2026-03-10")]
    # Q1, Q2 | Q3, Q4 | then from Q4's creation time again: Q4 (read twice, one row) and Q5.
    assert last_window == [("2026-03-02T00:00:00+00:00", "0"), ("2026-03-02T00:00:00+00:00", "2"),
                           ("2026-03-05T10:00:00+00:00", "0")]


@pytest.mark.parametrize(("field", "mapping", "expected"), [
    # Urgency (the default): high → sev1, low → sev3 by severity_by_urgency; the urgency kept beside.
    ("urgency", {}, [("pagerduty:Q6", "sev1", "high"), ("pagerduty:Q1", "sev1", "high"), ("pagerduty:Q2", "sev3", "low"),
                     ("pagerduty:Q3", "sev1", "high"), ("pagerduty:Q4", "sev1", "high")]),
    # Priority: P1 → sev1 by severity_by_priority, P2/P3 unmapped stay as they are, Q4 has none.
    ("priority", {"severity_by_priority": {"p1": "sev1"}},
     [("pagerduty:Q6", "P2", "P2"), ("pagerduty:Q1", "sev1", "P1"), ("pagerduty:Q2", "P3", "P3"),
      ("pagerduty:Q3", "sev1", "P1"), ("pagerduty:Q4", None, None)]),
])
def test_severity_comes_from_the_configured_field_and_the_original_is_kept(fake_pd, cert, warehouse, field, mapping,
                                                                           expected):
    config = pd_config(fake_pd, cert, severity_field=field, **mapping)
    assert run(warehouse, config, now=NOW).status == "partial"  # Q5 is unreadable, as always
    rows = read_table(warehouse, "incidents").sort("started_at")
    assert rows.select("id", "severity", "original_severity").rows() == expected


def test_an_unknown_severity_field_fails_the_sync_naming_the_key(fake_pd, cert, warehouse):
    report = run(warehouse, pd_config(fake_pd, cert, severity_field="impact"), now=NOW)
    assert report.status == "failed" and "pagerduty.severity_field must be one of urgency, priority" in report.error
