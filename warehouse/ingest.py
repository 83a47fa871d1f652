"""Writing a batch of evidence as one recorded run: rows upserted in one transaction, a `sync_runs`
row saying what happened, and an `audit_log` entry."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import polars as pl

from warehouse.engine import Warehouse
from warehouse.runs import audit, finish_run, start_run
from warehouse.write import UpsertCounts, upsert_batches, upsert_frames


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
    return _recorded(warehouse, source, lambda: upsert_frames(warehouse, frames), action, detail, actor)


def ingest_batches(
    warehouse: Warehouse,
    source: str,
    batches: Iterable[Mapping[str, pl.DataFrame]],
    *,
    action: str = "import",
    detail: Callable[[], dict[str, Any]] | dict[str, Any] | None = None,
    actor: str | None = None,
) -> dict[str, UpsertCounts]:
    """`ingest` for a stream of batches (a file too large to hold): one transaction over all of them,
    so a bad batch anywhere leaves nothing written. `detail` may be a function, called once the batches
    have run (what a stream held is known only then)."""
    return _recorded(warehouse, source, lambda: upsert_batches(warehouse, batches), action, detail, actor)


def _recorded(warehouse, source, write, action, detail, actor) -> dict[str, UpsertCounts]:
    run_id = start_run(warehouse, source)
    try:
        counts = write()
    except Exception as exc:
        finish_run(warehouse, run_id, status="failed", rows=0, error=str(exc), detail=_detail(detail))
        raise
    detail = _detail(detail)
    detail["tables"] = {
        name: {"inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged} for name, c in counts.items()
    }
    written = sum(c.written for c in counts.values())
    finish_run(warehouse, run_id, status="success", rows=written, detail=detail)
    audit(warehouse, action, {"source": source, **detail}, actor=actor)
    return counts


def _detail(detail) -> dict[str, Any]:
    return dict((detail() if callable(detail) else detail) or {})
