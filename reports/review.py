"""The review: what the dashboard's tiles, headline and teams table, `scorecard metrics` and the digest
read — the range records of the review window (DESIGN.md "Range grain"), against the fixed baseline.

No Streamlit here: the CLI and the digest build the same `Review` the Scorecard page draws."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from config.model import Config
from metrics.baseline import Baselines, as_of, baselines
from metrics.cube import Cube
from metrics.periods import review_window
from metrics.registry import METRICS
from metrics.scorecard import compute, empty_records


@dataclass(frozen=True)
class Review:
    """`window`: (first day, last day) of the review window, None when the range holds no whole period
    ending by `as_of`; `records`: its range records (every team and the whole org, or one team);
    `as_of`: the instant provisional records are judged at."""

    window: tuple[dt.date, dt.date] | None
    records: pl.DataFrame
    baselines: Baselines
    as_of: dt.datetime | None
    grain: str  # the grain the window was counted in (week: 13 weeks, month: 3 months)

    @property
    def periods(self) -> str:
        if self.window is None:
            return "not enough data"
        first, last = self.window
        if self.grain == "week":
            weeks = ((last - first).days + 1) // 7
            return f"{weeks} week{'s' if weeks != 1 else ''}"
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        return f"{months} month{'s' if months != 1 else ''}"

    def describe(self) -> str:
        """`13 weeks, 1 Sep – 30 Nov 2026`."""
        if self.window is None:
            return "not enough data: no whole period in the selected range has ended"
        first, last = self.window
        return f"{self.periods}, {fmt_span(first, last)}"


def fmt_span(first: dt.date, last: dt.date) -> str:
    if first.year == last.year:
        return f"{first.day} {first.strftime('%b')} – {last.day} {last.strftime('%b %Y')}"
    return f"{first.day} {first.strftime('%b %Y')} – {last.day} {last.strftime('%b %Y')}"


def review(cube: Cube, config: Config, *, grain: str, start: dt.date, end: dt.date, team: str | None = None,
           now: dt.datetime | None = None) -> Review:
    """The review window of [start, end] at `grain` (week or month) and its range records."""
    windows = baselines(cube, config)
    moment = as_of(cube, now)
    window = review_window(start, end, grain, moment)
    if window is None:
        records = empty_records()
    else:
        records = compute(cube, config, grain="range", start=window[0], end=window[1], team=team, now=now,
                          baselines=windows)
    return Review(window=window, records=records, baselines=windows, as_of=moment, grain=grain)


def settling_days(record: dict, config: Config, as_of: dt.datetime | None, end: dt.date) -> str | None:
    """For a provisional range record: which of its days can still change, in words ("the last 7 days
    can still gain rollbacks"); None for a settled record."""
    if not record.get("provisional") or as_of is None:
        return None
    spec = METRICS[record["metric"]]
    if spec.lookahead is None:
        return None
    window = spec.lookahead.of(config.rules)
    days = window.days + (1 if window.seconds else 0)
    what = spec.still_to_come
    if days == 0:  # a rate over the period's days: open until the period ends
        return f"its last day is still running and can still gain {what}"
    first_open = (as_of - window).date()
    settling = (end - first_open).days + 1
    if settling <= 0:
        # Only unshipped PRs keep it open: they can still ship and be rolled back.
        return "PRs merged but not shipped yet can still be rolled back"
    settling = min(settling, days)
    return f"the last {settling} day{'s' if settling != 1 else ''} can still gain {what}"

