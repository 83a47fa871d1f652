"""The filters every page shares (grain, date range, team) and the periods they select (the calendar:
metrics/periods.py)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from metrics.periods import next_period_start, period_end, period_starts, utc
from reports.format import fmt_day

ALL_TEAMS = "All teams"


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
        return utc(periods[0]), utc(next_period_start(periods[-1], self.grain))

    def describe(self) -> str:
        periods = self.periods
        if not periods:
            return f"no whole {self.grain} starts between {fmt_day(self.start)} and {fmt_day(self.end)}"
        unit = self.grain + ("s" if len(periods) != 1 else "")
        return (f"{len(periods)} {unit}, {fmt_day(periods[0])} – {fmt_day(period_end(periods[-1], self.grain))}"
                f" · {self.scope}")
