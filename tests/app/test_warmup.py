"""app/warmup.py: what the server (app/serve.py) pays at start — the pages' imports, the cube, the default
view's records and its other reads (state.read_ahead) — lands in app/state.py's caches, so a first visit reads none of it again; a warehouse it
cannot read does not stop the server."""
from __future__ import annotations

import datetime as dt
import gc
import logging

import pytest

from app import sidebar, state, warmup
from reports import data
from reports.filters import Filters
from tests.app.conftest import clear_streamlit_caches


def test_imported_modules_names_modules_and_submodules(tmp_path):
    script = tmp_path / "page.py"
    script.write_text("import json\nimport polars as pl\nfrom app import components as ui, sidebar\n"
                      "from reports.format import escape_markdown\nfrom . import nothing\n\ndef f():\n    import shlex\n")
    # Top-level imports only (a function's own import is not run at start); `from app import components`
    # names the module app.components, `escape_markdown` is no module; relative imports are left out.
    assert warmup.imported_modules(script) == ["json", "polars", "app", "app.components", "app.sidebar",
                                               "reports.format"]


def test_every_page_is_read_for_its_imports():
    scripts = {p.name for p in warmup.page_scripts()}
    assert {"streamlit_app.py", "scorecard.py", "delivery.py", "adoption.py", "export.py"} <= scripts
    assert warmup.import_pages() == []  # every module imports


def test_warm_up_fills_the_caches_a_first_visit_reads(demo_env, monkeypatch):
    clear_streamlit_caches()
    timings = warmup.warm_up()
    assert set(timings) == {"imports_s", "data_s"}
    version = state.current_version()
    start, end = sidebar.default_range("week")

    def refuse(*args, **kwargs):
        raise AssertionError("read again after the warm-up")

    monkeypatch.setattr(state, "load_cube", refuse)
    monkeypatch.setattr(data, "load_cube", refuse)
    monkeypatch.setattr(state, "compute", refuse)
    monkeypatch.setattr(state, "build_review", refuse)
    assert state.teams(version) and state.last_day(version) is not None
    assert state.records(version, "week", start, end, None).height > 0
    assert state.review(version, "week", start, end, None).window is not None
    # and the default view's reads besides the cube (state.read_ahead): AI spend's, Adoption's, Delivery's, ai_usage
    for name in ("read_facts", "read_table", "load_alert_spend", "load_adoption"):
        monkeypatch.setattr(state, name, refuse)
    assert state._spend_since(version, start).height > 0 and state._spend_alerts(version).as_of is not None
    assert state.usage_rows(version).height > 0 and state._adoption_all(version) is not None
    incidents, failed = state._delivery_facts(version, start)
    assert incidents.height > 0 and failed.height > 0
    # Governance's reads: the identities, the spend sums, unapproved models, the stop conditions as of today
    for name in ("load_kept_identities", "load_spend_groups", "load_unapproved_models", "judge_policies"):
        monkeypatch.setattr(state, name, refuse)
    assert state.identities(version).partials.height > 0 and state.spend_by_kind(version).height > 0
    state.unapproved_models(version, None)
    state.policy_status(version, dt.datetime.now(dt.timezone.utc).date())
    # Adoption's cohort comparison (the default basis) and per-tool economics of the default view, kept as tables;
    # the range's PR facts they are made of are not kept (another range or basis reads them again)
    for name in ("cohorts_compared", "economics_of", "load_tool_prs"):
        monkeypatch.setattr(state, name, refuse)
    filters = Filters(grain="week", start=start, end=end)
    assert state.cohort_comparison(version, filters, state.DEFAULT_COHORT_BASIS)[0]["n"].sum() > 0
    assert state.tool_economics(version, start, end).height > 0
    with pytest.raises(AssertionError, match="read again"):
        state._cohort_rows(version, start)
    # what it loaded is out of the cyclic collector's reach (a full collection in a visit walks the visit's objects)
    assert gc.get_freeze_count() > 10_000
    gc.unfreeze()
    clear_streamlit_caches()


def test_a_warehouse_it_cannot_read_does_not_stop_the_server(tmp_path, monkeypatch, caplog):
    config = tmp_path / "scorecard.toml"
    config.write_text('[warehouse]\nurl = "postgresql://nobody@127.0.0.1:1/none"\n', encoding="utf-8")
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    clear_streamlit_caches()
    with caplog.at_level(logging.WARNING, logger="app.warmup"):
        timings = warmup.warm_up()
    assert timings["data_s"] >= 0
    assert "could not read the warehouse" in caplog.text
    clear_streamlit_caches()


@pytest.fixture(autouse=True)
def _clean():
    yield
    clear_streamlit_caches()


def test_streamlits_first_element_check_is_made_at_start(monkeypatch):
    """Streamlit checks once per process, on the first element drawn, whether it runs in a REPL
    (`inspect.stack()`: ~0.2 CPU-s with the product imported): the warm-up makes it, so the first page does not."""
    from streamlit import delta_generator, env_util

    checks = []
    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    monkeypatch.setattr(env_util, "is_repl", lambda: checks.append(1) or False)
    warmup.first_element_check()
    assert checks == [1] and delta_generator._use_warning_has_been_displayed
    warmup.first_element_check()  # once per process
    assert checks == [1]


def test_the_read_ahead_logs_no_missing_context_warnings(demo_env):
    """At start the read-ahead's cached reads have no page to draw their spinners on: Streamlit's "missing
    ScriptRunContext" warning for each (three on the demo) is dropped, from the warm-up's thread only."""
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    seen: list[str] = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.addHandler(handler)
    try:
        clear_streamlit_caches()
        warmup.read_data()
        assert [m for m in seen if "missing ScriptRunContext" in m] == []
        logger.warning("Thread 'x': missing ScriptRunContext! (after the warm-up: logged again)")
        assert len(seen) == 1
    finally:
        logger.removeHandler(handler)
        clear_streamlit_caches()
