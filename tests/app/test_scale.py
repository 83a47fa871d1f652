"""The numbers of a chart drawn as static HTML (app/views/scale.py), worked out by hand from d3's rules: a nice
domain, its ticks, the d3 formats our specs name, and a time axis' month labels."""
from __future__ import annotations

import datetime as dt

import pytest

from app.views.scale import month_ticks, nice, number_format, tick_increment, ticks


def test_the_step_is_one_two_or_five_times_a_power_of_ten():
    # 17 / 10 = 1.7: error 1.7 >= √2 → 2 · 10^0
    assert tick_increment(0, 17, 10) == 2
    # 0.48 / 10 = 0.048 = 4.8 · 10^-2: 4.8 >= √10 → 5 · 10^-2, carried as its negative inverse -100 / 5
    assert tick_increment(0, 0.48, 10) == -20
    # 0.5 / 6 = 0.083 = 8.3 · 10^-2: 8.3 >= √50 → 10 · 10^-2 = 0.1, as -100 / 10
    assert tick_increment(0, 0.5, 6) == -10


def test_a_nice_domain_ends_on_whole_steps():
    assert nice(0, 17.2) == (0, 18)  # steps of 2: 17.2 → 18
    assert nice(0, 0.48) == (0.0, 0.5)  # steps of 0.05: 0.48 → 0.5 (no -0.0 from the negative step)
    assert nice(3.62, 4.41) == (3.6, 4.5)  # 0.79 / 10 → 0.1 (7.9 >= √50): 3.6 and 4.5 (then the same step again)
    assert nice(2.0, 2.0) == (2.0, 2.0)


def test_ticks_as_a_vega_axis_of_that_tick_count():
    # 18 / 6 = 3 < √10 → 2: ten ticks 0, 2, …, 18
    assert ticks(0, 18, 6) == ([0, 2, 4, 6, 8, 10, 12, 14, 16, 18], 2.0)
    # 0.5 / 6 → 0.1 (above): 0, 0.1, …, 0.5, exact
    assert ticks(0, 0.5, 6) == ([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], 0.1)
    # 3.6–4.5 in 5: 0.18 → 0.2 (1.8 >= √2); the first multiple of 0.2 at or above 3.6 is 3.6, the last below 4.5 4.4
    values, step = ticks(3.6, 4.5, 5)
    assert values == [3.6, 3.8, 4.0, 4.2, 4.4] and step == 0.2


@pytest.mark.parametrize(("specifier", "value", "text"), [
    (".0%", 0.3, "30%"),
    (".1%", 0.4412, "44.1%"),
    ("$,.2f", 1234.5, "$1,234.50"),
    ("$,.3~r", 1234.5, "$1,230"),  # three significant digits, the zeros kept left of the point
    ("$,.3~r", 0.5, "$0.5"),  # 0.500 trimmed
    (",.4~r", 12.5, "12.5"),
    (",.4~r", 0.0, "0"),  # 0.000 trimmed
    (",~r", 1000.0, "1,000"),
    (",.0f", 1234.4, "1,234"),
    (".2f", 4.256, "4.26"),
    ("$,.2f", -3.1, "−$3.10"),  # d3's minus sign, before the currency
])
def test_the_d3_formats_the_specs_name(specifier, value, text):
    assert number_format(specifier)(value) == text


def test_without_a_format_a_tick_has_as_many_decimals_as_its_step():
    assert number_format(None, 2.0)(18.0) == "18"
    assert number_format(None, 0.05)(0.35) == "0.35"
    assert number_format(None, 0.2)(4.2) == "4.2"
    with pytest.raises(ValueError, match="does not draw"):
        number_format(".2e")


def test_months_are_labelled_by_name_and_january_by_its_year():
    # 5 June to 10 December: the first of each month from July; at most 7, so every month
    assert month_ticks(dt.date(2026, 6, 5), dt.date(2026, 12, 10)) == [
        (dt.date(2026, 7, 1), "July"), (dt.date(2026, 8, 1), "August"), (dt.date(2026, 9, 1), "September"),
        (dt.date(2026, 10, 1), "October"), (dt.date(2026, 11, 1), "November"), (dt.date(2026, 12, 1), "December")]
    # two years from 1 January 2025: 24 months; every 6 fits in 7 (4 labels), January as the year
    assert month_ticks(dt.date(2025, 1, 1), dt.date(2026, 12, 10)) == [
        (dt.date(2025, 1, 1), "2025"), (dt.date(2025, 7, 1), "July"), (dt.date(2026, 1, 1), "2026"),
        (dt.date(2026, 7, 1), "July")]


def test_a_short_span_is_labelled_by_its_mondays():
    # Wednesday 4 March to 19 March 2026: the Mondays 9 and 16 March
    assert month_ticks(dt.date(2026, 3, 4), dt.date(2026, 3, 19)) == [(dt.date(2026, 3, 9), "Mar 09"),
                                                                       (dt.date(2026, 3, 16), "Mar 16")]
