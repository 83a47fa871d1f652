"""The one calendar (DESIGN.md "Time", "Range grain"): ISO weeks from Monday, calendar months, and the
range (one period of the whole report), UTC; the review window the dashboard's tiles read; the default
ranges the dashboard and the CLI pick."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

_TRUNCATE = {"week": "1w", "month": "1mo"}
DEFAULT_BASELINE_WEEKS = 13
# The review window: the last 13 complete ISO weeks, or 3 complete months, of the selected range.
REVIEW_PERIODS = {"week": 13, "month": 3}


def period_of(expr: pl.Expr, grain: str) -> pl.Expr:
    """The first day (a date) of the period an event's counting time (datetime or date) falls in.
    A range has one period, named by its start: see `in_report`."""
    if grain not in _TRUNCATE:
        raise ValueError(f"grain must be week or month here, not '{grain}'")
    return expr.dt.truncate(_TRUNCATE[grain]).cast(pl.Date)


def in_report(frame: pl.DataFrame, day: pl.Expr, grain: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The rows whose day (a date expression) lies in a reported period, with `period` added: for week
    and month the periods whose first day lies in [start, end]; for range the one period [start, end]."""
    if grain == "range":
        return frame.filter(day.is_between(pl.lit(start), pl.lit(end))).with_columns(period=pl.lit(start))
    periods = period_starts(start, end, grain)
    if not periods:
        return frame.clear().with_columns(period=pl.lit(None, pl.Date))
    return frame.with_columns(period=period_of(day, grain)).filter(
        pl.col("period").is_between(pl.lit(periods[0]), pl.lit(periods[-1]))
    )


def next_period_start(period: dt.date, grain: str) -> dt.date:
    if grain == "week":
        return period + dt.timedelta(days=7)
    if grain == "month":
        return (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    raise ValueError(f"a range's end is the report's end, not a function of its start ('{grain}')")


def period_after(period: dt.date, grain: str, range_end: dt.date | None = None) -> dt.datetime:
    """The first instant after a period (for a range: the day after `range_end`), UTC."""
    if grain == "range":
        if range_end is None:
            raise ValueError("a range period needs its end")
        return utc(range_end + dt.timedelta(days=1))
    return utc(next_period_start(period, grain))


def first_period_start(start: dt.date, grain: str) -> dt.date:
    """The first period whose first day lies on or after `start`."""
    if grain == "week":
        return start + dt.timedelta(days=(7 - start.weekday()) % 7)
    if start.day == 1:
        return start
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_starts(start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
    """The reported periods: those whose first day lies in [start, end] (a range: [start])."""
    if grain == "range":
        return [start] if start <= end else []
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


def utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


_utc = utc


def review_window(start: dt.date, end: dt.date, grain: str, as_of: dt.datetime | None) -> tuple[dt.date, dt.date] | None:
    """The review window of a selected range (DESIGN.md "Settled points", Time): the last 13 ISO weeks
    (month grain: 3 calendar months) that lie wholly inside [start, end] and end on or before `as_of`'s
    date; fewer when the range holds fewer; None when it holds none. Returns (first day, last day)."""
    if grain not in REVIEW_PERIODS:
        raise ValueError(f"the review window is read in weeks or months, not '{grain}'")
    last_day = end if as_of is None else min(end, as_of.date())
    whole = [p for p in period_starts(start, end, grain)
             if next_period_start(p, grain) - dt.timedelta(days=1) <= last_day]
    if not whole:
        return None
    chosen = whole[-REVIEW_PERIODS[grain]:]
    return chosen[0], next_period_start(chosen[-1], grain) - dt.timedelta(days=1)


# The calendar the dashboard and the CLI pick ranges with (ISO weeks from Monday, calendar months).
# The default range: half a year of weeks, a year of months.
DEFAULT_PERIODS = {"week": 26, "month": 12}


def _week_or_month(grain: str) -> None:
    if grain not in _TRUNCATE:
        raise ValueError(f"grain must be week or month here, not '{grain}'")


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the period `day` falls in (ISO week from Monday, or calendar month)."""
    _week_or_month(grain)
    return day - dt.timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)


def previous_period_start(period: dt.date, grain: str) -> dt.date:
    """The first day of the period before the one that starts on `period`."""
    _week_or_month(grain)
    return period - dt.timedelta(days=7) if grain == "week" else (period - dt.timedelta(days=1)).replace(day=1)


def period_end(period: dt.date, grain: str) -> dt.date:
    """The last day of the period that starts on `period`."""
    return next_period_start(period, grain) - dt.timedelta(days=1)


def latest_complete_period(last_day: dt.date, today: dt.date, grain: str) -> dt.date:
    """The latest period that has data (it starts on or before `last_day`) and is over (it ended
    before `today`): a partial current week would look like a collapse in every metric."""
    current = period_start(today, grain)
    with_data = period_start(last_day, grain)
    return min(with_data, previous_period_start(current, grain))


def latest_complete_range(last_day: dt.date | None, today: dt.date, grain: str) -> tuple[dt.date, dt.date]:
    """The dashboard's default range (and `scorecard metrics` without dates): the last
    `DEFAULT_PERIODS[grain]` complete periods that have data, from the first day of the first to the
    last day of the last."""
    last = latest_complete_period(last_day or today, today, grain)
    first = last
    for _ in range(DEFAULT_PERIODS[grain] - 1):
        first = previous_period_start(first, grain)
    return first, period_end(last, grain)


def trailing_start(end: dt.date, grain: str) -> dt.date:
    """Where a range that ends on `end` starts when only its end is known: 26 weeks before it, or the
    first day of the month 11 months before its month (12 calendar months with `end`'s). Not aligned to
    whole periods: the periods whose first day lies in the range are reported."""
    _week_or_month(grain)
    if grain == "week":
        return end - dt.timedelta(weeks=DEFAULT_PERIODS["week"])
    month = end.month - (DEFAULT_PERIODS["month"] - 1)
    return dt.date(end.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
