"""What the vendor usage connectors share: the `ai_usage_people` frame, the warning for a refused
stream, and reading numbers a vendor may send as text (their HTTP client: connectors.common.http)."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from connectors.contract import Unreadable
from connectors.common.http import HttpError

PEOPLE_SCHEMA = {
    "id": pl.String, "source": pl.String, "date": pl.Date, "tool": pl.String, "vendor_user": pl.String,
    "email": pl.String, "login": pl.String, "model": pl.String, "api_key": pl.String,
    "active": pl.Boolean, "engaged": pl.Boolean, "suggestions": pl.Int64, "acceptances": pl.Int64,
    "lines_added": pl.Int64, "lines_removed": pl.Int64, "sessions": pl.Int64, "requests": pl.Int64,
    "commits": pl.Int64, "prs": pl.Int64, "tokens": pl.Int64, "cost_usd": pl.Float64,
    "project": pl.String, "used_chat": pl.Boolean, "used_agent": pl.Boolean, "used_cli": pl.Boolean,
    "detail": pl.String,
}
SPEND_SCHEMA = {
    "id": pl.String, "source": pl.String, "date": pl.Date, "team": pl.String, "tool": pl.String,
    "model": pl.String, "workflow": pl.String, "cost_usd": pl.Float64, "tokens": pl.Int64, "requests": pl.Int64,
    "vendor_user": pl.String, "api_key": pl.String,
}


def people_frame(rows: Iterable[Mapping[str, Any]], columns: Iterable[str] | None = None) -> pl.DataFrame:
    """`ai_usage_people` rows (only `columns`, when given: the others stay as they are in the warehouse)."""
    schema = {k: v for k, v in PEOPLE_SCHEMA.items() if columns is None or k in set(columns)}
    return pl.DataFrame([{k: row.get(k) for k in schema} for row in rows], schema=schema)


def detail(fields: Mapping[str, Any]) -> str | None:
    """The `detail` column: a record's documented fields that no column holds as they are, by their API
    names, as compact JSON with sorted keys (None when there are none), so nothing documented is dropped."""
    kept = {k: v for k, v in fields.items() if v is not None}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str) if kept else None


def spend_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([{k: row.get(k) for k in SPEND_SCHEMA} for row in rows], schema=SPEND_SCHEMA)


def _number(value, what: str) -> float:
    """A JSON number or numeric text as a float (not a boolean)."""
    if isinstance(value, bool):
        raise Unreadable(f"{what} is a boolean, not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Unreadable(f"{what} is not a number: {str(value)[:30]!r}") from None


def count(value, what: str) -> int:
    """A non-negative whole number (JSON number or numeric text); None counts as 0."""
    if value is None:
        return 0
    number = _number(value, what)
    if number != number or number < 0 or number != int(number):
        raise Unreadable(f"{what} is not a whole number of 0 or more: {value!r}")
    return int(number)


def amount(value, what: str) -> float:
    """A finite amount (JSON number or numeric text); None counts as 0."""
    if value is None:
        return 0.0
    number = _number(value, what)
    if number != number or number in (float("inf"), float("-inf")):
        raise Unreadable(f"{what} is not a finite number")
    return number


def day_of(value, what: str) -> dt.date:
    """A UTC day from 'YYYY-MM-DD', an RFC 3339 time, or epoch milliseconds (number or text)."""
    text = str(value).strip() if value is not None else ""
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise Unreadable(f"{what} is not a date: {text[:30]!r}") from None


def epoch_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


def refused_warning(vendor: str, what: str, exc: HttpError, needs: str) -> str:
    """The warning for a stream the key may not read: which permission it needs."""
    return f"{vendor} {what} left out: {exc} — the key needs {needs}"
