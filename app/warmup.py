"""What the dashboard server pays once, at start, instead of on its first visitor's page (app/serve.py).

A page's first run after a server start used to import most of the product (polars, SQLAlchemy, the chart and table elements,
the metrics and reports packages: seconds on a busy machine) and read the warehouse's cube; every later
visit found both in memory. `warm_up` does the same work before the server answers, so the start takes
longer and the first visit costs what a later one does:

- imports: every module the router and the pages in app_pages/ import (read from their source, so a new
  page is covered without a list to keep), and the libraries Streamlit imports only when a page first
  draws a chart or a table; Streamlit's once-per-process check on the first element drawn (the charts are
  Vega-Lite specs, plain dicts: nothing to warm, unlike plotly's per-kind first use);
- data, through app/state.py's own caches (keyed by the warehouse's data version, so a write after the
  start is read as before): the config, the data version, the cube (`load_cube`: pending writes folded
  in first), the baselines, the teams, the last day of data, and the records and review window of the
  default view (every team, weekly, the sidebar's default range) that the Scorecard and the drill-downs
  open with. Another range or team computes its records on its first visit, as before. Then the reads of
  the default view that are not the evidence's (`state.read_ahead`): the ai_usage rows (the Scorecard's
  adoption panel, AI spend), the spend alerts and the range's spend from the spend rollup (AI spend: the
  page's largest read, ~100 MB of chunks through PostgreSQL's socket), the per-person usage (Adoption), the
  range's incidents and failed deployments (Delivery): ~120 MB at 1M PRs, which every server then holds;
  none of it grows with the PRs. The drill-downs' slices of the evidence are not read at
  start: they would hold hundreds of MB in every server.

Nothing here is needed for correctness: a failure is logged and the page meets it (and says so) as it
would have without the warm-up.
"""
from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import importlib.util
import logging
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

APP_DIR = Path(__file__).resolve().parent
# Imported inside functions the first run calls: by Streamlit the first time a page draws a chart,
# a dataframe (pandas, its Styler: jinja2) or a download; by the sidebar's freshness line (every configured
# source's connector).
# And by the first run of any page: the warehouse's Arrow reader (warehouse/read.py imports it where it reads),
# Streamlit's emoji catalogue (the page icon: its import compiles a large pattern) and icon names, pyarrow's
# pandas conversion of a table, polars' element-wise mapping (the link columns).
LAZY_MODULES = ("streamlit.elements.vega_charts",
                "streamlit.elements.arrow", "streamlit.elements.widgets.button", "pyarrow", "pandas",
                "pandas.io.formats.style", "numpy.random", "dateutil.parser", "connectors.sources",
                "connectorx", "streamlit.emojis", "streamlit.material_icon_names", "pyarrow.pandas_compat",
                "polars._utils.udfs")


def page_scripts() -> list[Path]:
    return [APP_DIR / "streamlit_app.py", *sorted((APP_DIR / "app_pages").glob("*.py"))]


def imported_modules(script: Path) -> list[str]:
    """The modules a script imports at its top level (`import x`, `from x import y`: x, and x.y where y is
    a module)."""
    names = []
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names if _is_module(f"{node.module}.{alias.name}")]
    return names


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def import_pages() -> list[str]:
    """Import what the pages import; returns the modules that could not be imported (logged)."""
    failed = []
    wanted = dict.fromkeys([m for script in page_scripts() for m in imported_modules(script)] + list(LAZY_MODULES))
    for name in wanted:
        try:
            importlib.import_module(name)
        except Exception:  # a page meets the same error and shows it  # noqa: BLE001
            log.warning("warm-up: could not import %s", name, exc_info=True)
            failed.append(name)
    return failed


def first_element_check() -> None:
    """Streamlit's once-per-process check on the first element any page draws (`_maybe_print_use_warning`:
    whether it runs in a REPL, by `inspect.stack()`, which resolves every frame's module among the thousands
    imported: ~0.2 CPU-s), made here instead of on the first visitor's page. In a server it prints nothing."""
    from streamlit import delta_generator

    check = getattr(delta_generator, "_maybe_print_use_warning", None)  # private: gone in a later Streamlit, skipped
    if check is not None:
        check()


def read_data() -> str:
    """Fill app/state.py's caches the sidebar and every page read first; returns the data version."""
    from app import sidebar, state

    state.config()
    version = state.current_version()
    state.last_day(version)  # reads the cube
    state.teams(version)
    state.baselines(version)
    start, end = sidebar.default_range("week")
    state.records(version, "week", start, end, None)
    state.review(version, "week", start, end, None)
    with _no_page_to_draw_on():
        state.read_ahead(version, start, end)
    return version


class _FromThisThread(logging.Filter):
    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread


@contextlib.contextmanager
def _no_page_to_draw_on():
    """The read-ahead's cached reads have spinners for a visit; at start there is no page to draw them on, and
    Streamlit logs "missing ScriptRunContext" for each. Those warnings, from this thread only, are dropped."""
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    quiet = _FromThisThread()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def warm_up() -> dict[str, float]:
    """Imports, then data; the seconds each took (logged)."""
    timings = {}
    t0 = time.perf_counter()
    import_pages()
    for step, what in ((first_element_check, "Streamlit's first-element check"),):
        try:
            step()
        except Exception:  # the page meets it as before  # noqa: BLE001
            log.warning("warm-up: %s failed", what, exc_info=True)
    timings["imports_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        read_data()
    except Exception:  # an unreachable warehouse, a bad config: the page says what to fix  # noqa: BLE001
        log.warning("warm-up: could not read the warehouse", exc_info=True)
    timings["data_s"] = time.perf_counter() - t1
    freeze_what_is_loaded()
    log.info("warm-up: imports %.2f s, data %.2f s", timings["imports_s"], timings["data_s"])
    return timings


def freeze_what_is_loaded() -> None:
    """Moves what the warm-up loaded (modules, the cube, cached frames: the server's long-lived objects) out of the
    cyclic collector's reach (`gc.freeze`, after a collection of the warm-up's own garbage): a full collection during a
    visit then walks only what the visit made. On the 1M warehouse a full collection after the warm-up took 0.12
    CPU-s, and one can come in a first visit; after the freeze ~0 (docs/performance-log.md, session 15, team15).
    Nothing frozen is freed later, as nothing the warm-up keeps would have been."""
    gc.collect()
    gc.freeze()
