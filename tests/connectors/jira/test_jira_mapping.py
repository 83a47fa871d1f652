"""Reading Jira values and writing JQL bounds, without a server."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from connectors.jira.client import JiraError, jql_time, resolve_fields
from connectors.jira.mapping import csat_of, flag_of, text_of

FIELDS = [{"id": "priority", "name": "Priority"}, {"id": "customfield_1", "name": "Severity"},
          {"id": "customfield_2", "name": "Team"}, {"id": "customfield_3", "name": "Team"}]


@pytest.mark.parametrize("value, text", [
    ({"requestType": {"name": "Get IT help"}, "_links": {}}, "Get IT help"),  # JSM request type
    ({"value": "Sev 1", "id": "10"}, "Sev 1"),  # select option
    ({"name": "High"}, "High"),  # priority, component
    ({"displayName": "Dana"}, "Dana"),  # user
    ([{"value": ""}, {"value": "Agent"}], "Agent"),  # multi-select: the first non-empty
    ("  portal ", "portal"), (3, "3"), (None, None), ({}, None), ([], None),
])
def test_text_of_reads_every_shape(value, text):
    assert text_of(value) == text


@pytest.mark.parametrize("value, expected", [
    ({"rating": 4, "_links": {}}, (4.0, True)), (5, (5.0, True)), ("2", (2.0, True)), ({"value": "3"}, (3.0, True)),
    (None, (None, True)), ({"rating": 9}, (None, False)), (0, (None, False)), ("great", (None, False)),
])
def test_csat_is_a_score_from_1_to_5(value, expected):
    assert csat_of(value) == expected


def test_flags_read_yes_and_no_and_nothing_else():
    assert [flag_of(v) for v in ({"value": "Yes"}, "no", [{"value": "true"}], "maybe", None)] == [
        True, False, True, None, None]


def test_fields_resolve_by_name_or_id_and_ambiguity_is_an_error():
    assert resolve_fields({"a": "severity", "b": "priority"}, FIELDS) == {"a": "customfield_1", "b": "priority"}
    with pytest.raises(JiraError, match=r"x: several Jira fields are named 'Team' \(customfield_2, customfield_3\)"):
        resolve_fields({"x": "Team"}, FIELDS)


NEW_YORK = ZoneInfo("America/New_York")


def test_jql_bounds_are_minutes_in_the_users_zone_rounded_down():
    assert jql_time(dt.datetime(2026, 3, 5, 11, 10, 59, tzinfo=dt.timezone.utc), NEW_YORK) == "2026-03-05 06:10"
    # Without the user's zone: UTC, 12 hours early (Jira may read the literal in any offset down to −12).
    assert jql_time(dt.datetime(2026, 3, 5, 11, 10, tzinfo=dt.timezone.utc), None) == "2026-03-04 23:10"


def test_jql_bound_in_a_daylight_saving_fold_goes_an_hour_earlier():
    # 05:30 UTC on 2026-11-01 is 01:30 EDT; "01:30" also names 06:30 UTC (EST), which Jira may read.
    # One hour earlier, 00:30, is before both.
    assert jql_time(dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.timezone.utc), NEW_YORK) == "2026-11-01 00:30"
    assert jql_time(dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.timezone.utc), NEW_YORK) == "2026-11-01 02:30"


def _ticket(key: str, **fields):
    return {"key": key, "fields": {"created": "2026-03-02T10:00:00.000+0000", "status": {"name": "Done"},
                                   "resolutiondate": "2026-03-03T10:00:00.000+0000", **fields}}


def test_a_ticket_without_created_is_unreadable_like_an_incident_without_a_start():
    import pytest

    from config.model import JiraTicketsConfig
    from connectors.jira.mapping import Notes, Unreadable, ticket_row

    config = JiraTicketsConfig(jql="project = HELP", csat_field="")
    issue = _ticket("HELP-9")
    del issue["fields"]["created"]
    with pytest.raises(Unreadable, match="no `created`"):
        ticket_row(issue, config, {"channel_field": "customfield_1"}, histories=None, notes=Notes())


def test_an_open_ticket_has_no_channel_and_no_warning_and_keeps_the_sources_value():
    from config.model import JiraTicketsConfig
    from connectors.jira.mapping import Notes, ticket_row

    config = JiraTicketsConfig(jql="project = HELP", csat_field="", channel_map={"Virtual agent": "ai_bot"})
    ids = {"channel_field": "customfield_1"}
    notes = Notes()
    open_ticket = _ticket("HELP-1", resolutiondate=None, status={"name": "Open"})
    row = ticket_row(open_ticket, config, ids, histories=None, notes=notes)
    assert (row["channel"], row["original_channel"], row["resolved_at"]) == (None, None, None)
    assert notes.warnings("tickets", "human") == []
    resolved = ticket_row(_ticket("HELP-2", customfield_1={"value": "Virtual agent"}), config, ids, histories=None,
                          notes=notes)
    assert (resolved["channel"], resolved["original_channel"]) == ("ai_bot", "Virtual agent")
    # A resolved ticket with no channel value is still a warning (counted as the default channel).
    unmapped = ticket_row(_ticket("HELP-3"), config, ids, histories=None, notes=notes)
    assert unmapped["channel"] == "human" and "'(empty)' ×1" in notes.warnings("tickets", "human")[0]
