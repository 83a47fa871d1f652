"""The sidebar's "Sync now": it says what to configure when no source is, and otherwise runs the
configured sources with a progress bar and shows the new data without a restart."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

import app.sidebar
import connectors.sources as registry
from connectors.contract import Batch, Source
from tests.app.conftest import clear_streamlit_caches
from tests.factories import make_ticket

APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")


@pytest.fixture
def empty_app(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    config = tmp_path / "scorecard.toml"
    config.write_text(f'[warehouse]\nurl = "{url}"\n', encoding="utf-8")
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


def sync_button(at: AppTest):
    return next(b for b in at.sidebar.button if b.label == "Sync now")


def test_without_a_configured_source_sync_now_says_what_to_configure(empty_app):
    at = AppTest.from_file(APP, default_timeout=60).run()
    sync_button(at).click().run()
    assert not at.exception
    message = " ".join(i.value for i in at.sidebar.info).replace("\\", "")
    assert "No source is configured yet" in message
    for name, spec in registry.sources().items():  # every installed connector's hint is listed
        assert f"{name}: {spec.config_hint}" in message
    assert "scorecard import" in message


def test_sync_now_runs_the_configured_sources_and_the_page_shows_the_new_rows(empty_app, monkeypatch):
    updates = []

    def batches(config, secret, cursors, *, full, stats):
        yield Batch(frames={"tickets": pl.DataFrame([make_ticket("t1", resolved_at="2026-03-03 10:00",
                                                                 channel="ai_bot", team="web")])},
                    progress_done=1, progress_total=2, progress_message="tickets: page 1 of 2")
        yield Batch(progress_done=2, progress_total=2, progress_message="tickets: done")

    class Recording(app.sidebar.StreamlitProgress):  # the dashboard's st.progress bar, its updates recorded
        def update(self, done, total, message):
            updates.append((done, total, message))
            super().update(done, total, message)

    fake = Source(name="helpdesk", config_hint="[helpdesk] url", is_configured=lambda config: True, extract=batches)
    monkeypatch.setattr(registry, "_registry", lambda: {"helpdesk": fake})
    monkeypatch.setattr(app.sidebar, "StreamlitProgress", Recording)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "Team" in [s.label for s in at.sidebar.selectbox]
    assert at.selectbox(key="team").options == ["All teams"]  # nothing synced yet
    sync_button(at).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert updates == [(1, 2, "tickets: page 1 of 2"), (2, 2, "tickets: done")]
    assert any("helpdesk: success, 1 rows written" in s.value.replace("\\", "") for s in at.sidebar.success)
    # The new data version is read at once: the team picker lists the synced team, the freshness line the run.
    assert at.selectbox(key="team").options == ["All teams", "web"]
    assert any("Helpdesk: loaded just now" in c.value.replace("\\", "") for c in at.sidebar.caption)
