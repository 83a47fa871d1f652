"""Governance in a real headless Chromium behind a (simulated) trusted reverse proxy: the identity
arrives in the X-Forwarded-Email header, as oauth2-proxy or an identity-aware proxy sends it. The admin
sees the Governance page's whole answer (screenshot: tests/artifacts/governance.png); the payments team
lead who edits the URL to another team still sees only payments' rows."""
from __future__ import annotations

import pytest

from tests.app.test_browser import (  # noqa: F401 - the browser fixture and helpers
    CHROMIUM, ROOT, TIMEOUT_MS, browser, screenshot, settle, streamlit_server,
)

pytestmark = pytest.mark.browser

PROXY = """
[access]
sign_in = "header"
header = "X-Forwarded-Email"
default_role = "none"
[access.users."dana@acme.example"]
role = "admin"
[access.users."maya@acme.example"]
role = "team_lead"
teams = ["payments"]
"""


@pytest.fixture(scope="module")
def proxied_server(demo_warehouse, tmp_path_factory):
    config = demo_warehouse.root / "proxied.toml"
    example = (ROOT / "scorecard.toml.example").read_text().replace("sqlite:///data/scorecard.db", demo_warehouse.url)
    config.write_text(example.split("# --- Sign-in and roles")[0] + PROXY)
    with streamlit_server(config, tmp_path_factory.mktemp("streamlit")) as base:
        yield base


def signed_in(browser, email: str | None):  # noqa: F811
    headers = {"X-Forwarded-Email": email} if email else {}
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, extra_http_headers=headers)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


def test_admin_sees_the_governance_answer(proxied_server, browser):  # noqa: F811
    context, page = signed_in(browser, "dana@acme.example")
    try:
        page.goto(f"{proxied_server}/governance")
        page.get_by_role("heading", name="Governance", level=1).wait_for()
        page.get_by_role("heading", name="Who looked at or exported what").wait_for()
        settle(page)
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "Pause recommended: Coding agents opening PRs" in text and "(team payments)" in text
        assert "Pause recommended: Support bot (AI answers to tickets)" in text and "(team mobile)" in text
        # (An e-mail address carries an invisible word joiner: no mailto: link is made of it.)
        assert "dana@acme.example · admin" in page.locator('[data-testid="stSidebar"]').inner_text().replace("\u2060", "")
        screenshot(page, "governance")
    finally:
        context.close()


def test_the_proxy_identity_decides_what_a_team_lead_sees(proxied_server, browser):  # noqa: F811
    context, page = signed_in(browser, "maya@acme.example")
    try:
        page.goto(f"{proxied_server}/rollbacks?team=web")
        page.get_by_role("heading", name="Rollbacks", level=1).wait_for()
        settle(page)
        main = page.locator('[data-testid="stMain"]').inner_text()
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text().replace("\u2060", "")
        assert "maya@acme.example · team lead (payments)" in sidebar
        assert "Export" not in page.locator('[data-testid="stSidebarNav"]').inner_text()
        # ?team=web is dropped (not one of her teams) and no other team's name is on the page; the table
        # (a canvas, not text) comes from rows scoped to payments, as the AppTest role tests check cell by cell.
        assert "team=web" not in page.url and "web" not in main.lower()
        screenshot(page, "rollbacks_team_lead")
    finally:
        context.close()
    context, page = signed_in(browser, None)
    try:
        page.goto(proxied_server)
        page.get_by_text("Not signed in").wait_for()
        assert not page.locator('[data-testid="stMetricValue"]').count()
    finally:
        context.close()
