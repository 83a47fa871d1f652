"""When each source runs next and whether its data is stale: pure functions of the sync history, the
schedule and `now` (no database, no clock), shared by the scheduler, `scorecard status`, `scorecard
alerts` and the dashboard.

The history lives in the warehouse (`sync_runs`), not in the scheduler's memory, so a restarted
scheduler, a second replica and `scorecard status` all read the same plan:
- after a success (or a partial run: its rows landed) the next run is due one interval later;
- after k failures in a row it is due `retry × 2^(k-1)` after the last one ends, at most `max_backoff`;
- a source never run, or whose last run was interrupted, is due at once (it resumes from its cursors).
A source is **stale** when it has had no success for twice its interval (one missed run is normal).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from config.schedule import ScheduleConfig, fmt_duration

# Tables each source writes: a stale source flags the pages that read them. Every registered source has
# an entry (tests/scheduling checks it), so a new connector cannot be forgotten here.
SOURCE_TABLES: dict[str, tuple[str, ...]] = {
    "github": ("pull_requests", "deployments", "deployment_prs", "reviews", "pull_request_files", "ai_usage"),
    "jira": ("incidents", "tickets"),
    "pagerduty": ("incidents",),
    "openai": ("ai_spend",),
    "anthropic": ("ai_spend",),
    "copilot_seats": ("ai_spend",),
}


@dataclass(frozen=True)
class SourceHistory:
    """What `sync_runs` says about one source (warehouse/history.py reads it)."""

    source: str
    first_started: dt.datetime | None = None  # the first run ever
    last_success: dt.datetime | None = None  # when the latest success or partial run finished
    last_finished: dt.datetime | None = None  # when the latest finished run of any outcome finished
    last_status: str | None = None  # of the latest run (running included)
    failures: int = 0  # failed runs since the last success


@dataclass(frozen=True)
class SourcePlan:
    """One configured source's schedule and freshness, as `scorecard status` and the dashboard show it."""

    source: str
    interval: float  # seconds
    last_success: dt.datetime | None
    last_status: str | None
    failures: int
    next_run: dt.datetime  # before any jitter; `now` or earlier means due
    stale: bool
    stale_since: dt.datetime | None  # when it became stale (None: not stale, or never synced at all)

    @property
    def never_synced(self) -> bool:
        return self.last_success is None

    def due(self, now: dt.datetime) -> bool:
        return self.next_run <= now


# The next run of a source never run, or whose last run was interrupted: due at once.
DUE_AT_ONCE = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def backoff(schedule: ScheduleConfig, failures: int) -> float:
    """Seconds to wait after `failures` failed runs in a row (≥ 1): 5m, 10m, 20m, ... up to max_backoff."""
    return min(schedule.retry * 2 ** (failures - 1), schedule.max_backoff)


def next_run(schedule: ScheduleConfig, history: SourceHistory) -> dt.datetime:
    """When the source is next due (before jitter); `now` or earlier when it is due: `DUE_AT_ONCE` when
    it has never run or its last run was interrupted."""
    interval = dt.timedelta(seconds=schedule.interval(history.source))
    if history.last_status == "failed" and history.failures and history.last_finished is not None:
        return history.last_finished + dt.timedelta(seconds=backoff(schedule, history.failures))
    if history.last_status in (None, "interrupted") or history.last_success is None:
        return DUE_AT_ONCE
    return history.last_success + interval


def plan(schedule: ScheduleConfig, history: SourceHistory, now: dt.datetime) -> SourcePlan:
    """`history`'s source as of `now`: its next run and whether it is stale."""
    interval = schedule.interval(history.source)
    # No success yet: stale once it has been trying for twice the interval; never tried at all: stale.
    since = history.last_success or history.first_started
    limit = dt.timedelta(seconds=2 * interval)
    stale = since is None or now - since > limit
    return SourcePlan(
        source=history.source, interval=interval, last_success=history.last_success,
        last_status=history.last_status, failures=history.failures,
        next_run=next_run(schedule, history), stale=stale,
        stale_since=(since + limit) if stale and since is not None else None,
    )


def plans(schedule: ScheduleConfig, histories: dict[str, SourceHistory], sources: list[str],
          now: dt.datetime) -> list[SourcePlan]:
    """A plan per configured source (in the order given), whether or not it has ever run."""
    return [plan(schedule, histories.get(s) or SourceHistory(s), now) for s in sources]


def stale_tables(source_plans: list[SourcePlan]) -> dict[str, list[str]]:
    """Table → the stale sources that write it (for the pages' banners)."""
    out: dict[str, list[str]] = {}
    for p in source_plans:
        if p.stale:
            for table in SOURCE_TABLES.get(p.source, ()):
                out.setdefault(table, []).append(p.source)
    return out


def stale_message(p: SourcePlan, now: dt.datetime) -> str:
    """'github: no successful sync for 3 h (every 1h; stale after 2h)' — the alert's and banner's words."""
    every = f"every {fmt_duration(p.interval)}; stale after {fmt_duration(2 * p.interval)}"
    if p.last_success is None:
        tried = " (no run has succeeded yet)" if p.last_status else " (it has never run)"
        return f"{p.source}: never synced successfully{tried} — {every}"
    seconds = max(0.0, (now - p.last_success).total_seconds())
    age = fmt_duration(seconds if seconds < 3600 else seconds // 60 * 60)
    failing = f", {p.failures} failed run{'s' if p.failures != 1 else ''} since" if p.failures else ""
    return f"{p.source}: no successful sync for {age}{failing} — {every}"
