"""In a real headless Chromium: URLs, www. names and e-mail addresses inside data (a team, a repo, a
title) are plain text on the pages, never live links (Streamlit's Markdown links them even when
escaped); and in header sign-in mode, a request that does not come from a trusted proxy is not signed
in, whatever header it carries (issue 17, items 12 and 19)."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.app.test_browser import (  # noqa: F401 - the browser fixture and helpers
    CHROMIUM, TIMEOUT_MS, browser, screenshot, settle, streamlit_server,
)

pytestmark = pytest.mark.browser

TEAM = "www.evil.example"
PRS = (
    "id,repo,team,number,title,author,created_at,merged_at\n"
    + "".join(f"p{i},https://evil.example/repo,{TEAM},{i},Mail ops@evil.example about https://evil.example/x,"
              f"eve,2026-03-0{1 + i % 5},2026-03-0{2 + i % 5}T10:00:00Z\n" for i in range(1, 9))
)
DEPLOYS = ("id,repo,team,environment,sha,finished_at,status\n"
           f"d1,https://evil.example/repo,{TEAM},production,aaa,2026-03-08T10:00:00Z,success\n")


@pytest.fixture(scope="module")
def evil_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("evil")
    config = root / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{root / "wh.db"}"\n[rules]\nmin_sample = 1\n')
    for entity, text in (("pull_requests", PRS), ("deployments", DEPLOYS)):
        path = root / f"{entity}.csv"
        path.write_text(text)
        result = CliRunner().invoke(app, ["import", entity, str(path), "--config", str(config)])
        assert result.exit_code == 0, result.output
    with streamlit_server(config, root) as base:
        yield base


def test_urls_in_data_are_text_on_every_page(evil_server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        for path in ("", "rollbacks", "governance"):
            page.goto(f"{evil_server}/{path}?team={TEAM}&range=2026-03-02...2026-03-15")
            page.locator('[data-testid="stMain"] h1').first.wait_for()
            settle(page)
            main = page.locator('[data-testid="stMain"]')
            shown = main.inner_text().replace("\u2060", "")
            assert "evil.example" in shown, path  # the data is on the page ...
            # ... never as a link (the page's own links, e.g. heading anchors, may carry the team in their query)
            links = main.locator("a").evaluate_all("links => links.map(a => [a.protocol, a.hostname, a.href])")
            assert not [href for protocol, host, href in links if "evil.example" in host or protocol == "mailto:"], \
                (path, links)
        screenshot(page, "plain_text_governance")
    finally:
        context.close()


@pytest.fixture(scope="module")
def proxy_elsewhere(tmp_path_factory):
    root = tmp_path_factory.mktemp("untrusted")
    config = root / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{root / "wh.db"}"\n[access]\nsign_in = "header"\n'
                      'trusted_proxies = ["192.0.2.10"]\n[access.users."dana@acme.example"]\nrole = "admin"\n')
    with streamlit_server(config, root) as base:
        yield base


def test_a_header_from_an_untrusted_address_signs_nobody_in(proxy_elsewhere, browser):  # noqa: F811
    context = browser.new_context(extra_http_headers={"X-Forwarded-Email": "dana@acme.example"})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(proxy_elsewhere)
        page.get_by_text("did not come through the sign-in proxy").wait_for()
        settle(page)
        assert page.locator('[data-testid="stMetricValue"]').count() == 0
        assert "dana@acme.example" not in page.locator("body").inner_text()
    finally:
        context.close()
