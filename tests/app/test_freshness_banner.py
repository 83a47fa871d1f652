"""Stale sources on the dashboard: a banner on the pages whose numbers they feed (and not elsewhere),
the schedule in the sidebar, and "Sync now" saying who holds a source another process is syncing."""
from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

import connectors.sources as registry
from connectors.contract import Batch, Source
from tests.app.conftest import APP, clear_streamlit_caches
from warehouse import open_warehouse
from warehouse.lease import source_lease
from warehouse.runs import clock, finish_run, start_run


def quiet_source(name: str) -> Source:
    return Source(name, f"[{name}]", lambda config: True, lambda config, secret, cursors, **kw: iter([Batch()]))


@pytest.fixture
def app_with_sources(tmp_path, monkeypatch):
    """jira (every 15m) last synced 2 h ago: stale; openai (every 1d) 1 h ago: fresh."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{url}"\n', encoding="utf-8")
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    monkeypatch.setattr(registry, "_registry", lambda: {n: quiet_source(n) for n in ("jira", "openai")})
    wh = open_warehouse(url)
    now = dt.datetime.now(dt.timezone.utc)
    for source, hours in (("jira", 2), ("openai", 1)):
        with clock(lambda: now - dt.timedelta(hours=hours)):
            finish_run(wh, start_run(wh, source), status="success", rows=0)
    clear_streamlit_caches()
    yield wh
    clear_streamlit_caches()


def page(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    if name != "scorecard":
        at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def banners(at: AppTest) -> list[str]:
    return [w.value.replace("\\", "") for w in at.main.warning if "Stale data" in w.value]


def test_a_stale_source_flags_the_pages_it_feeds(app_with_sources):
    [support] = banners(page("support"))
    assert "jira: no successful sync for 2h" in support and "every 15m; stale after 30m" in support
    assert "support tickets" in support and "openai" not in support
    [incidents] = banners(page("incidents"))
    assert "incidents" in incidents
    # AI spend comes from openai, which is fresh: no banner there.
    assert banners(page("spend")) == []


def test_the_sidebar_shows_each_sources_schedule(app_with_sources):
    at = page("scorecard")
    lines = [c.value.replace("\\", "") for c in at.sidebar.caption]
    jira = next(line for line in lines if line.startswith("**jira**"))
    openai = next(line for line in lines if line.startswith("**openai**"))
    assert ":red[stale]" in jira and "every 15m" in jira and "last success 2 h ago" in jira and "next run due now" in jira
    # openai: every day, synced an hour ago, so next in 23 hours (give or take the minute rounding).
    assert ":green[fresh]" in openai and "every 1d" in openai and "next run in 23h" in openai


def test_sync_now_says_who_holds_a_source_being_synced(app_with_sources):
    at = page("scorecard")
    with source_lease(app_with_sources, "jira", holder="scorecard schedule on box (pid 7)"):
        next(b for b in at.sidebar.button if b.label == "Sync now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    infos = " ".join(i.value.replace("\\", "") for i in at.sidebar.info)
    assert "jira is being synced by scorecard schedule on box (pid 7) since" in infos
    assert any("openai: success" in s.value.replace("\\", "") for s in at.sidebar.success)
