"""The Adoption page on the demo warehouse (three tools used per person), through AppTest."""
from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from app.views.adoption import cohorts_compared
from metrics.lead_time import lead_time_events
from metrics.rework import rework_events
from metrics.scorecard import prepare
from metrics.tool_economics import tool_economics
from reports.adoption_data import load_adoption
from reports.data import load_evidence
from reports import scope
from reports.filters import Filters
from tests.app.conftest import DEMO_END, run_app
from warehouse import open_warehouse


def frames(at) -> list[pl.DataFrame]:
    return [pl.from_pandas(df.value.data if hasattr(df.value, "data") else df.value) for df in at.dataframe]


def test_adoption_page_on_the_demo(demo_env):
    at = run_app("adoption")
    assert [m.label for m in at.metric] == ["Seats", "Active users", "Acceptance", "Per-person cost"]
    values = {m.label: m.value for m in at.metric}
    # The demo's Copilot seats: 10 per team on the last day, 6 teams.
    assert values["Seats"] == "60"
    # Each tile says what it counts: the seats are Copilot's on the demo's last day, the users any tool's.
    captions = [c.value for c in at.caption]
    assert (f"Seats: those of github-copilot on {DEMO_END.day} {DEMO_END.strftime('%b %Y')}. "
            "Active users: on any tool, with a seat or not.") in captions
    assert int(values["Active users"].replace(",", "")) > 48  # 48 engineers on Copilot, some also on other tools
    shown = frames(at)
    teams = next(f for f in shown if {"team", "tool", "active_users"} <= set(f.columns))
    assert set(teams["tool"]) == {"github-copilot", "cursor", "claude-code"}
    assert set(teams["team"]) >= {"payments", "web", "unassigned"}  # the contractor is unassigned
    # Chat and agent users where the vendor flags them (Copilot, Cursor); Claude Code has no such flag: none.
    for tool in ("github-copilot", "cursor"):
        rows = teams.filter(pl.col("tool") == tool)
        assert sum(number(v) or 0 for v in rows["chat_users"]) > 0 and sum(number(v) or 0 for v in rows["agent_users"]) > 0
    assert all(number(v) is None for v in teams.filter(pl.col("tool") == "claude-code")["chat_users"])
    people = next(f for f in shown if "person" in f.columns and "active_days" in f.columns)
    assert people.height > 0 and "email" not in people.columns
    unmatched = next(f for f in shown if "reason" in f.columns)
    assert unmatched["vendor_user"].to_list() == ["temp.contractor@agency.example"]
    cohorts = next(f for f in shown if {"cohort", "phase", "share"} <= set(f.columns))
    assert cohorts.height == 8 and set(cohorts["status"]) <= {"ok", "not enough data"}
    assert (cohorts["status"] == "ok").any()
    rework = [f for f in shown if {"cohort", "phase", "share"} <= set(f.columns)][1]
    # Rework counts the same merged PRs as the rollback share (every merged PR in range, by the same
    # author cohorts and phases), only its hits differ.
    assert rework.height == 8 and rework["n"].to_list() == cohorts["n"].to_list() and (rework["status"] == "ok").any()
    lead = next(f for f in shown if {"cohort", "phase", "median_hours"} <= set(f.columns))
    assert lead.height == 8 and (lead["status"] == "ok").any()
    ok = lead.filter(lead["status"] == "ok")
    assert all(number(lo) <= number(m) <= number(hi) for lo, m, hi in zip(ok["low"], ok["median_hours"], ok["high"]))
    assert (ok["median_hours"].map_elements(number, return_dtype=pl.Float64) > 0).all()
    spend = next(f for f in shown if {"tool", "model", "sources"} <= set(f.columns))
    assert spend.height > 0
    economics = {r["tool"]: r for r in next(f for f in shown if "cost_per_merged_pr" in f.columns).iter_rows(named=True)}
    # The demo's PRs name the registry's tools; spend: Copilot seats billed, Claude Code and Cursor from the
    # vendors' per-person cost (no ai_spend rows for them), Devin / Gemini / Codex none (no cost per PR).
    assert {"GitHub Copilot", "Claude Code", "Cursor", "OpenAI Codex"} <= set(economics)
    assert [economics[t]["spend_from"] for t in ("GitHub Copilot", "Claude Code", "Cursor", "OpenAI Codex")] == [
        "billing", "vendor usage", "vendor usage", "none"]
    for tool in ("GitHub Copilot", "Claude Code", "Cursor"):
        row = economics[tool]
        assert number(row["merged_prs"]) > 0
        assert abs(number(row["cost_per_merged_pr"]) - number(row["spend_usd"]) / number(row["merged_prs"])) < 0.01
    assert number(economics["OpenAI Codex"]["cost_per_merged_pr"]) is None
    # rollback share by segment, cohort:<name> beside ai / non_ai: static HTML, so the page has no Vega view at all
    bars = [h for h in at.get("html") if 'data-testid="barChart"' in h.proto.body]
    assert len(bars) == 1 and not at.get("vega_lite_chart")
    assert all(f"{segment}: " in bars[0].proto.body for segment in ("ai", "non_ai", "cohort:light"))
    assert not at.exception


def number(shown) -> float | None:
    """A table cell as a number: a column with a missing value is shown as text in its own format ("$18.78",
    "50.0%", "1,234"), a missing value as "—" (app.components.table)."""
    if shown is None or shown == "—":
        return None
    if isinstance(shown, (int, float)):
        return shown
    return float(re.sub(r"[^0-9.\-]", "", shown))


def test_vendor_users_are_matched_to_people_imported_by_csv(tmp_path, monkeypatch):
    """People and vendor usage both imported through `scorecard import`: the page matches vendor users to
    the warehouse's `people` by e-mail (any of a person's `;`-separated addresses) or login, and lists the
    one nobody claims."""
    import datetime as dt

    from typer.testing import CliRunner

    from app.cli import app
    from tests.app.conftest import clear_streamlit_caches

    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{tmp_path / "w.db"}"\n', encoding="utf-8")
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    day = [(monday - dt.timedelta(days=n)).isoformat() for n in (6, 5)]  # last week's Tuesday, Wednesday: in range
    (tmp_path / "people.csv").write_text(
        "login,name,team,level,since,emails\n"
        "ana,Ana Lima,payments,,,ana@corp.example;ana@home.example\n"
        "bo,Bo Chen,web,,,bo@corp.example\n", encoding="utf-8")
    (tmp_path / "usage.csv").write_text(
        "date,tool,vendor_user,email,login,active,suggestions,acceptances,cost_usd\n"
        f"{day[0]},cursor,ana@home.example,ana@home.example,,true,10,4,2.50\n"  # Ana's second address
        f"{day[1]},cursor,ana@home.example,ana@home.example,,true,10,6,1.50\n"
        f"{day[0]},github-copilot,bo,,bo,true,20,5,\n"  # Bo by login
        f"{day[0]},claude-code,x@agency.example,x@agency.example,,true,,,3.00\n", encoding="utf-8")  # nobody's
    runner = CliRunner()
    for entity, name in (("people", "people.csv"), ("ai_usage_people", "usage.csv")):
        result = runner.invoke(app, ["import", entity, str(tmp_path / name), "--config", str(config)])
        assert result.exit_code == 0, result.output
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    clear_streamlit_caches()
    try:
        at = run_app("adoption")
    finally:
        clear_streamlit_caches()
    shown = frames(at)
    people = next(f for f in shown if "person" in f.columns and "active_days" in f.columns)
    got = {(r["person"], r["team"], r["tool"]): r for r in people.iter_rows(named=True)}
    # Ana: 2 Cursor days, 4 + 6 = 10 accepted of 20 shown = 50 %, $2.50 + $1.50 = $4.00; Bo: 1 Copilot day.
    assert set(got) == {("ana", "payments", "cursor"), ("bo", "web", "github-copilot")}
    ana = got["ana", "payments", "cursor"]
    # (the table shows shares as percent: 50.0)
    assert (ana["active_days"], ana["acceptances"], ana["acceptance_rate"], number(ana["cost_usd"])) == (2, 10, 50.0, 4.0)
    assert got["bo", "web", "github-copilot"]["active_days"] == 1
    teams = next(f for f in shown if {"team", "tool", "active_users"} <= set(f.columns))
    assert set(zip(teams["team"], teams["tool"])) == {("payments", "cursor"), ("web", "github-copilot"),
                                                      ("unassigned", "claude-code")}
    unmatched = next(f for f in shown if "reason" in f.columns)
    assert unmatched["vendor_user"].to_list() == ["x@agency.example"] and unmatched["rows"].to_list() == [1]


@pytest.mark.parametrize("weeks_back", [0, 17])
@pytest.mark.parametrize("team", [None, "payments"])
def test_cohort_aggregates_from_the_slice_equal_those_from_every_row(demo_env, weeks_back, team):
    """The Adoption page's cohort comparison and per-tool economics read the slice from 28 days before the
    range (app/state._cohort_rows), not every row: the same tables as from all the evidence, for a range at
    the end of the data and one in its middle, for the org and one team."""
    from app import state

    wh = open_warehouse(demo_env.url)
    try:
        full = prepare(load_evidence(wh), demo_env.config)
    finally:
        wh.engine.dispose()
    version = state.current_version()
    end = DEMO_END - dt.timedelta(weeks=weeks_back)
    start = end - dt.timedelta(weeks=13) + dt.timedelta(days=1)  # 13 whole weeks, Monday to Sunday
    filters = Filters(grain="week", start=start, end=end, team=team)
    data = scope.adoption_rows(state._adoption_all(version), None, None)  # an admin's rows
    min_sample = demo_env.config.rules.min_sample
    rows = state._cohort_rows(version, start)  # what the page's kept tables are made of (state.cohort_comparison)
    sliced = rows.outcomes
    assert 0 < sliced.height < full.outcomes.height  # the slice is narrower than every row
    for basis in ("prs", "usage"):
        got = cohorts_compared(sliced, rows.lead_time, data.aggregate_usage, filters,
                               basis=basis, min_sample=min_sample, rework=rows.rework)
        want = cohorts_compared(full.outcomes, lead_time_events(full.evidence, full.outcomes, reasons=False),
                                data.aggregate_usage, filters, basis=basis, min_sample=min_sample,
                                rework=rework_events(full.outcomes, full.chain, reasons=False))
        assert [g.height for g in got] == [w.height for w in want]
        assert want[0]["n"].sum() > 0 and want[2]["n"].sum() > 0  # PRs counted in the range: a real comparison
        for g, w in zip(got, want):
            assert_frame_equal(g, w)
        # What the page shows: the same tables, kept per range, team and basis (app/state.cohort_comparison)
        kept = state.cohort_comparison(version, filters, basis)
        assert len(kept) == len(want)
        for k, w in zip(kept, want):
            assert_frame_equal(k, w)
    wh = open_warehouse(demo_env.url)
    try:
        every_row = load_adoption(wh)  # every PR naming a tool; the spend summed from every spend row
    finally:
        wh.engine.dispose()
    every_tool_pr = every_row.ai_tools
    # The spend sums kept beside the cube: the same rows, order and bits as one GROUP BY over every spend row.
    assert data.spend.height > 0
    assert_frame_equal(data.spend, every_row.spend, check_exact=True)
    economics = [tool_economics(data.spend, prs, outcomes, start=start, end=end, min_sample=min_sample,
                                vendor_cost=data.aggregate_usage)
                 for prs, outcomes in ((state.tool_prs(version, start, end), sliced), (every_tool_pr, full.outcomes))]
    assert economics[1].get_column("merged_prs").sum() > 0
    assert_frame_equal(*economics)
    assert_frame_equal(state.tool_economics(version, start, end), economics[1])  # what the page shows, kept
