"""The numbers of a chart drawn as static HTML, as Vega computes them: a linear scale's nice domain and ticks
(d3-array's `tickIncrement`, d3-scale's `nice`), the d3 formats our specs name (`$,.2f`, `.0%`, `,.4~r`, …)
and the month ticks of a UTC time axis. Pure: no Streamlit, no HTML."""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re

_E10, _E5, _E2 = math.sqrt(50), math.sqrt(10), math.sqrt(2)


def tick_increment(start: float, stop: float, count: int) -> float:
    """d3's tickIncrement: the step of about `count` ticks between start and stop, 1, 2 or 5 times a power of
    ten; below 1 as the negative inverse (-20 for a step of 0.05), so that steps stay exact in floating point."""
    step = (stop - start) / max(0, count)
    power = math.floor(math.log10(step))
    error = step / 10 ** power
    factor = 10 if error >= _E10 else 5 if error >= _E5 else 2 if error >= _E2 else 1
    return factor * 10 ** power if power >= 0 else -(10 ** -power) / factor


def nice(start: float, stop: float, count: int = 10) -> tuple[float, float]:
    """d3-scale's `linear.nice(count)`: the domain widened to whole steps (Vega's `nice: true` uses count 10)."""
    if stop <= start:
        return start, stop
    previous = None
    for _ in range(10):
        step = tick_increment(start, stop, count)
        if step == previous:
            break
        if step > 0:
            start, stop = math.floor(start / step) * step, math.ceil(stop / step) * step
        else:
            start, stop = math.ceil(start * step) / step, math.floor(stop * step) / step
        previous = step
    return start + 0.0, stop + 0.0  # no -0.0 from the negative steps


def ticks(start: float, stop: float, count: int) -> tuple[list[float], float]:
    """d3's `ticks(start, stop, count)` and their step: the values a Vega axis of `tickCount` count labels."""
    if stop <= start:
        return [start], 0.0
    increment = tick_increment(start, stop, count)
    if increment > 0:
        first, last = round(start / increment), round(stop / increment)
        first += first * increment < start
        last -= last * increment > stop
        return [i * increment for i in range(first, last + 1)], float(increment)
    inverse = -increment
    first, last = round(start * inverse), round(stop * inverse)
    first += first / inverse < start
    last -= last / inverse > stop
    return [i / inverse for i in range(first, last + 1)], 1 / inverse


_FORMAT = re.compile(r"^(?P<currency>\$)?(?P<comma>,)?(?:\.(?P<precision>\d+))?(?P<trim>~)?(?P<kind>[%fr])?$")


def number_format(specifier: str | None, step: float = 0.0):
    """A d3 format as a function of a number: the subset our specs use — `$`, `,`, a precision, `~` (trim
    insignificant zeros) and the types `f`, `%`, `r`. No specifier: d3's default tick format for ticks `step`
    apart (as many decimals as the step has). Negative numbers take d3's minus sign (−)."""
    if not specifier:
        decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
        specifier = f",.{decimals}f"
    match = _FORMAT.match(specifier)
    if match is None:
        raise ValueError(f"a d3 format this chart does not draw: {specifier!r}")
    kind, trim = match["kind"] or "r", bool(match["trim"])
    precision = int(match["precision"]) if match["precision"] is not None else (12 if kind == "r" else 6)
    comma = "," if match["comma"] else ""

    def fmt(value: float) -> str:
        size = abs(value) * (100 if kind == "%" else 1)
        if kind == "r":
            text = _significant(size, precision, comma)
        else:
            text = f"{size:{comma}.{precision}f}"
        if trim and "." in text:
            text = text.rstrip("0").rstrip(".")
        negative = value < 0 and any(c in "123456789" for c in text)
        return ("−" if negative else "") + (match["currency"] or "") + text + ("%" if kind == "%" else "")

    return fmt


def _significant(size: float, digits: int, comma: str) -> str:
    if size == 0:
        return f"{0:.{digits - 1}f}"
    decimals = digits - 1 - math.floor(math.log10(size))
    rounded = round(size, decimals)
    return f"{rounded:{comma}.{max(0, decimals)}f}"


def month_ticks(first: dt.date, last: dt.date, most: int = 7) -> list[tuple[dt.date, str]]:
    """The labels of a UTC time axis from `first` to `last` as Vega's default format writes them: the first of
    each month as its name ("July"), of January as its year ("2026"), every 1, 2, 3, 6 or 12 months so that at
    most `most` fit; a span shorter than two months gets its Mondays instead, as "Mar 02"."""
    if (last - first).days < 60:
        monday = first + dt.timedelta(days=-first.weekday() % 7)
        days = [monday + dt.timedelta(weeks=i) for i in range((last - monday).days // 7 + 1)]
        step = max(1, math.ceil(len(days) / most))
        return [(day, day.strftime("%b %d")) for day in days[::step]]
    months = []
    year, month = first.year, first.month
    if first.day != 1:  # the first whole month's start
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    while dt.date(year, month, 1) <= last:
        months.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    step = next((s for s in (1, 2, 3, 6, 12) if math.ceil(len(months) / s) <= most), 12)
    shown = [day for day in months if (day.year * 12 + day.month - 1) % step == 0]
    return [(day, str(day.year) if day.month == 1 else calendar.month_name[day.month]) for day in shown]
