"""The data-freshness line: when each source last delivered, and whether the data is the demo's."""
from __future__ import annotations

import datetime as dt
from typing import Any

from config.schedule import fmt_duration
from scheduling.plan import SOURCE_TABLES, stale_message

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
        elif last.get("status") == "interrupted":
            text += " (last run stopped early; the next resumes it)"
        elif last.get("status") == "running":
            text += " (a run is in progress)"
        parts.append(text)
    return " · ".join(parts), demo


# What a page's numbers are made of, in a reader's words (the banner names them).
TABLE_WORDS = {
    "pull_requests": "pull requests", "deployments": "deployments", "deployment_prs": "deployments",
    "reviews": "reviews", "pull_request_files": "pull requests", "incidents": "incidents", "tickets": "support tickets",
    "ai_spend": "AI spend", "ai_usage": "AI adoption",
}


def stale_banner_text(plans: list, tables: tuple[str, ...], now: dt.datetime) -> str | None:
    """The banner for a page that reads `tables`, from `scheduling.plan.SourcePlan`s: which stale sources
    feed it, since when, and what may be out of date; None when none does."""
    stale = [p for p in plans if p.stale and set(SOURCE_TABLES.get(p.source, ())) & set(tables)]
    if not stale:
        return None
    words = sorted({TABLE_WORDS.get(t, t) for p in stale for t in SOURCE_TABLES[p.source] if t in tables})
    what = ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else words[0]
    sources = "; ".join(stale_message(p, now) for p in stale)
    return f"Stale data — {sources}. The {what} on this page may be out of date (scorecard status says more)."


def schedule_rows(plans: list, now: dt.datetime) -> list[dict[str, str]]:
    """One row per configured source for the sidebar: source, every, last success, next run, state."""
    rows = []
    for p in plans:
        nxt = "due now" if p.next_run <= now else f"in {fmt_duration(((p.next_run - now).total_seconds() // 60 + 1) * 60)}"
        rows.append({
            "source": p.source, "every": fmt_duration(p.interval),
            "last success": _ago(p.last_success, now) if p.last_success else "never",
            "next run": nxt, "state": "stale" if p.stale else "fresh",
        })
    return rows
