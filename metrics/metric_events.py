"""Each metric's events function, as its spec names it (`MetricSpec.events`): prepared facts → the event
rows the scorecard counts and `scorecard explain` lists, each with its counting time `at`.

One function per metric, all with one signature, `(facts, reasons=True)`; `reasons=False` leaves the
`reason` column empty (the cube sums rows and needs none). The rows themselves are built in the metric's
own module (metrics.events for the first set, one module per change-chain metric); the columns are
described there. Adding a metric: a function here (or in its module), its spec in metrics/registry.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from metrics import events as ev
from metrics.change_chain import ChainFacts
from metrics.change_failure import change_failure_events, mttr_change_events
from metrics.deployment_frequency import deployment_frequency_events
from metrics.evidence import Evidence
from metrics.lead_time import lead_time_events
from metrics.rework import rework_events
from metrics.senior_review import senior_review_events


@dataclass(frozen=True)
class Facts:
    """What an events function reads: teams-assigned evidence, its PR outcomes (metrics.linking), and,
    for the change-chain metrics, the chain's facts and the senior people (metrics.scorecard.Prepared has
    the same four attributes). Without `chain`, specs with `needs_chain` have no events."""

    evidence: Evidence
    outcomes: pl.DataFrame
    chain: ChainFacts | None = None
    seniors: pl.DataFrame | None = None


def ai_merge_rate(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return ev.ai_merge_rate(facts.outcomes, reasons)


def rollback_share(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return ev.rollback_share(facts.outcomes, reasons)


def mttr_hours(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    """Resolved incidents (segments ai / non_ai), and again those whose causing deployment shipped PRs
    (segments ai_change / non_ai_change, when the chain's facts are there)."""
    incidents = ev.mttr_hours(facts.evidence, reasons)
    if facts.chain is None:
        return incidents
    return pl.concat([incidents, mttr_change_events(facts.chain, reasons)], how="vertical_relaxed")


def deflection_rate(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return ev.deflection_rate(facts.evidence, reasons)


def csat(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return ev.csat(facts.evidence, reasons)


def ai_cost_per_unit(facts: Facts, reasons: bool = True) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two frames: the spend rows (the numerator) and the resolved units (the denominator)."""
    return ev.ai_spend(facts.evidence, reasons), ev.resolved_units(facts.evidence, facts.outcomes)


def deployment_frequency(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return deployment_frequency_events(facts.chain, reasons)


def lead_time_hours(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return lead_time_events(facts.evidence, facts.outcomes, reasons)


def change_failure_rate(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return change_failure_events(facts.chain, reasons)


def rework_rate(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return rework_events(facts.outcomes, facts.chain, reasons)


def senior_review_load(facts: Facts, reasons: bool = True) -> pl.DataFrame:
    return senior_review_events(facts.evidence, facts.seniors, reasons)
