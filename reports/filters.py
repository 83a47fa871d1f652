"""The filters every page shares (grain, date range, team) and the periods they select."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from metrics.periods import period_starts

DEFAULT_PERIODS = {"week": 26, "month": 12}  # half a year of weeks, a year of months
ALL_TEAMS = "All teams"


def next_period(period: dt.date, grain: str) -> dt.date:
    if grain == "week":
        return period + dt.timedelta(days=7)
    return (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_period(period: dt.date, grain: str) -> dt.date:
    if grain == "week":
        return period - dt.timedelta(days=7)
    return (period - dt.timedelta(days=1)).replace(day=1)


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the period `day` falls in (ISO week from Monday, or calendar month)."""
    return day - dt.timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)


def period_end(period: dt.date, grain: str) -> dt.date:
    """The last day of the period that starts on `period`."""
    return next_period(period, grain) - dt.timedelta(days=1)


def latest_complete_period(last_day: dt.date, today: dt.date, grain: str) -> dt.date:
    """The latest period that has data (it starts on or before `last_day`) and is over (it ended
    before `today`): a partial current week would look like a collapse in every metric."""
    current = period_start(today, grain)
    with_data = period_start(last_day, grain)
    return min(with_data, previous_period(current, grain))


def default_range(last_day: dt.date | None, today: dt.date, grain: str) -> tuple[dt.date, dt.date]:
    """The default date range: the last `DEFAULT_PERIODS[grain]` complete periods that have data,
    from the first day of the first to the last day of the last."""
    last = latest_complete_period(last_day or today, today, grain)
    first = last
    for _ in range(DEFAULT_PERIODS[grain] - 1):
        first = previous_period(first, grain)
    return first, period_end(last, grain)


def period_label(period: dt.date, grain: str) -> str:
    return f"week of {fmt_day(period)}" if grain == "week" else period.strftime("%B %Y")


def fmt_day(day: dt.date | dt.datetime) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


@dataclass(frozen=True)
class Filters:
    """What a page shows: periods whose first day lies in [start, end], one team or the whole org."""

    grain: str
    start: dt.date
    end: dt.date
    team: str | None = None

    @property
    def periods(self) -> list[dt.date]:
        return period_starts(self.start, self.end, self.grain)

    @property
    def scope(self) -> str:
        return f"team {self.team}" if self.team else "the whole organisation"

    def bounds(self) -> tuple[dt.datetime, dt.datetime] | None:
        """[from, to) in UTC covering the selected periods whole (the last may run past `end`)."""
        periods = self.periods
        if not periods:
            return None
        return _utc(periods[0]), _utc(next_period(periods[-1], self.grain))

    def describe(self) -> str:
        periods = self.periods
        if not periods:
            return f"no whole {self.grain} starts between {fmt_day(self.start)} and {fmt_day(self.end)}"
        unit = self.grain + ("s" if len(periods) != 1 else "")
        return (f"{len(periods)} {unit}, {fmt_day(periods[0])} – {fmt_day(period_end(periods[-1], self.grain))}"
                f" · {self.scope}")


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
