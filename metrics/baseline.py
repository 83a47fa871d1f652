"""Baseline windows (DESIGN.md "Default baseline (revision 2)" and its settled points).

The baseline never depends on the report range: it is read from the data (the adoption week, the span)
or from `[baseline]`. Everything here reads the daily cube, so the dashboard, the CLI and the export
find the same windows.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from config.model import BaselineWindow, Config
from metrics.cube import Cube
from metrics.periods import DEFAULT_BASELINE_WEEKS, Window, utc
from metrics.registry import METRICS

ADOPTION_SHARE = 0.05  # the adoption week: at least 5% of its merged PRs are AI-assisted
# The metric whose daily counts place the adoption week: its whole history is read, not only a report's days.
ADOPTION_METRIC = "ai_merge_rate"
_WEEK = dt.timedelta(weeks=1)
_LAST_INSTANT = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Baselines:
    """The baseline window of every metric, and why it is that window (for the sidebar and the CLI).

    `default` is the window of every metric without its own; `pre_ai` is False when the default window
    could not be placed before the adoption week (it then holds the first weeks of data);
    `adoption_week` is the Monday of the AI adoption week (None: none found or configured)."""

    default: Window
    why: str
    pre_ai: bool
    adoption_week: dt.date | None
    own: dict[str, Window] = field(default_factory=dict)
    own_why: dict[str, str] = field(default_factory=dict)

    def window(self, metric_id: str) -> Window:
        return self.own.get(metric_id, self.default)


def _configured(window: BaselineWindow, source: str) -> Window:
    # "through 23:59:59.999": the whole end day, its last microsecond included.
    return Window(utc(window.start), utc(window.end) + dt.timedelta(days=1) - _LAST_INSTANT,
                  f"{window.start} to {window.end} ({source})")


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def complete_weeks(first: dt.datetime | None, last: dt.datetime | None) -> tuple[dt.date, dt.date] | None:
    """(first Monday, last Monday) of the ISO weeks lying wholly inside the span [first, last]."""
    if first is None or last is None:
        return None
    start = _monday(first.date())
    if utc(start) < first:
        start += _WEEK
    end = _monday(last.date())
    # The week of `end` is complete only when `last` is its final instant or later.
    if utc(end) + _WEEK - _LAST_INSTANT > last:
        end -= _WEEK
    return (start, end) if start <= end else None


def _weeks_window(first_monday: dt.date, weeks: int, label: str) -> Window:
    return Window(utc(first_monday), utc(first_monday) + weeks * _WEEK - _LAST_INSTANT, label)


def _empty(label: str) -> Window:
    # start after end: contains nothing, so the baseline is missing (status rule 2).
    return Window(utc(dt.date(1970, 1, 2)), utc(dt.date(1970, 1, 1)), label)


def adoption_week(cube: Cube, config: Config) -> dt.date | None:
    """The Monday of the AI adoption week: the week of `[rules] ai_adoption_start`, else the first week
    with at least `min_sample` merged PRs of which at least 5% are AI-assisted (whole org)."""
    if config.rules.ai_adoption_start is not None:
        return _monday(config.rules.ai_adoption_start)
    merged = cube.ratio.filter(pl.col("metric") == ADOPTION_METRIC)
    weekly = (
        merged.group_by(week=pl.col("day").dt.truncate("1w").cast(pl.Date))
        .agg(n=pl.col("n").sum(), ai=pl.col("x").sum())
        .filter((pl.col("n") >= config.rules.min_sample) & (pl.col("ai") >= ADOPTION_SHARE * pl.col("n")))
    )
    return weekly["week"].min() if weekly.height else None


def baselines(cube: Cube, config: Config) -> Baselines:
    """Every metric's baseline window: `[baseline.<metric>]`, else `[baseline]`, else the revision-2
    default (the up-to-13 complete weeks before the adoption week; the cost metric: the first 13 complete
    weeks that have spend rows, unless it has its own window)."""
    first, last = cube.data_span()
    weeks = complete_weeks(first, last)
    adoption = adoption_week(cube, config)
    own: dict[str, Window] = {}
    own_why: dict[str, str] = {}
    for metric_id, window in config.baseline.per_metric.items():
        own[metric_id] = _configured(window, f"[baseline.{metric_id}]")
        own_why[metric_id] = f"set in [baseline.{metric_id}]"
    pre_ai = True
    if config.baseline.window is not None:
        default = _configured(config.baseline.window, "[baseline]")
        why = "set in [baseline] of the configuration"
    elif weeks is None:
        default, why, pre_ai = _empty("no complete week of data"), "no complete week of data yet", False
    else:
        span_start, span_end = weeks
        begin = stop = span_start
        if adoption is not None:
            begin = max(adoption - DEFAULT_BASELINE_WEEKS * _WEEK, span_start)
            stop = min(adoption, span_end + _WEEK)
        count = (stop - begin).days // 7
        if count > 0:
            default = _weeks_window(begin, count, f"{count} weeks before AI adoption ({adoption})")
            cause = ("[rules] ai_adoption_start" if config.rules.ai_adoption_start is not None
                     else f"the first week with ≥ {ADOPTION_SHARE:.0%} AI-assisted merged PRs")
            why = f"the {count} complete weeks before AI adoption in the week of {adoption} ({cause})"
        else:
            count = min(DEFAULT_BASELINE_WEEKS, (span_end - span_start).days // 7 + 1)
            default = _weeks_window(span_start, count, f"first {count} weeks of data (not pre-AI)")
            why = (f"not pre-AI: the first {count} complete weeks of data, because "
                   + ("AI-assisted PRs are there from the start" if adoption is not None
                      else "no week reaches the adoption threshold"))
            pre_ai = False
    for spec in METRICS.values():  # a cost per unit has its own window, unless configured
        if spec.kind == "cost_per_unit" and spec.id not in own:
            own[spec.id], own_why[spec.id] = _cost_window(cube, weeks)
    return Baselines(default=default, why=why, pre_ai=pre_ai, adoption_week=adoption, own=own, own_why=own_why)


def _cost_window(cube: Cube, weeks: tuple[dt.date, dt.date] | None) -> tuple[Window, str]:
    """The 13 consecutive complete weeks from the first complete week with spend rows: before adoption
    the cost is nil, so a pre-AI window says nothing about it."""
    if weeks is None or cube.spend.height == 0:
        return _empty("no spend in a complete week"), "no spend rows in a complete week yet"
    span_start, span_end = weeks
    spend_weeks = cube.spend.select(pl.col("day").dt.truncate("1w").cast(pl.Date).unique()).to_series()
    candidates = sorted(w for w in spend_weeks.to_list() if span_start <= w <= span_end)
    if not candidates:
        return _empty("no spend in a complete week"), "no spend rows in a complete week yet"
    begin = candidates[0]
    count = min(DEFAULT_BASELINE_WEEKS, (span_end - begin).days // 7 + 1)
    window = _weeks_window(begin, count, f"first {count} weeks with spend")
    return window, f"its own: the first {count} complete weeks with AI spend, from {begin}"


def as_of(cube: Cube, now: dt.datetime | None = None) -> dt.datetime | None:
    """The latest merged_at / finished_at in the warehouse, capped at `now` (None: no such event)."""
    _, last = cube.data_span()
    if last is None:
        return None
    return min(last, now) if now is not None else last
