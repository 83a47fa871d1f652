"""The data-freshness line: when each source last delivered, and whether the data is the demo's."""
from __future__ import annotations

import datetime as dt
from typing import Any

DEMO_SOURCE = "demo"


def _ago(when: dt.datetime, now: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    seconds = max(0, (now - when).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def freshness(runs: list[dict[str, Any]], now: dt.datetime) -> tuple[str, bool]:
    """(the line, whether the data is demo data), from `warehouse.runs.last_runs`."""
    if not runs:
        return "No data loaded yet.", False
    parts = []
    demo = False
    for run in sorted(runs, key=lambda r: r["source"]):
        source = run["source"]
        last = run.get("last_run") or {}
        if source == DEMO_SOURCE:
            demo = True
        label = "demo data" if source == DEMO_SOURCE else source
        if run.get("last_success") is not None:
            text = f"{label}: loaded {_ago(run['last_success'], now)}"
        else:
            text = f"{label}: never loaded successfully"
        if last.get("status") == "failed" and run.get("last_success") != last.get("finished_at"):
            text += " (last run failed)"
        elif last.get("status") == "running":
            text += " (a run is in progress)"
        parts.append(text)
    return " · ".join(parts), demo
