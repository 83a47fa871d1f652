"""A demo warehouse shared by the dashboard tests of one module (seeding it takes a second or two),
and the environment that points the app at it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.page_elements import open_expanders
from config import Config
from config.load import load_config
from connectors.demo.generator import generate
from pipeline import ingest
from reports.data import refresh_cube
from warehouse import open_warehouse

# A fixed end (a Sunday) keeps every number stable: the default range ends with the week of Mar 23.
DEMO_END = dt.date(2026, 3, 29)


@dataclass(frozen=True)
class DemoWarehouse:
    root: Path
    url: str
    config_path: Path
    config: Config


def seed_demo(root: Path) -> DemoWarehouse:
    url = f"sqlite:///{root / 'warehouse.db'}"
    config_path = root / "scorecard.toml"
    config_path.write_text(f'[warehouse]\nurl = "{url}"\n', encoding="utf-8")
    config = load_config(config_path, env={})
    wh = open_warehouse(url)
    try:
        ingest(wh, "demo", generate("small", end=DEMO_END), action="demo")
        refresh_cube(wh, config)
    finally:
        wh.engine.dispose()
    return DemoWarehouse(root=root, url=url, config_path=config_path, config=config)


def clear_streamlit_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory) -> DemoWarehouse:
    return seed_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_env(demo_warehouse):
    """The app (state.config) reads the demo warehouse's config; caches start and end empty."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCORECARD_CONFIG", str(demo_warehouse.config_path))
        mp.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
        clear_streamlit_caches()
        yield demo_warehouse
        clear_streamlit_caches()


APP = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")


def run_app(page: str | None = None, *, user: dict | None = None, secrets: dict | None = None,
            opened: tuple[str, ...] | bool = (), **params: str) -> AppTest:
    """The dashboard through AppTest: query parameters set, optionally a signed-in `st.user` and
    secrets, then (optionally) switched to `app_pages/<page>.py`; fails on any exception. `opened`: the keys of
    the expanders whose rows are built only once opened (app/components.on_open) that start open, as after a click
    on each; True: every such expander the page shows (benchmarks.page_elements.open_expanders)."""
    at = AppTest.from_file(APP, default_timeout=120)
    for key in () if opened is True else opened:
        at.session_state[key] = True
    if user is not None:
        at.user = user
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py").run()
    if opened is True:
        open_expanders(at)
    assert not at.exception, [e.value for e in at.exception]
    return at
