"""Sign-in and roles through AppTest, with OIDC users of each role (AppTest.user is what st.user reads,
the production path): what each may open, and that a team lead never reaches another team's rows —
by the sidebar, a URL parameter, a page or an export. Every sign-in and page view is audited."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics.periods import latest_complete_range
from reports.format import escape_markdown
from tests.app.conftest import clear_streamlit_caches, run_app
from warehouse import open_warehouse, read_table

ROOT = Path(__file__).resolve().parents[2]
ACCESS = """
[access]
sign_in = "oidc"
default_role = "none"
[access.users."vp@acme.example"]
role = "viewer"
[access.users."maya@acme.example"]
role = "team_lead"
teams = ["payments"]
[access.users."ann@acme.example"]
role = "analyst"
[access.users."dana@acme.example"]
role = "admin"
"""
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "scorecard",
        "client_secret": "not-used-in-tests", "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def signed_in_env(demo_warehouse):
    """The demo warehouse with the example inventory and OIDC sign-in with four users."""
    example = (ROOT / "scorecard.toml.example").read_text().replace("sqlite:///data/scorecard.db", demo_warehouse.url)
    config = demo_warehouse.root / "signed_in.toml"
    config.write_text(example.split("# --- Sign-in and roles")[0] + ACCESS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCORECARD_CONFIG", str(config))
        mp.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
        clear_streamlit_caches()
        yield demo_warehouse
        clear_streamlit_caches()


def run(email: str | None, page: str | None = None, *, auth: bool = True, opened: tuple[str, ...] | bool = (),
        **params: str) -> AppTest:
    user = {"is_logged_in": email is not None, **({"email": email} if email else {})}
    return run_app(page, user=user, secrets={"auth": AUTH} if auth else None, opened=opened, **params)


def audit_rows(env) -> pl.DataFrame:
    wh = open_warehouse(env.url)
    try:
        return read_table(wh, "audit_log")
    finally:
        wh.engine.dispose()


def shown_frames(at: AppTest) -> list[pl.DataFrame]:
    return [pl.from_pandas(df.value.data if hasattr(df.value, "data") else df.value) for df in at.dataframe]


def test_nobody_signed_in_sees_only_the_sign_in_button(signed_in_env):
    at = run(None)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.sidebar.selectbox
    missing = run("dana@acme.example", auth=False)  # sign_in = "oidc" without [auth] in secrets.toml
    assert "has no [auth] section" in missing.error[0].value and not missing.metric


def test_a_signed_in_account_without_a_role_is_refused_and_audited(signed_in_env):
    at = run("eve@elsewhere.example")
    assert "no role is granted" in at.error[0].value and not at.metric
    denied = audit_rows(signed_in_env).filter(pl.col("action") == "access denied")
    assert denied["actor"].to_list()[-1:] == ["dashboard:eve@elsewhere.example"]


def test_viewer_sees_the_org_scorecard_and_governance_but_no_rows(signed_in_env):
    at = run("vp@acme.example")
    # The five tiles and the four adoption numbers (aggregates: a viewer sees them).
    assert len(at.metric) == 9 and "vp@acme.example · viewer" in " ".join(c.value for c in at.sidebar.caption).replace("\\", "").replace("\u2060", "")
    assert not [b for b in at.sidebar.button if b.label == "Sync now"]
    for page in ("rollbacks", "incidents", "export", "audit"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{page}.py")
    gov = run("vp@acme.example", "governance")
    # declared, unowned, pauses. Unowned: the bots chatgpt-codex-connector and devin-ai-integration and the
    # registry's tools OpenAI Codex, Devin, Gemini and Cursor (the example declares Copilot and Claude Code).
    assert [m.value for m in gov.metric][:3] == ["5", "6", "2"]
    assert not [s for s in gov.subheader if s.value == "Who looked at or exported what"]
    ghosts = next(f for f in shown_frames(gov) if "what" in f.columns and "examples" in f.columns)
    assert set(ghosts["examples"].to_list()) == {""}  # counts yes, rows of no team


def test_team_lead_reaches_only_their_teams_rows_by_any_filter_or_url(signed_in_env):
    at = run("maya@acme.example", "rollbacks", team="web")
    team = at.sidebar.selectbox[0]
    assert team.options == ["All teams", "payments"] and team.value == "All teams"  # ?team=web is not honoured
    by_team = shown_frames(at)[0]
    assert by_team["team"].to_list() == ["payments"]
    at = run("maya@acme.example", "rollbacks", team="payments", opened=True)  # every table, those behind a control too
    frames = shown_frames(at)
    assert frames and all(set(f["team"].to_list()) <= {"payments"} for f in frames if "team" in f.columns)
    assert all(r.startswith("acme/payments-") for f in frames if "repo" in f.columns for r in f["repo"].to_list())
    prs = next(f for f in frames if "author" in f.columns)
    assert prs.height > 0 and all(a.startswith("payments-") or a.endswith("[bot]") for a in prs["author"].to_list())
    for page in ("incidents", "support", "spend", "delivery"):  # delivery: the change chain of their rows
        frames = shown_frames(run("maya@acme.example", page, opened=True))
        teams = {t for f in frames if "team" in f.columns for t in f["team"].to_list()}
        assert teams <= {"payments"}, (page, teams)
        if page == "delivery":  # its incidents and failed deployments, listed
            assert sum(f.height for f in frames if "caused_by_deployment_id" in f.columns or "failed_how" in f.columns) > 0
    incidents = next(f for f in shown_frames(run("maya@acme.example", "incidents")) if "title" in f.columns)
    assert incidents.height > 0 and all("payments" in t for t in incidents["title"].to_list())
    with pytest.raises(ValueError):
        at.switch_page("app_pages/export.py")


def test_team_lead_opens_their_teams_pr_by_url_but_not_another_teams(signed_in_env):
    prs = read_table(open_warehouse(signed_in_env.url), "pull_requests", ["id", "repo", "title", "merged_at"])
    merged = prs.filter(pl.col("merged_at").is_not_null())
    own = merged.filter(pl.col("repo").str.starts_with("acme/payments-")).row(0, named=True)
    other = merged.filter(pl.col("repo").str.starts_with("acme/web")).row(0, named=True)
    at = run("maya@acme.example", "pr", id=own["id"])
    assert [h.value for h in at.subheader][:1] == [escape_markdown(own["title"])]
    at = run("maya@acme.example", "pr", id=other["id"])
    assert not at.subheader and any("that you may see" in i.value for i in at.info)


def test_team_lead_exports_and_downloads_hold_only_their_teams(signed_in_env):
    """The data door every download and export goes through (app/state), with a team lead's scope."""
    from app import state

    version = state.current_version()
    start, end = latest_complete_range(state.last_day(version), dt.date(2026, 4, 1), "week")
    scope = ("payments",)
    prs = state._export_rows(version, "pull_requests", "week", start, end, None, scope)
    assert prs.height > 0 and set(prs["team"].to_list()) == {"payments"}
    assert state._export_rows(version, "pull_requests", "week", start, end, "web", scope).height == 0
    assert state._export_rows(version, "deployment_prs", "week", start, end, None, scope).height == 0
    records = state._export_rows(version, "scorecard", "week", start, end, None, scope)
    assert set(records["team"].drop_nulls().to_list()) == {"payments"} and records["team"].null_count() > 0
    full = state._export_rows(version, "pull_requests", "week", start, end, None, None)
    assert set(full["team"].to_list()) > {"payments"}  # an analyst's export holds every team


def test_analyst_exports_everything_admin_also_syncs_and_audits(signed_in_env):
    at = run("ann@acme.example", "export")
    assert at.title[0].value == "Export" and not [b for b in at.sidebar.button if b.label == "Sync now"]
    with pytest.raises(ValueError):
        at.switch_page("app_pages/audit.py")
    admin = run("dana@acme.example", "audit")
    assert admin.title[0].value == "Audit log" and [b for b in admin.sidebar.button if b.label == "Sync now"]
    log = shown_frames(admin)[0]
    assert {"sign-in", "view", "config change"} <= set(log["action"].to_list())
    gov = run("dana@acme.example", "governance")
    activity = next(f for f in shown_frames(gov) if {"actor", "what"} <= set(f.columns))
    assert "dashboard:maya@acme.example" in activity["actor"].to_list()


def test_every_sign_in_and_page_view_is_audited_with_the_user(signed_in_env):
    run("maya@acme.example", "support", team="payments")
    rows = audit_rows(signed_in_env)
    signs = rows.filter((pl.col("action") == "sign-in") & (pl.col("actor") == "dashboard:maya@acme.example"))
    detail = json.loads(signs["detail"][-1])
    assert (detail["method"], detail["role"], detail["teams"]) == ("oidc", "team_lead", ["payments"])
    views = [json.loads(d) for d in rows.filter((pl.col("action") == "view")
                                                & (pl.col("actor") == "dashboard:maya@acme.example"))["detail"]]
    assert {"page": "Support", "team": "payments"} in views and {"page": "Rollbacks", "team": None} in views
    changes = rows.filter(pl.col("action") == "config change")
    assert changes.height >= 1 and json.loads(changes["detail"][-1])["config"]["access"]["sign_in"] == "oidc"


def test_header_sign_in_without_the_header_is_refused(signed_in_env, tmp_path, monkeypatch):
    config = tmp_path / "header.toml"
    config.write_text(f'[warehouse]\nurl = "{signed_in_env.url}"\n[access]\nsign_in = "header"\n')
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    clear_streamlit_caches()
    try:
        at = run(None, auth=False)
        assert "send the X-Forwarded-Email header" in at.error[0].value and not at.metric
    finally:
        clear_streamlit_caches()


def test_header_sign_in_from_an_address_that_is_not_the_proxy_is_refused(signed_in_env, tmp_path, monkeypatch):
    """The proxy runs elsewhere (192.0.2.10); this request comes straight from the loopback, so whatever
    header it carries it is not signed in."""
    config = tmp_path / "header.toml"
    config.write_text(f'[warehouse]\nurl = "{signed_in_env.url}"\n[access]\nsign_in = "header"\n'
                      'trusted_proxies = ["192.0.2.10"]\n')
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    clear_streamlit_caches()
    try:
        at = run(None, auth=False)
        assert "did not come through the sign-in proxy" in at.error[0].value and not at.metric
    finally:
        clear_streamlit_caches()
