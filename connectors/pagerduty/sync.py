"""PagerDuty incidents as batches, window by window.

`GET /incidents` filters by creation time (`since`/`until`, at most six months a query) and has no
"updated since". So the cursor is the end of the last window read completely, and every sync reads again
from `look_back_days` before it: incidents created then and resolved since are seen resolved. Windows are
30 days (small offsets); classic pagination stops at offset 10,000, after which a window restarts from
the newest creation time read.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import polars as pl

from config.model import Config
from connectors.common.times import utc_time
from connectors.contract import Batch, Rejected, Unreadable
from connectors.pagerduty.client import PagerDutyError, PagerDutySession
from connectors.pagerduty.mapping import incident_id, incident_row

log = logging.getLogger(__name__)

STREAM = "incidents"
SEVERITY_FIELDS = ("urgency", "priority")
WINDOW = dt.timedelta(days=30)
OFFSET_LIMIT = 10_000
DEFAULT_HISTORY = dt.timedelta(days=365)
UTC = pl.Datetime("us", "UTC")
SCHEMA = {
    "id": pl.String, "source": pl.String, "title": pl.String, "team": pl.String, "service": pl.String,
    "severity": pl.String, "started_at": UTC, "resolved_at": UTC, "ai_assisted": pl.Boolean, "url": pl.String,
    "original_severity": pl.String,
    "caused_by_deployment_id": pl.String,
}


def first_since(config: Config, cursor: dt.datetime | None, *, now: dt.datetime) -> dt.datetime:
    """Where this sync starts reading: the cursor less the look-back, else the configured start."""
    pd = config.pagerduty
    if cursor is not None:
        return cursor - dt.timedelta(days=pd.look_back_days)
    if pd.start_date is not None:
        return dt.datetime.combine(pd.start_date, dt.time(), dt.timezone.utc)
    return now - DEFAULT_HISTORY


def parse_cursor(cursor: str | None) -> dt.datetime | None:
    if not cursor:
        return None
    try:
        return utc_time(cursor)
    except ValueError:
        log.warning("ignoring an unreadable PagerDuty cursor %r: reading from the start", cursor)
        return None


def pagerduty_batches(config: Config, session: PagerDutySession, cursor: str | None, *, full: bool,
                      now: dt.datetime, stats: dict[str, int]) -> Iterator[Batch]:
    pd = config.pagerduty
    if pd.look_back_days < 0 or pd.page_size < 1:
        raise PagerDutyError("pagerduty.look_back_days must be ≥ 0 and pagerduty.page_size ≥ 1")
    if pd.severity_field not in SEVERITY_FIELDS:
        raise PagerDutyError(f"pagerduty.severity_field must be one of {', '.join(SEVERITY_FIELDS)}, "
                             f"not '{pd.severity_field}'")
    previous = None if full else parse_cursor(cursor)
    since = first_since(config, previous, now=now)
    done = 0
    # The cursor never moves back (a look-back longer than a window would otherwise rewind it).
    newest_end = previous
    try:
        start = since
        while start < now:
            end = min(start + WINDOW, now)
            for batch, count in _window(config, session, start, end):
                done += count
                if batch.cursors:
                    newest_end = end if newest_end is None or end > newest_end else newest_end
                    batch.cursors = {STREAM: newest_end.isoformat()}
                batch.progress_done, batch.progress_message = done, f"pagerduty: {done} incidents to {end:%Y-%m-%d}"
                yield batch
            start = end
    finally:
        stats["calls"] = session.total_calls


def _window(config: Config, session: PagerDutySession, start: dt.datetime,
            end: dt.datetime) -> Iterator[tuple[Batch, int]]:
    """One batch per page of incidents created in [start, end); the last one carries the cursor."""
    pd = config.pagerduty
    offset, since = 0, start
    while True:
        params = {
            "since": since.isoformat(), "until": end.isoformat(), "time_zone": "UTC",
            "sort_by": "created_at:asc", "limit": pd.page_size, "offset": offset,
        }
        if pd.service_ids:
            params["service_ids[]"] = list(pd.service_ids)
        body = session.get("/incidents", params)
        items = body.get("incidents")
        if not isinstance(items, list):
            raise PagerDutyError("GET /incidents: the response has no `incidents` list")
        rows, rejected, newest = [], [], None
        for item in items:
            try:
                row = incident_row(item, pd)
            except Unreadable as exc:
                rejected.append(Rejected(STREAM, incident_id(item), str(exc)))
                continue
            rows.append(row)
            newest = row["started_at"] if newest is None or row["started_at"] > newest else newest
        last = not body.get("more") or not items
        yield Batch(
            frames={"incidents": pl.DataFrame(rows, schema=SCHEMA, orient="row")} if rows else {},
            cursors={STREAM: end.isoformat()} if last else {},
            rejected=rejected,
        ), len(items)
        if last:
            return
        offset += len(items)
        if offset + pd.page_size > OFFSET_LIMIT:
            if newest is None or newest <= since:
                raise PagerDutyError(f"more than {OFFSET_LIMIT} incidents created at {since.isoformat()}: "
                                     "PagerDuty cannot page past them")
            since, offset = newest, 0
