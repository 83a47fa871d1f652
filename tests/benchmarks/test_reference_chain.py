"""The pandas reference's change chain against the product on the hand-worked scenarios of
tests/metrics/test_change_chain.py, and against the numbers worked out there."""
import dataclasses
import datetime as dt

import pytest

from benchmarks.reference_pandas import load_frames_from_polars, scorecard
from config.model import BaselineConfig, BaselineWindow, RulesConfig
from metrics.evidence import Evidence
from tests.benchmarks.test_reference_pandas import assert_same_records, product_records
from tests.factories import evidence, make_incident
from tests.metrics.test_change_chain import (
    CONFIG, SENIOR_CONFIG, WEEK, delivery_scenario, rework_scenario, senior_scenario,
)

CHAIN = ("deployment_frequency", "lead_time_hours", "change_failure_rate", "rework_rate", "senior_review_load")


def reference(ev: Evidence, config, start, end, **kw):
    windows = {"*": (config.baseline.window.start, config.baseline.window.end)} if config.baseline.window else None
    return scorecard(load_frames_from_polars(ev), grain="week", start=start, end=end, min_sample=config.rules.min_sample,
                     services={n: list(s.repos) for n, s in config.services.items()},
                     senior_logins=config.people.senior, baseline_windows=windows, **kw)


def with_services_incidents(ev: Evidence) -> Evidence:
    """The delivery scenario plus incidents linked through [services.checkout], a source link, none."""
    extra = evidence(incidents=[
        make_incident("i2", started_at="2026-03-05 10:00", resolved_at="2026-03-05 11:00", service="CHECKOUT"),
        make_incident("i3", started_at="2026-03-06 10:00", resolved_at="2026-03-06 12:00", team="api", caused_by="d1"),
        make_incident("i4", started_at="2026-03-06 10:00", resolved_at="2026-03-06 10:30"),  # unassigned: none
    ]).incidents
    import polars as pl

    return ev.replace(incidents=pl.concat([ev.incidents, extra]))


@pytest.mark.parametrize("scenario", ["delivery", "rework", "senior", "senior_baseline"])
def test_reference_equals_product_on_the_hand_worked_scenarios(scenario):
    start, end = WEEK, WEEK + dt.timedelta(days=7)
    config = CONFIG
    if scenario == "delivery":
        ev = with_services_incidents(delivery_scenario())
        config = dataclasses.replace(CONFIG, services={"checkout": dataclasses.replace(CONFIG.services["checkout"], repos=("acme/api",))})
    elif scenario == "rework":
        ev = rework_scenario()
    else:
        ev, config = senior_scenario(), SENIOR_CONFIG
        if scenario == "senior_baseline":
            config = dataclasses.replace(config, rules=RulesConfig(min_sample=1), baseline=BaselineConfig(
                window=BaselineWindow(dt.date(2026, 2, 2), dt.date(2026, 2, 15))))
    product = product_records(ev, config, "week", start, end)
    theirs = reference(ev, config, start, end)
    assert set(product["metric"]) & set(CHAIN)
    assert_same_records(product, theirs)


def test_reference_decides_the_delivery_scenario_as_worked_out_by_hand():
    out = reference(delivery_scenario(), CONFIG, WEEK, WEEK)
    org = out[out["team"].isna()].set_index(["metric", "segment"])
    # As in tests/metrics/test_change_chain.py: 2 of 5 deployments failed; ai 1/2, non_ai 1/1.
    assert (org.loc[("change_failure_rate", "all"), "numerator"], org.loc[("change_failure_rate", "all"), "n"]) == (2, 5)
    assert org.loc[("change_failure_rate", "non_ai"), "value"] == 1
    assert org.loc[("lead_time_hours", "all"), "value"] == 7 and org.loc[("lead_time_hours", "non_ai"), "value"] == 6.75
    assert org.loc[("mttr_hours", "ai_change"), "value"] == 3
    assert org.loc[("deployment_frequency", "all"), "value"] == pytest.approx(5 / 7)
