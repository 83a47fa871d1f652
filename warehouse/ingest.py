"""Writing a batch of evidence as one recorded run: rows upserted in one transaction, a `sync_runs`
row saying what happened, and an `audit_log` entry."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from warehouse.engine import Warehouse
from warehouse.runs import audit, finish_run, start_run
from warehouse.write import UpsertCounts, upsert_frames


def ingest(
    warehouse: Warehouse,
    source: str,
    frames: Mapping[str, pl.DataFrame],
    *,
    action: str = "import",
    detail: dict[str, Any] | None = None,
    actor: str | None = None,
) -> dict[str, UpsertCounts]:
    """Upsert all frames atomically and record the run; on failure nothing is written and the run is
    recorded as failed."""
    detail = dict(detail or {})
    run_id = start_run(warehouse, source)
    try:
        counts = upsert_frames(warehouse, frames)
    except Exception as exc:
        finish_run(warehouse, run_id, status="failed", rows=0, error=str(exc), detail=detail)
        raise
    detail["tables"] = {
        name: {"inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged} for name, c in counts.items()
    }
    written = sum(c.written for c in counts.values())
    finish_run(warehouse, run_id, status="success", rows=written, detail=detail)
    audit(warehouse, action, {"source": source, **detail}, actor=actor)
    return counts
