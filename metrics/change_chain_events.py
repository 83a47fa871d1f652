"""The change-chain metrics' events by metric id: what the cube sums and the drill-down lists.

One entry per metric; each events function lives in the metric's own module.
"""
from __future__ import annotations

import polars as pl

from metrics.change_chain import ChainFacts
from metrics.change_failure import change_failure_events, mttr_change_events
from metrics.deployment_frequency import deployment_frequency_events
from metrics.evidence import Evidence
from metrics.lead_time import lead_time_events
from metrics.rework import rework_events
from metrics.senior_review import senior_review_events

CHANGE_CHAIN_METRICS = ("deployment_frequency", "lead_time_hours", "change_failure_rate", "rework_rate", "senior_review_load")


def events(metric_id: str, evidence: Evidence, outcomes: pl.DataFrame, chain: ChainFacts, seniors: pl.DataFrame,
           reasons: bool = True) -> pl.DataFrame:
    """The event rows of one change-chain metric (columns: see the metric's module)."""
    if metric_id == "deployment_frequency":
        return deployment_frequency_events(chain, reasons)
    if metric_id == "lead_time_hours":
        return lead_time_events(evidence, outcomes, reasons)
    if metric_id == "change_failure_rate":
        return change_failure_events(chain, reasons)
    if metric_id == "rework_rate":
        return rework_events(outcomes, chain, reasons)
    if metric_id == "senior_review_load":
        return senior_review_events(evidence, seniors, reasons)
    raise KeyError(metric_id)


def ratio_events(evidence, outcomes, chain, seniors) -> dict[str, pl.DataFrame]:
    """The events the cube sums as counts (`hit`)."""
    return {
        m: events(m, evidence, outcomes, chain, seniors, reasons=False)
        for m in ("deployment_frequency", "change_failure_rate", "rework_rate", "senior_review_load")
    }


def value_events(evidence, outcomes, chain) -> dict[str, pl.DataFrame]:
    """The events the cube keeps one by one (`value`): lead times, and MTTR's change segments."""
    return {
        "lead_time_hours": lead_time_events(evidence, outcomes, reasons=False),
        "mttr_hours": mttr_change_events(chain, reasons=False),
    }
