"""The daily cube: every metric's events summed per day × team × segment.

Weeks and months are unions of UTC days, and baseline windows are whole days (configured windows run
through their end day; the default one ends the day before the first period), so daily sums give
exactly the records the events would. The scorecard is always computed from a cube, which is small
(a few hundred thousand rows for a 1M-PR organisation) and so can be kept on disk beside the warehouse
and read in milliseconds (see app/data.py). MTTR keeps one row per incident: its median, p90 and
Mann-Whitney test need the durations themselves.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path

import polars as pl

from metrics import events as ev
from metrics.senior_review import SENIORS_SCHEMA

CUBE_FORMAT = 5  # bump when the cube's shape changes: stored cubes of another format are rebuilt


@dataclass(frozen=True)
class Cube:
    # metric, day, team, segment, n, x, pending — ai_merge_rate, rollback_share (+ tool:/mode:/cohort: segments), rework_rate (+ cohort:),
    # deflection_rate, change_failure_rate, rework_rate, deployment_frequency (n = x = deployments),
    # senior_review_load (n = x = reviews)
    ratio: pl.DataFrame
    mean: pl.DataFrame  # metric, day, team, segment, n, total, sumsq — csat
    # metric, day, team, segment, value — mttr_hours (one row per incident, and one more per incident
    # with a causing change, segment ai_change / non_ai_change) and lead_time_hours (one per shipped PR, and
    # one more per shipped PR whose author has a cohort, segment cohort:<name>)
    values: pl.DataFrame
    spend: pl.DataFrame  # day, team, spend, rows — ai_cost_per_unit's numerator
    units: pl.DataFrame  # day, team, n — ai_cost_per_unit's denominator
    # first, last: the data span, the earliest and latest merged_at of a merged PR or finished_at of
    # any deployment (one row; nulls without either). `last` is `as_of` before the cap at now.
    span: pl.DataFrame
    # login, team, since, why — senior people: senior_review_load's denominator
    seniors: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SENIORS_SCHEMA))

    def teams(self) -> list[str]:
        names = set()
        for part in (self.ratio, self.mean, self.values, self.spend, self.units, self.seniors):
            names.update(part.get_column("team").unique().drop_nulls().to_list())
        return sorted(names)

    def last_day(self):
        days = [p.get_column("day").max() for p in (self.ratio, self.mean, self.values, self.spend, self.units) if p.height]
        return max(days) if days else None

    def data_span(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """(earliest, latest) merged_at / finished_at in the warehouse."""
        if self.span.height == 0:
            return None, None
        row = self.span.row(0, named=True)
        return row["first"], row["last"]

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            getattr(self, f.name).write_ipc(folder / f"{f.name}.arrow", compression="uncompressed")

    @classmethod
    def read(cls, folder: Path) -> "Cube":
        # Uncompressed Arrow IPC needs no decoding: reading it is little more than a file copy.
        return cls(**{f.name: pl.read_ipc(folder / f"{f.name}.arrow") for f in fields(cls)})


def _day(frame: pl.DataFrame) -> pl.Expr:
    return pl.col("at").cast(pl.Date)


def _ratio(metric: str, events: pl.DataFrame) -> pl.DataFrame:
    # `pending`: events whose outcome can still change after the metric's window (metrics.registry).
    pending = pl.col("pending").sum() if "pending" in events.columns else pl.lit(0)
    return (
        events.group_by(day=_day(events), team="team", segment="segment")
        .agg(n=pl.len().cast(pl.Int64), x=pl.col("hit").sum().cast(pl.Float64), pending=pending.cast(pl.Int64))
        .with_columns(metric=pl.lit(metric))
    )


def _with_ai_segments(events: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([events, ev.segment_rows(events, outcomes)], how="vertical_relaxed")


def _with_cohort_segments(metric: str, events: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """A change-chain PR metric's events plus its `cohort:<name>` rows when its spec has that family
    (rework_rate, lead_time_hours: no tool segments for them in the cube)."""
    from metrics.registry import METRICS

    if "cohort" not in METRICS[metric].segment_families:
        return events
    return pl.concat([events, ev.cohort_segment_rows(events, outcomes)], how="vertical_relaxed")


def build_cube(evidence, outcomes: pl.DataFrame, chain=None, seniors: pl.DataFrame | None = None) -> Cube:
    """The cube of teams-assigned evidence and its PR outcomes (see metrics.scorecard.prepare), with the
    change-chain metrics when its facts (metrics.change_chain.chain_facts) and senior people are given."""
    from metrics import change_chain_events as cc

    ratio_parts = [
        _ratio("ai_merge_rate", ev.ai_merge_rate(outcomes, reasons=False)),
        _ratio("rollback_share", _with_ai_segments(ev.rollback_share(outcomes, reasons=False), outcomes)),
        _ratio("deflection_rate", ev.deflection_rate(evidence, reasons=False)),
    ]
    value_parts: list[pl.DataFrame] = []
    if chain is not None:
        for metric, events in cc.ratio_events(evidence, outcomes, chain, seniors).items():
            ratio_parts.append(_ratio(metric, _with_cohort_segments(metric, events, outcomes)))
        for metric, events in cc.value_events(evidence, outcomes, chain).items():
            events = _with_cohort_segments(metric, events, outcomes)
            value_parts.append(
                events.select(metric=pl.lit(metric), day=_day(events), team="team", segment="segment", value="value"))
    ratio = pl.concat(ratio_parts, how="vertical_relaxed").select("metric", "day", "team", "segment", "n", "x", "pending")
    csat = ev.csat(evidence, reasons=False)
    mean = (
        csat.group_by(day=_day(csat), team="team", segment="segment")
        .agg(
            n=pl.len().cast(pl.Int64),
            total=pl.col("value").sum(),
            sumsq=(pl.col("value") * pl.col("value")).sum(),
        )
        .with_columns(metric=pl.lit("csat"))
        .select("metric", "day", "team", "segment", "n", "total", "sumsq")
    )
    mttr = ev.mttr_hours(evidence, reasons=False)
    values = pl.concat(
        [mttr.select(metric=pl.lit("mttr_hours"), day=_day(mttr), team="team", segment="segment", value="value"), *value_parts],
        how="vertical_relaxed",
    )
    spend_events = ev.ai_spend(evidence, reasons=False)
    spend = spend_events.group_by(day=_day(spend_events), team="team").agg(
        spend=pl.col("value").sum(), rows=pl.len().cast(pl.Int64)
    )
    unit_events = ev.resolved_units(evidence, outcomes)
    units = unit_events.group_by(day=_day(unit_events), team="team").agg(n=pl.len().cast(pl.Int64))
    return Cube(
        ratio=ratio.sort("metric", "day", "team"), mean=mean.sort("day", "team"),
        values=values.sort("metric", "day", "team"), spend=spend.sort("day", "team"), units=units.sort("day", "team"),
        span=data_span(evidence, outcomes),
        seniors=seniors if seniors is not None else pl.DataFrame(schema=SENIORS_SCHEMA),
    )


def data_span(evidence, outcomes: pl.DataFrame) -> pl.DataFrame:
    """One row, `first` and `last`: the earliest and latest merged_at of a merged PR or finished_at of
    any deployment (DESIGN.md "Settled points": the data span and `as_of`)."""
    instants = pl.concat([
        outcomes.select(at=pl.col("merged_at")),
        evidence.deployments.select(at=pl.col("finished_at")),
    ], how="vertical_relaxed").drop_nulls()
    return instants.select(first=pl.col("at").min(), last=pl.col("at").max())
