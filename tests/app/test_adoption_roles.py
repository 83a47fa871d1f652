"""Privacy by role on the Adoption page: per-person rows only for admins and analysts, a team lead only
their teams' people (whatever the URL asks), a viewer aggregates only — by page, URL and download."""
from __future__ import annotations

import datetime as dt

import polars as pl

from app.views.adoption import by_api_key, by_team_and_tool, per_person
from governance.access import User
from reports.adoption_data import Adoption
from reports.filters import Filters
from reports.scope import adoption_rows
from tests.app.test_access import run, shown_frames, signed_in_env  # noqa: F401 - the module's fixture

D = dt.date


def downloads(at) -> list[str]:
    return [d.proto.id.rsplit("-", 1)[-1] for d in at.get("download_button")]


def person_frames(at) -> list[pl.DataFrame]:
    return [f for f in shown_frames(at) if "person" in f.columns or "vendor_user" in f.columns]


def test_viewer_sees_aggregates_and_no_person(signed_in_env):  # noqa: F811
    at = run("vp@acme.example", "adoption")
    assert [m.label for m in at.metric] == ["Seats", "Active users", "Acceptance", "Per-person cost"]
    assert person_frames(at) == []
    assert not [s for s in at.subheader if s.value in ("People", "Vendor users matched to no person")]
    teams = next(f for f in shown_frames(at) if "active_users" in f.columns)
    assert set(teams["team"]) >= {"payments", "web"}  # every team's aggregates, as on the scorecard
    text = " ".join(str(f.to_dicts()) for f in shown_frames(at))
    assert "@acme.example" not in text and "-dev" not in text  # no e-mail, no login anywhere
    assert downloads(at) == ["dl_adoption_teams", "dl_tool_spend"]  # no per-person download


def test_team_lead_sees_only_their_teams_people_even_when_the_url_asks_for_another(signed_in_env):  # noqa: F811
    for params in ({}, {"team": "web"}):
        at = run("maya@acme.example", "adoption", **params)
        people = next(f for f in shown_frames(at) if "person" in f.columns)
        assert people.height > 0 and set(people["team"]) == {"payments"}
        assert all(p.startswith("payments-") for p in people["person"])
        teams = next(f for f in shown_frames(at) if "active_users" in f.columns)
        assert set(teams["team"]) == {"payments"}
        assert not [f for f in shown_frames(at) if "reason" in f.columns]  # the unmatched list names outsiders
        assert "dl_adoption_people" in downloads(at)  # what it downloads is the table above: payments only


def test_analyst_and_admin_see_every_person_and_the_unmatched(signed_in_env):  # noqa: F811
    for email in ("ann@acme.example", "dana@acme.example"):
        at = run(email, "adoption")
        people = next(f for f in shown_frames(at) if "person" in f.columns)
        assert set(people["team"]) >= {"payments", "web", "mobile"}
        unmatched = next(f for f in shown_frames(at) if "reason" in f.columns)
        assert unmatched["vendor_user"].to_list() == ["temp.contractor@agency.example"]
        assert downloads(at) == ["dl_adoption_teams", "dl_adoption_people", "dl_tool_spend"]


USAGE = pl.DataFrame({
    "date": [D(2026, 3, 2)] * 6, "tool": ["cursor", "cursor", "claude-code", "cursor", "openai", "openai"],
    "vendor_user": ["ana@x", "bo@x", "ana@x", "eve@y", "user-ana", "api_key:key_svc"],
    "person": ["ana", "bo", "ana", None, "ana", None],
    "team": ["payments", "web", "payments", "unassigned", "payments", "unassigned"], "active": [True] * 6,
    "engaged": [True, False, True, True, True, True],
    "used_chat": [True, False, None, True, None, None], "used_agent": [False, False, None, True, None, None],
    "used_cli": [None] * 6,
    "suggestions": [10, 4, 0, 2, None, None], "acceptances": [5, 1, 0, 2, None, None],
    "lines_added": [100, 5, 300, 7, None, None], "requests": [None, None, None, None, 12, 40],
    "tokens": [None, None, None, None, 1500, 5900], "api_key": [None, None, None, None, "key_ana", "key_svc"],
    "cost_usd": [1.5, 0.5, 3.0, 0.2, 1.285, 3.855],  # OpenAI: shares of the project's cost (openai_allocation)
})
FILTERS = Filters(grain="week", start=D(2026, 3, 2), end=D(2026, 3, 8), team=None)
# eve@y is the one vendor user matched to no person.
DATA = Adoption(usage=USAGE, unmatched=pl.DataFrame({"vendor_user": ["eve@y"]}), seats=pl.DataFrame(),
                spend=pl.DataFrame(), ai_tools=None)


def test_scope_by_role_on_inline_rows():
    def user(role, teams=()):
        # What app/state.py gives the page of the signed-in user: the rows reports/scope.py narrows.
        u = User("someone@acme.example", "oidc", role, frozenset(teams))
        return adoption_rows(DATA, u.people_teams, u.aggregate_teams)

    analyst, lead, viewer = user("analyst"), user("team_lead", ["payments"]), user("viewer")
    # ana: cursor 10 suggested, 5 accepted (50 %); claude-code nothing suggested (no rate). The unmatched
    # vendor user is never a person.
    assert per_person(analyst.people_usage, FILTERS).select("person", "tool", "acceptance_rate", "cost_usd").rows() == [
        ("ana", "claude-code", None, 3.0), ("ana", "cursor", 0.5, 1.5), ("ana", "openai", None, 1.285),
        ("bo", "cursor", 0.25, 0.5)]
    assert per_person(lead.people_usage, FILTERS)["person"].unique().to_list() == ["ana"]
    assert per_person(viewer.people_usage, FILTERS).height == 0
    # A viewer still sees every team's aggregates; a team lead their own team's.
    assert by_team_and_tool(viewer.team_usage, FILTERS)["team"].unique().sort().to_list() == ["payments", "unassigned", "web"]
    assert by_team_and_tool(lead.team_usage, FILTERS)["team"].unique().to_list() == ["payments"]
    assert (analyst.unmatched.height, lead.unmatched.height, viewer.unmatched.height) == (1, 0, 0)
    assert (analyst.sees_people, lead.sees_people, viewer.sees_people) == (True, True, False)
    # Chat / agent users from the vendors' flags; a tool without the flag shows none (not 0).
    teams = {(r["team"], r["tool"]): r for r in by_team_and_tool(analyst.team_usage, FILTERS).iter_rows(named=True)}
    assert [(teams["payments", "cursor"][k], teams["unassigned", "cursor"][k]) for k in ("chat_users", "agent_users")] == [
        (1, 1), (0, 1)]
    assert (teams["payments", "claude-code"]["chat_users"], teams["payments", "cursor"]["cli_users"]) == (None, None)
    # Spend by API key: names who used it, so only for those who see people, and only their teams' keys.
    assert by_api_key(analyst.people_usage, FILTERS).rows() == [
        ("unassigned", "openai", "key_svc", 1, 40, 5900, 3.855), ("payments", "openai", "key_ana", 1, 12, 1500, 1.285)]
    assert by_api_key(lead.people_usage, FILTERS)["api_key"].to_list() == ["key_ana"]
    assert by_api_key(viewer.people_usage, FILTERS).height == 0


def test_segment_shares_put_cohort_segments_beside_ai_and_non_ai():
    from app.views.adoption import segment_shares

    events = pl.DataFrame({"segment": ["ai", "ai", "non_ai", "cohort:heavy", "cohort:heavy", "cohort:none"],
                           "hit": [True, False, False, True, True, False]})
    out = segment_shares(events, min_sample=2)
    # ai 1 of 2 = 0.5; non_ai and cohort:none have 1 PR each (< min_sample 2): no share; heavy 2 of 2 = 1.0.
    assert out.select("segment", "n", "value").rows() == [
        ("ai", 2, 0.5), ("non_ai", 1, None), ("cohort:none", 1, None), ("cohort:heavy", 2, 1.0)]
    heavy = out.row(3, named=True)
    assert heavy["ci_low"] < 1.0 and heavy["ci_high"] == 1.0
