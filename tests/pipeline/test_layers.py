"""The one way through: connectors never import the warehouse, outside `warehouse/` only the runner
writes evidence, runs or cursors, and reports/ (shared by dashboard, CLI and benchmark) never reaches back
into the dashboard; the source names a schedule may use are the registered sources."""
from __future__ import annotations

import ast
from pathlib import Path

from config.schedule import SOURCES
from connectors.sources import sources

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "benchmarks", "config", "connectors", "governance", "metrics", "pipeline", "reports", "scheduling",
            "tools")
# The warehouse's write side: evidence upserts, run bookkeeping and cursors.
WRITE_MODULES = {"warehouse.write"}
WRITE_NAMES = {"upsert_frames", "upsert_batches", "start_run", "finish_run", "set_cursor", "clear_cursors",
               "close_abandoned_runs"}
RUNNER = "pipeline/runner.py"
# Named exceptions, each with its reason. benchmarks/expand_pg.py builds a benchmark organisation inside
# PostgreSQL (postgres_fdw): each span staged and its reach noted through warehouse/reach.py exactly as an
# import's upsert does, then inserted in one transaction; it is not a product path and records no run.
WRITERS = {"benchmarks/expand_pg.py": {("warehouse.write", "_adbc_transaction")}}


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every import in the file, at any depth; name '' for `import module`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def project_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path


def test_connectors_never_import_the_warehouse():
    offenders = [(name, module) for name, path in project_files() if name.startswith("connectors/")
                 for module, _ in imports(path) if module == "warehouse" or module.startswith("warehouse.")]
    assert offenders == []


def test_only_the_runner_writes_to_the_warehouse_from_outside_it():
    offenders = []
    for name, path in project_files():
        if name == RUNNER:
            continue
        for module, imported in imports(path):
            if not (module == "warehouse" or module.startswith("warehouse.")):
                continue
            if (module, imported) in WRITERS.get(name, ()):
                continue
            if module in WRITE_MODULES or imported in WRITE_NAMES or imported == "write":
                offenders.append((name, module, imported))
    assert offenders == []


def test_reports_never_import_the_dashboard():
    offenders = [(name, module) for name, path in project_files() if name.startswith("reports/")
                 for module, _ in imports(path) if module == "app" or module.startswith("app.")]
    assert offenders == []


def test_a_schedule_may_name_exactly_the_registered_sources():
    assert sorted(SOURCES) == sorted(sources())
