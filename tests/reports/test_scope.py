"""Row scope (reports/scope.py): what a restricted user keeps of each kind of read, by hand."""
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from reports.alerts import SpendAlerts
from reports.scope import export_rows, spend_alert_rows, team_rows

ROWS = pl.DataFrame({"team": ["payments", "web", None], "n": [1, 2, 3]})


def test_everyone_who_sees_every_team_keeps_every_row():
    assert_frame_equal(team_rows(ROWS, None), ROWS)
    assert_frame_equal(export_rows(ROWS, None, metric_records=False), ROWS)


def test_a_team_lead_keeps_their_teams_rows_and_metric_records_keep_the_whole_org():
    assert team_rows(ROWS, ("payments",))["n"].to_list() == [1]
    assert export_rows(ROWS, ("payments",), metric_records=False)["n"].to_list() == [1]
    # A metric record with team null is the whole organisation's aggregate: every role sees it.
    assert export_rows(ROWS, ("payments",), metric_records=True)["n"].to_list() == [1, 3]


def test_a_table_without_a_team_column_is_empty_for_a_restricted_user():
    links = pl.DataFrame({"deployment_id": ["d1"], "pr_id": ["p1"]})
    assert export_rows(links, ("payments",), metric_records=False).height == 0
    assert team_rows(links, ("payments",)).columns == ["deployment_id", "pr_id"]


def test_spend_alerts_and_budgets_keep_the_users_teams():
    alerts = pl.DataFrame({"id": ["a1", "a2"], "team": ["payments", "web"]})
    budgets = pl.DataFrame({"team": ["payments", "web"], "budget_usd": [3000.0, 1000.0]})
    result = spend_alert_rows(SpendAlerts(dt.date(2026, 11, 2), alerts, budgets), ("web",))
    assert result.as_of == dt.date(2026, 11, 2)
    assert result.alerts["id"].to_list() == ["a2"]
    assert result.budgets["budget_usd"].to_list() == [1000.0]
