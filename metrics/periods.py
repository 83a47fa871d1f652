"""Periods and windows (DESIGN.md "Time"): ISO weeks from Monday, calendar months, UTC."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from config.model import BaselineConfig

_TRUNCATE = {"week": "1w", "month": "1mo"}
DEFAULT_BASELINE_WEEKS = 13


def period_of(expr: pl.Expr, grain: str) -> pl.Expr:
    """The first day (a date) of the period an event's counting time (datetime or date) falls in."""
    if grain not in _TRUNCATE:
        raise ValueError(f"grain must be week or month, not '{grain}'")
    return expr.dt.truncate(_TRUNCATE[grain]).cast(pl.Date)


def first_period_start(start: dt.date, grain: str) -> dt.date:
    """The first period whose first day lies on or after `start`."""
    if grain == "week":
        return start + dt.timedelta(days=(7 - start.weekday()) % 7)
    if start.day == 1:
        return start
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_starts(start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
    """The reported periods: those whose first day lies in [start, end]."""
    out, day = [], first_period_start(start, grain)
    while day <= end:
        out.append(day)
        day = day + dt.timedelta(days=7) if grain == "week" else (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


@dataclass(frozen=True)
class Window:
    """An inclusive time window [start, end] in UTC; `label` says where it came from."""

    start: dt.datetime
    end: dt.datetime
    label: str

    @property
    def first_day(self) -> dt.date:
        return self.start.date()

    @property
    def last_day(self) -> dt.date:
        return self.end.date()

    def contains(self, expr: pl.Expr) -> pl.Expr:
        """For datetime columns; a date column is compared by day."""
        return expr.is_between(pl.lit(self.start), pl.lit(self.end), closed="both")

    def contains_day(self, expr: pl.Expr) -> pl.Expr:
        return expr.is_between(pl.lit(self.first_day), pl.lit(self.last_day), closed="both")


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def baseline_window(metric_id: str, baseline: BaselineConfig, first_period: dt.date) -> Window:
    """The metric's baseline window: `[baseline.<metric>]`, else `[baseline]`, else the 13 weeks before
    the first reported period. A configured end counts through the end of that day, UTC: DESIGN.md's
    "through 23:59:59.999" read as the whole day (the last microsecond included), which is also what
    the daily cube sums."""
    configured = baseline.per_metric.get(metric_id) or baseline.window
    if configured is not None:
        source = f"[baseline.{metric_id}]" if metric_id in baseline.per_metric else "[baseline]"
        return Window(
            _utc(configured.start),
            _utc(configured.end) + dt.timedelta(days=1) - dt.timedelta(microseconds=1),
            f"{configured.start} to {configured.end} ({source})",
        )
    start = _utc(first_period) - dt.timedelta(weeks=DEFAULT_BASELINE_WEEKS)
    end = _utc(first_period) - dt.timedelta(microseconds=1)
    return Window(start, end, f"{start.date()} to {end.date()} (13 weeks before {first_period})")
