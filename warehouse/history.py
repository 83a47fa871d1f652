"""Each source's sync history, folded from `sync_runs` for the scheduler's plan (scheduling/plan.py)."""
from __future__ import annotations

import sqlalchemy as sa

from scheduling.plan import SourceHistory
from warehouse.engine import Warehouse
from warehouse.schema import sync_runs

SUCCESS = ("success", "partial")


def source_histories(warehouse: Warehouse) -> dict[str, SourceHistory]:
    """source → its history (first run, last success, last outcome, failures since the last success)."""
    query = sa.select(sync_runs.c.source, sync_runs.c.started_at, sync_runs.c.finished_at, sync_runs.c.status)
    with warehouse.engine.connect() as conn:
        rows = conn.execute(query.order_by(sync_runs.c.id)).all()
    out: dict[str, dict] = {}
    for source, started, finished, status in rows:
        h = out.setdefault(source, {"source": source, "first_started": started, "failures": 0})
        h["last_status"] = status
        if finished is not None:
            h["last_finished"] = finished
        if status in SUCCESS:
            h["last_success"], h["failures"] = finished, 0
        elif status == "failed":
            h["failures"] += 1
    return {s: SourceHistory(**h) for s, h in out.items()}
