"""The shared filters: default ranges end with the latest complete period that has data."""
import datetime as dt

from metrics.periods import latest_complete_period, latest_complete_range, period_end
from reports.filters import Filters
from reports.format import period_label

UTC = dt.timezone.utc


def test_a_partial_current_week_is_never_the_latest_period():
    # Tuesday 2026-11-24: the week of Nov 23 is still running, so the week of Nov 16 is the latest.
    assert latest_complete_period(dt.date(2026, 11, 24), dt.date(2026, 11, 24), "week") == dt.date(2026, 11, 16)
    # Data that stopped on Wednesday Mar 25 (a quiet source): that week is over and has data.
    assert latest_complete_period(dt.date(2026, 3, 25), dt.date(2026, 11, 24), "week") == dt.date(2026, 3, 23)
    # Months: November 2026 is not over on Nov 24; October is.
    assert latest_complete_period(dt.date(2026, 11, 24), dt.date(2026, 11, 24), "month") == dt.date(2026, 10, 1)
    # On the first day of a month the month before is complete.
    assert latest_complete_period(dt.date(2026, 12, 1), dt.date(2026, 12, 1), "month") == dt.date(2026, 11, 1)


def test_default_range_is_26_weeks_or_12_months_of_whole_periods():
    today = dt.date(2026, 11, 24)
    # 26 weeks ending with the week of Nov 16 (Sunday Nov 22): starts 25 weeks earlier, Monday May 25.
    assert latest_complete_range(today, today, "week") == (dt.date(2026, 5, 25), dt.date(2026, 11, 22))
    # 12 months ending with October 2026: November 2025 – October 2026.
    assert latest_complete_range(today, today, "month") == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    # No data at all: the range still ends before the running period.
    assert latest_complete_range(None, today, "week") == (dt.date(2026, 5, 25), dt.date(2026, 11, 22))


def test_filters_cover_their_periods_whole():
    f = Filters(grain="week", start=dt.date(2026, 3, 4), end=dt.date(2026, 3, 18), team="payments")
    # Periods whose first day lies in [Mar 4, Mar 18]: the weeks of Mar 9 and Mar 16.
    assert f.periods == [dt.date(2026, 3, 9), dt.date(2026, 3, 16)]
    # The week of Mar 16 runs to Sunday Mar 22 although the range ends on the 18th.
    assert f.bounds() == (dt.datetime(2026, 3, 9, tzinfo=UTC), dt.datetime(2026, 3, 23, tzinfo=UTC))
    assert f.describe() == "2 weeks, 9 Mar 2026 – 22 Mar 2026 · team payments"
    empty = Filters(grain="month", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 30))
    assert empty.periods == [] and empty.bounds() is None
    assert "no whole month" in empty.describe()


def test_period_names():
    assert period_label(dt.date(2026, 3, 2), "week") == "week of 2 Mar 2026"
    assert period_label(dt.date(2026, 3, 1), "month") == "March 2026"
    assert period_end(dt.date(2026, 2, 1), "month") == dt.date(2026, 2, 28)
    assert period_end(dt.date(2026, 12, 28), "week") == dt.date(2027, 1, 3)
