"""The adoption panel's numbers from ai_usage, worked out by hand."""
import datetime as dt

import polars as pl
import pytest

from app.views.adoption_panel import adoption


def usage(rows):
    return pl.DataFrame(rows, orient="row", schema={"date": pl.Date, "team": pl.String, "tool": pl.String, "seats": pl.Int64,
                                      "active_users": pl.Int64, "engaged_users": pl.Int64, "suggestions": pl.Int64,
                                      "acceptances": pl.Int64, "prs_created_by_agent": pl.Int64})


D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 9)
ROWS = usage([
    (D1, "payments", "copilot", 10, 6, 4, 100, 30, 1),
    (D2, "payments", "copilot", 12, 8, 6, 200, 50, 2),
    (D1, "web", "copilot", 5, 5, 5, 50, 25, 0),
    (D3, "web", "copilot", 5, 1, 1, 10, 1, 9),  # outside the window below
])


def test_adoption_per_team_and_for_the_whole_org():
    out = adoption(ROWS, D1, D2)
    assert out["team"].to_list() == ["All teams", "payments", "web"]
    org, pay, web = out.rows(named=True)
    # payments: seats on its last day (Mar 3) 12; active mean (6 + 8) / 2 = 7; engaged (4 + 6) / 2 = 5;
    # acceptance (30 + 50) / (100 + 200) = 0.2667; agent PRs 1 + 2 = 3; active share 7 / 12 = 0.583.
    assert (pay["seats"], pay["active_users"], pay["engaged_users"], pay["agent_prs"]) == (12, 7, 5, 3)
    assert pay["acceptance_rate"] == pytest.approx(80 / 300) and pay["active_share"] == pytest.approx(7 / 12)
    # Whole org per day: Mar 2 seats 15, active 11; Mar 3 seats 12, active 8 (web has no row that day).
    # Seats on the last day 12; active mean (11 + 8) / 2 = 9.5 → 10 (rounded half to even: 10);
    # acceptance (30 + 50 + 25) / (100 + 200 + 50) = 0.3; agent PRs 3.
    assert (org["seats"], org["active_users"], org["agent_prs"]) == (12, 10, 3)
    assert org["acceptance_rate"] == pytest.approx(0.3)
    assert web["seats"] == 5 and web["agent_prs"] == 0


def test_one_team_and_an_empty_window():
    assert adoption(ROWS, D1, D2, team="web")["team"].to_list() == ["web"]
    assert adoption(ROWS, dt.date(2025, 1, 1), dt.date(2025, 1, 7)).height == 0
