"""The Adoption page's tiles, worked out by hand: seats come from the tools that report them, active users
from every tool, so the users may outnumber the seats and the tiles say which tools each counts."""
import datetime as dt

import polars as pl

from app.views.adoption import tiles
from reports.filters import Filters

MON, TUE, NEXT_MON = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 9)
WEEK = Filters("week", MON, MON)  # the week of 2 Mar 2026 only

USAGE = pl.DataFrame([
    # date, team, tool, vendor_user, active, suggestions, acceptances, cost_usd
    (MON, "payments", "github-copilot", "ana", True, 100, 30, None),
    (TUE, "payments", "github-copilot", "ana", True, 100, 20, None),
    (TUE, "payments", "cursor", "ana", True, 50, 10, 4.0),
    (TUE, "web", "cursor", "bo", True, None, None, 6.0),
    (TUE, "web", "claude-code", "cy", False, None, None, 1.5),
    (NEXT_MON, "web", "cursor", "dee", True, 10, 10, 9.0),  # the next week: outside the range
], orient="row", schema={"date": pl.Date, "team": pl.String, "tool": pl.String, "vendor_user": pl.String,
                         "active": pl.Boolean, "suggestions": pl.Int64, "acceptances": pl.Int64, "cost_usd": pl.Float64})

SEATS = pl.DataFrame([
    (MON, "payments", "github-copilot", 10),
    (TUE, "payments", "github-copilot", 12),
    (TUE, "web", "github-copilot", 5),
    (TUE, "web", "cursor", None),  # Cursor reports no seats
    (NEXT_MON, "web", "github-copilot", 99),
], orient="row", schema={"date": pl.Date, "team": pl.String, "tool": pl.String, "seats": pl.Int64})


def test_seats_of_the_tools_that_report_them_beside_users_of_every_tool():
    t = tiles(USAGE, SEATS, WEEK)
    # Seats: the last day in range with a seat count is Tue 3 Mar: payments 12 + web 5 = 17, Copilot only.
    assert (t["seats"], t["seat_tools"], t["seats_day"]) == (17, ["github-copilot"], TUE)
    # Active users per tool: Copilot {ana}, Cursor {ana, bo}; cy was not active; dee is outside: 3.
    assert t["active_users"] == 3
    # Acceptance (30 + 20 + 10) / (100 + 100 + 50) = 0.24; cost 4.0 + 6.0 + 1.5 = 11.5.
    assert t["acceptance_rate"] == 60 / 250
    assert t["cost_usd"] == 11.5


def test_no_tool_reports_seats_in_range():
    t = tiles(USAGE, SEATS.filter(pl.col("tool") == "cursor"), WEEK)
    assert (t["seats"], t["seat_tools"], t["seats_day"]) == (None, [], None)
