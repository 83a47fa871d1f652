"""What a provisional tile says about its settling days (reports/review.settling_days), by hand."""
import datetime as dt

from config import Config
from reports.review import settling_days

UTC = dt.timezone.utc
CONFIG = Config()  # rollback window 7 days, rework window 21 days


def test_a_lookahead_window_names_the_days_still_open():
    # as_of Fri Mar 27 12:00; rollback window 7 d → events from Mar 20 12:00 on can still gain rollbacks:
    # Mar 20 … Mar 22 (the window's end) = 3 days.
    as_of = dt.datetime(2026, 3, 27, 12, tzinfo=UTC)
    record = {"metric": "rollback_share", "provisional": True}
    assert settling_days(record, CONFIG, as_of, dt.date(2026, 3, 22)) == "the last 3 days can still gain rollbacks"
    # Rework's 21 days: events from Mar 6 12:00 on can still gain a fix → Mar 6 … Mar 22 = 17 days.
    record = {"metric": "rework_rate", "provisional": True}
    assert settling_days(record, CONFIG, as_of, dt.date(2026, 3, 22)) == "the last 17 days can still gain follow-up fixes"


def test_a_rate_over_the_period_is_open_until_the_period_ends_never_the_last_0_days():
    as_of = dt.datetime(2026, 3, 29, 23, tzinfo=UTC)
    for metric, what in (("deployment_frequency", "deployments"), ("senior_review_load", "reviews")):
        record = {"metric": metric, "provisional": True}
        assert settling_days(record, CONFIG, as_of, dt.date(2026, 3, 29)) == (
            f"its last day is still running and can still gain {what}")


def test_a_settled_record_says_nothing():
    as_of = dt.datetime(2026, 3, 27, 12, tzinfo=UTC)
    assert settling_days({"metric": "rollback_share", "provisional": False}, CONFIG, as_of, dt.date(2026, 3, 22)) is None
