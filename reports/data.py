"""The one way from the warehouse to the metrics.

- `load_evidence`: the evidence tables as polars frames (for drill-downs and explanations).
- `load_cube`: the scorecard's daily cube, kept on disk beside the warehouse as memory-mapped Arrow
  files keyed by the warehouse's data version and the config that shapes it (teams, production
  environments, rollback window). A finished sync or import changes the version; the writer rebuilds
  the cube right after (`refresh_cube`), so readers — the dashboard, `scorecard metrics` — read a few
  megabytes instead of millions of rows. Any reader rebuilds it when it is missing or stale.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from config.model import Config
from metrics.cube import CUBE_FORMAT, Cube
from metrics.evidence import SCHEMAS, Evidence
from metrics.scorecard import prepare
from warehouse import Warehouse, data_version, open_warehouse, read_table

log = logging.getLogger(__name__)

# The columns the cube is built from (drill-downs read every column of SCHEMAS; files, reviews and
# people are read whole).
CUBE_COLUMNS = {
    "pull_requests": ["id", "repo", "number", "title", "author", "team", "created_at", "merged_at", "merge_commit_sha",
                      "ai_assisted", "is_revert", "reverts_pr_id", "revert_ref", "labels", "ai_tools", "ai_mode"],
    "deployments": ["id", "repo", "team", "environment", "sha", "finished_at", "status", "is_rollback"],
    "deployment_prs": ["deployment_id", "pr_id"],
    "incidents": ["id", "team", "service", "started_at", "resolved_at", "ai_assisted", "caused_by_deployment_id"],
    "tickets": ["team", "resolved_at", "channel", "csat"],
    "ai_spend": ["date", "team", "cost_usd"],
}


def warehouse_for(config: Config) -> Warehouse:
    return open_warehouse(config.warehouse.url, base_dir=_base_dir(config))


def _base_dir(config: Config) -> Path | None:
    return Path(config.source_path).parent if config.source_path else None


def load_evidence(warehouse: Warehouse, columns: dict[str, list[str]] | None = None) -> Evidence:
    """Every evidence table, with the columns the metrics and drill-downs read (or just `columns`)."""
    tables: dict[str, pl.DataFrame] = {}
    for name, schema in SCHEMAS.items():
        tables[name] = read_table(warehouse, name, (columns or {}).get(name, list(schema)))
    return Evidence.of(**tables)


def cube_fingerprint(config: Config) -> str:
    """What, besides the data, decides the cube's numbers."""
    shaping = {
        "format": CUBE_FORMAT,
        "teams": {name: [sorted(t.repos), sorted(t.services)] for name, t in sorted(config.teams.items())},
        "production_environments": sorted(e.lower() for e in config.rules.production_environments),
        "rollback_window_days": config.rules.rollback_window_days,
        "change_chain": [
            config.rules.incident_link_hours, config.rules.rework_window_days, sorted(config.rules.fix_labels),
            config.rules.fix_title_pattern, sorted(config.rules.senior_levels), sorted(config.people.senior),
            {name: sorted(s.repos) for name, s in sorted(config.services.items())},
        ],
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def cube_root(warehouse: Warehouse, config: Config) -> Path:
    if config.warehouse.cache_dir:
        root = Path(config.warehouse.cache_dir)
        return root if root.is_absolute() else (_base_dir(config) or Path.cwd()) / root
    if warehouse.sqlite_path:
        return Path(warehouse.sqlite_path + ".cache")
    url_key = hashlib.sha256(warehouse.display_url.encode()).hexdigest()[:12]
    return (_base_dir(config) or Path.cwd()) / "data" / "cache" / url_key


def load_cube(warehouse: Warehouse, config: Config, version: str | None = None) -> Cube:
    """The cube for the warehouse's current data (read from disk, or built and stored)."""
    version = version or data_version(warehouse)
    key = hashlib.sha256(f"{version}|{cube_fingerprint(config)}".encode()).hexdigest()[:20]
    root = cube_root(warehouse, config)
    folder = root / key
    if (folder / "complete").exists():
        try:
            return Cube.read(folder)
        except (OSError, pl.exceptions.PolarsError) as exc:  # a damaged cache is rebuilt, never trusted
            log.warning("cube cache at %s unreadable (%s); rebuilding", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
    cube = prepare(load_evidence(warehouse, CUBE_COLUMNS), config).cube
    _store(cube, root, key)
    return cube


def _store(cube: Cube, root: Path, key: str) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        cube.write(staging)
        (staging / "complete").write_text(key)
        try:
            os.rename(staging, root / key)  # atomic: readers see a whole cube or none
        except OSError:  # another process stored the same cube first
            shutil.rmtree(staging, ignore_errors=True)
        for old in root.iterdir():
            if old.name != key and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:  # a read-only disk costs speed, never correctness
        log.warning("could not store the cube cache in %s: %s", root, exc)


def refresh_cube(warehouse: Warehouse, config: Config) -> Cube:
    """Rebuild the cube after a write, so the next reader finds it ready."""
    return load_cube(warehouse, config)
