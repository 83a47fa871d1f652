"""The one timestamp parser for values a source sends one at a time (the CSV and FOCUS readers parse
whole columns: connectors.common.normalise.parse_timestamp)."""
from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc


def utc_time(value: str | dt.datetime) -> dt.datetime:
    """ISO 8601 text (`Z`, `±hh:mm`, `±hhmm`, fractional seconds; a bare date is midnight) or a datetime,
    as an aware UTC datetime; a time without an offset is taken as UTC. Raises ValueError for anything
    else (the caller says which field, in its source's words)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def utc_time_or_none(value) -> dt.datetime | None:
    """`utc_time`, or None when the value is missing or unreadable (for ordering and cursors)."""
    try:
        return utc_time(value) if value else None
    except ValueError:
        return None
