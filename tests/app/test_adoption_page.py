"""The Adoption page on the demo warehouse (three tools used per person), through AppTest."""
from __future__ import annotations

import polars as pl

from tests.app.conftest import run_app


def frames(at) -> list[pl.DataFrame]:
    return [pl.from_pandas(df.value.data if hasattr(df.value, "data") else df.value) for df in at.dataframe]


def test_adoption_page_on_the_demo(demo_env):
    at = run_app("adoption")
    assert [m.label for m in at.metric] == ["Seats", "Active users", "Acceptance", "Per-person cost"]
    values = {m.label: m.value for m in at.metric}
    # The demo's Copilot seats: 10 per team on the last day, 6 teams.
    assert values["Seats"] == "60"
    assert int(values["Active users"].replace(",", "")) > 48  # 48 engineers on Copilot, some also on other tools
    shown = frames(at)
    teams = next(f for f in shown if {"team", "tool", "active_users"} <= set(f.columns))
    assert set(teams["tool"]) == {"github-copilot", "cursor", "claude-code"}
    assert set(teams["team"]) >= {"payments", "web", "unassigned"}  # the contractor is unassigned
    people = next(f for f in shown if "person" in f.columns and "active_days" in f.columns)
    assert people.height > 0 and "email" not in people.columns
    unmatched = next(f for f in shown if "reason" in f.columns)
    assert unmatched["vendor_user"].to_list() == ["temp.contractor@agency.example"]
    cohorts = next(f for f in shown if {"cohort", "phase", "share"} <= set(f.columns))
    assert cohorts.height == 8 and set(cohorts["status"]) <= {"ok", "not enough data"}
    assert (cohorts["status"] == "ok").any()
    lead = next(f for f in shown if {"cohort", "phase", "mean_hours"} <= set(f.columns))
    assert lead.height == 8 and (lead["status"] == "ok").any()
    assert (lead.filter(lead["status"] == "ok")["mean_hours"] > 0).all()
    spend = next(f for f in shown if {"tool", "model", "sources"} <= set(f.columns))
    assert spend.height > 0
    assert len(at.get("plotly_chart")) == 1  # rollback share by segment, cohort:<name> beside ai / non_ai
    assert not at.exception
