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
from metrics.cohorts import EarlierMerges
from metrics.lead_time import lead_time_events
from metrics.metric_events import Facts
from metrics.registry import METRICS
from metrics.rework import rework_events
from metrics.senior_review import SENIORS_SCHEMA

# Bump when the cube's shape changes: it is part of the stored cube's fingerprint (reports.data.cube_fingerprint),
# so a cube stored in another format is rebuilt by the first reader, never read as if it were this one.
# 7: the values table's metric, team and segment are categorical (dictionary-encoded when stored).
# 8: the ratio table's too.
# 9: the per-PR facts kept beside the cube (`pr_facts`, stored by reports/derived.py).
# 10: parts kept beside them too: the resolved tickets' daily counts (`ticket_facts`), and the Delivery
#     page's per-incident and per-failed-deployment facts (`incident_facts`, `failed_facts`).
# 11: the spend summed per day, source, tool and model (`spend_sums`, reports.adoption_data.spend_sums_by_day)
#     for the Adoption page, and per day, team, tool, model and workflow (`spend_rollup`) for the AI spend page,
#     kept beside them.
# 12: the PRs' AI identities for the Governance page (`identity_facts`).
CUBE_FORMAT = 12


CATEGORICAL_KEYS = ("metric", "team", "segment")  # the values and ratio tables' categorical columns


@dataclass(frozen=True)
class Cube:
    """One table per `MetricSpec.cube_table`: which metrics land where follows from their kind and status
    test (metrics.registry)."""

    # metric, day, team, segment, n, x, pending (metric, team and segment categorical) — the counted metrics
    # (kinds ratio, per_day, per_senior_week), with their tool:/mode:/cohort: segments; per_day and
    # per_senior_week have n = x = events
    ratio: pl.DataFrame
    mean: pl.DataFrame  # metric, day, team, segment, n, total, sumsq — means from sums (csat)
    # metric, day, team, segment, value (metric, team and segment categorical: a few distinct names over
    # millions of rows, stored as dictionary codes and read without building a string per row) — mttr_hours (one row per incident, and one more per incident
    # with a causing change, segment ai_change / non_ai_change) and lead_time_hours (one per shipped PR, and
    # one more per shipped PR whose author has a cohort, segment cohort:<name>)
    values: pl.DataFrame
    spend: pl.DataFrame  # day, team, spend, rows — the cost metric's numerator
    units: pl.DataFrame  # day, team, n — the cost metric's denominator
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

    def metric_rows(self, table: str, metric: str) -> pl.DataFrame:
        """The rows of one metric in a table with a `metric` column (ratio, mean, values). Built and stored
        cubes keep each metric's rows together (sorted by metric), so this is a slice of the table, not a
        filter over all of it; a table whose metrics are interleaved is filtered (`metric_slices`, once per
        table)."""
        slices = self.__dict__.setdefault("_metric_slices", {})  # the cube is frozen; this cache is not a field
        if table not in slices:
            slices[table] = metric_slices(getattr(self, table))
        found = slices[table].get(metric)
        return found if found is not None else getattr(self, table).clear()

    def adopt_slices(self, table: str, slices: dict[str, pl.DataFrame]) -> None:
        """Take `metric_slices` already made of this cube's `table` (the very frame), not to make them again."""
        self.__dict__.setdefault("_metric_slices", {}).setdefault(table, slices)

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


def metric_slices(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each metric's rows of a table with a `metric` column: slices where every metric's rows lie together,
    else filters (`Cube.metric_rows` reads them)."""
    runs = _metric_runs(frame)
    if runs is None:
        return {m: frame.filter(pl.col("metric") == m) for m in frame.get_column("metric").unique().drop_nulls().to_list()}
    return {metric: frame.slice(offset, length) for metric, (offset, length) in runs.items()}


def _metric_runs(frame: pl.DataFrame) -> dict[str, tuple[int, int]] | None:
    """(offset, length) of each metric's rows when every metric's rows lie together; None when not."""
    runs = frame.get_column("metric").rle()
    names = runs.struct.field("value").to_list()
    if len(set(names)) != len(names):
        return None
    lengths = runs.struct.field("len").to_list()
    offsets = [sum(lengths[:i]) for i in range(len(lengths))]
    return {name: (offset, length) for name, offset, length in zip(names, offsets, lengths)}


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


def build_cube(evidence, outcomes: pl.DataFrame, chain=None, seniors: pl.DataFrame | None = None,
               earlier: EarlierMerges | None = None) -> Cube:
    """The cube of teams-assigned evidence and its PR outcomes (see metrics.scorecard.prepare), with the
    change-chain metrics when its facts (metrics.change_chain.chain_facts) and senior people are given.
    `earlier`: the authors' merge counts of weeks the evidence holds only some PRs of (the upkeep's slice;
    metrics.cohorts.pr_cohort_keys).

    Every spec of the registry adds its events (without reasons) to the table its `cube_table` names;
    a spec with `segment_families` adds its events again once per `tool:` / `mode:` / `cohort:` segment."""
    facts = Facts(evidence=evidence, outcomes=outcomes, chain=chain, seniors=seniors)
    ratio_parts, mean_parts, value_parts, overlay_parts, cost = [], [], [], [], None
    for spec in METRICS.values():
        if spec.needs_chain and chain is None:
            continue
        events = spec.events(facts, reasons=False)
        table = spec.cube_table
        if table == "ratio":
            if spec.segment_families:
                events = pl.concat([events, ev.family_segment_rows(events, outcomes, spec.segment_families, earlier)],
                                   how="vertical_relaxed")
            ratio_parts.append(_ratio(spec.id, events))
        elif table == "mean":
            mean_parts.append(_sums(spec.id, events))
        elif table == "values":
            if spec.segment_families:  # lead_time_hours' cohort:<name> rows (issue 18)
                events = pl.concat([events, ev.family_segment_rows(events, outcomes, spec.segment_families, earlier)],
                                   how="vertical_relaxed")
            rows = events.select(metric=pl.lit(spec.id), day=_day(events), team="team", segment="segment", value="value")
            overlay = pl.col("segment").is_in(spec.overlay_segments).fill_null(False)
            value_parts.append(rows.filter(~overlay))
            overlay_parts.append(rows.filter(overlay))
        else:
            if cost is not None:
                raise ValueError(f"the cube keeps one cost metric's spend and units, not also '{spec.id}''s")
            cost = events
    spend_events, unit_events = cost
    ratio = pl.concat(ratio_parts, how="vertical_relaxed").select("metric", "day", "team", "segment", "n", "x", "pending")
    mean = pl.concat(mean_parts, how="vertical_relaxed")
    # Overlay segments' rows (mttr_hours' ai_change / non_ai_change) after every metric's own: the cube's
    # row order, which decides the order values are summed in, is the one it always had.
    values = pl.concat([*value_parts, *overlay_parts], how="vertical_relaxed")
    spend = spend_events.group_by(day=_day(spend_events), team="team").agg(
        spend=pl.col("value").sum(), rows=pl.len().cast(pl.Int64)
    )
    units = unit_events.group_by(day=_day(unit_events), team="team").agg(n=pl.len().cast(pl.Int64))
    return Cube(
        ratio=ratio.sort("metric", "day", "team").with_columns(pl.col(*CATEGORICAL_KEYS).cast(pl.Categorical)),
        mean=mean.sort("day", "team"),
        # By value within day and team: a PR's lead-time row and its `cohort:` / `tool:` copies lie together,
        # and metrics.value_groups ranks them once (a cube stored in an earlier order reads the same, slower).
        values=values.sort("metric", "day", "team", "value", "segment").with_columns(pl.col(*CATEGORICAL_KEYS).cast(pl.Categorical)),
        spend=spend.sort("day", "team"), units=units.sort("day", "team"),
        span=data_span(evidence, outcomes),
        seniors=seniors if seniors is not None else pl.DataFrame(schema=SENIORS_SCHEMA),
    )


def pr_facts(evidence, outcomes: pl.DataFrame, chain) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The per-PR facts kept beside the cube (warehouse.cube_chunks.FACT_PARTS), for the Adoption page's
    cohort comparison and per-tool economics over a range (app/state.py), which count single PRs by author:
    (merged, shipped).

    - merged: one row per merged PR on its merge day (where the cube counts its rollback_share and
      rework_rate events): day, id, author, team, merged_at, ai_assisted, rolled_back, shipped_deployment_id,
      reworked (it has a follow-up fix).
    - shipped: one row per lead_time_hours event on its shipping day (where the cube counts it): day, id,
      author, team, at, value.

    Each row lies on the day the cube counts the same PR's events on, so whatever keeps those days exact
    (the upkeep's slice, reports/derived.py) keeps these rows exact."""
    reworked = rework_events(outcomes, chain, reasons=False).select("id", reworked="hit")
    merged = (outcomes.filter(pl.col("merged_at").is_not_null())
              .select("id", "author", "team", "merged_at", "ai_assisted", "rolled_back", "shipped_deployment_id")
              .join(reworked, on="id", how="left", maintain_order="left")
              .select(pl.col("merged_at").cast(pl.Date).alias("day"), pl.all())
              .sort("day", "id"))
    lead = lead_time_events(evidence, outcomes, reasons=False)
    shipped = (lead.join(outcomes.select("id", "author"), on="id", how="left", maintain_order="left")
               .select(day=pl.col("at").cast(pl.Date), id="id", author="author", team="team", at="at", value="value")
               .sort("day", "id"))
    return merged, shipped


# The columns of `ticket_facts`.
TICKET_FACTS_SCHEMA = {"day": pl.Date, "team": pl.String, "channel": pl.String, "tickets": pl.Int64,
                       "scored": pl.Int64, "csat_total": pl.Float64}


def ticket_facts(tickets: pl.DataFrame) -> pl.DataFrame:
    """The resolved tickets counted per day of `resolved_at` (UTC) × team × channel (lower-case, `unknown`
    when empty), for the Support page (app/views/support.py): `tickets`, `scored` (with a CSAT) and
    `csat_total` (their CSATs summed). Each row lies on the day the cube counts those tickets' deflection
    and CSAT events on, so whatever keeps those days exact keeps these rows exact. A team's tickets come
    with their team assigned (metrics.teams.assign_teams)."""
    resolved = tickets.filter(pl.col("resolved_at").is_not_null())
    return (resolved.group_by(day=pl.col("resolved_at").cast(pl.Date), team=pl.col("team"),
                              channel=pl.col("channel").str.to_lowercase().fill_null("unknown"))
            .agg(tickets=pl.len().cast(pl.Int64), scored=pl.col("csat").is_not_null().sum().cast(pl.Int64),
                 csat_total=pl.col("csat").sum().cast(pl.Float64))
            .cast(TICKET_FACTS_SCHEMA).sort("day", "team", "channel"))




# The spend rows' columns `spend_rollup` reads (teams assigned), and its columns.
SPEND_ROLLUP_READS = ("date", "team", "tool", "model", "workflow", "cost_usd", "tokens", "requests")
SPEND_ROLLUP_SCHEMA = {"day": pl.Date, "team": pl.String, "tool": pl.String, "model": pl.String, "workflow": pl.String,
                       "cost_usd": pl.Float64, "tokens": pl.Int64, "requests": pl.Int64, "rows": pl.Int64}


def spend_rollup(spend: pl.DataFrame) -> pl.DataFrame:
    """The spend rows (teams assigned) summed per day × team × tool × model × workflow, seat-priced rows (no
    tokens) apart from the others, for the AI spend page (app/views/spend.py): `cost_usd`, `tokens` and
    `requests` summed (null where every row's is: a group of seat-priced rows has no tokens), `rows` counted.
    Each group lies on its rows' day, the day the cube counts their spend on, so whatever keeps those days exact
    keeps these rows exact. Rows by day, a day's groups in the order their first rows come (where each group is
    one spend row, the rows as read, in their order: the page adds up the same values in the same order)."""
    seat_priced = pl.col("tokens").is_null().alias("_seat_priced")
    known = {c: pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()) for c in ("tokens", "requests")}
    out = (spend.group_by(pl.col("date").alias("day"), "team", "tool", "model", "workflow", seat_priced, maintain_order=True)
           .agg(cost_usd=pl.col("cost_usd").sum(), **known, rows=pl.len())
           .drop("_seat_priced").sort("day", maintain_order=True))
    return out.cast(SPEND_ROLLUP_SCHEMA).select(list(SPEND_ROLLUP_SCHEMA))


# The columns of the Delivery page's two tables' facts (`delivery_facts`): what app/views/delivery.py's
# linked_incidents and failed_deployments read of the change chain's incidents and deployments.
INCIDENT_FACT_COLUMNS = ("id", "title", "team", "service", "started_at", "resolved_at", "caused_by_deployment_id",
                         "cause_how", "cause_segment", "cause_prs", "cause_rule", "url")
FAILED_FACT_COLUMNS = ("id", "repo", "environment", "team", "finished_at", "shipped_prs", "ai_prs", "failed",
                       "failed_how", "failed_by", "failed_reason")


def delivery_facts(chain) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The per-incident and per-failed-deployment facts kept beside the cube (warehouse.cube_chunks.FACT_PARTS),
    for the Delivery page's two tables over a range (app/state.py), which list single incidents and failed
    deployments with their causes: (incidents, failed).

    - incidents: one row per incident with a start, on its start day (`INCIDENT_FACT_COLUMNS` of
      `ChainFacts.incidents`: its cause, how it was linked, the cause's segment and the PRs it shipped).
    - failed: one row per failed production deployment (not a rollback) with a finish, on its finish day
      (`FAILED_FACT_COLUMNS` of `ChainFacts.deployments`).

    A failed deployment's row lies on the day the cube counts its change_failure_rate event on, so the
    upkeep's slice from a cut on decides it exactly (its rollbacks, reverts and incidents lie after it). An
    incident's row lies on its start day: the slice from a cut on holds every incident started since, the
    production deployments from the link window before it (the inferred causes) and those the source names
    (reports.derived.slice_starts), so it is decided exactly too; a write that can change it (the incident,
    a deployment within the link window before its start, what its cause shipped) reaches its start day
    (warehouse/reach.py)."""
    incidents = (chain.incidents.filter(pl.col("started_at").is_not_null())
                 .select(pl.col("started_at").cast(pl.Date).alias("day"), *INCIDENT_FACT_COLUMNS)
                 .sort("day", "id"))
    failed = (chain.deployments.filter(pl.col("failed") & pl.col("finished_at").is_not_null())
              .select(pl.col("finished_at").cast(pl.Date).alias("day"), *FAILED_FACT_COLUMNS)
              .sort("day", "id"))
    return incidents, failed


def facts(evidence, outcomes: pl.DataFrame, chain, identity_prs: pl.DataFrame | None = None) -> dict[str, pl.DataFrame]:
    """Every part kept beside the cube (warehouse.cube_chunks.FACT_PARTS), by name: `pr_facts`' two,
    `ticket_facts`, `delivery_facts`' two and the PRs' AI identities (governance.inventory.identity_facts) of
    `identity_prs` (teams assigned; default the evidence's PRs). The spend's two are made of reads of their own
    (reports/derived.py): the spend sums by the warehouse (reports.adoption_data.spend_sums_by_day), the rollup
    (`spend_rollup`) from the spend rows' columns it sums."""
    from governance.inventory import identity_facts  # the upkeep's and a rebuild's alone: not on a reader's path

    merged, shipped = pr_facts(evidence, outcomes, chain)
    incidents, failed = delivery_facts(chain)
    prs = evidence.pull_requests if identity_prs is None else identity_prs
    return {"pr_facts": merged, "ship_facts": shipped, "ticket_facts": ticket_facts(evidence.tickets),
            "incident_facts": incidents, "failed_facts": failed, "identity_facts": identity_facts(prs)}


def _sums(metric: str, events: pl.DataFrame) -> pl.DataFrame:
    """Per day × team × segment: n, Σ value and Σ value² (a mean and its s from sums)."""
    return (
        events.group_by(day=_day(events), team="team", segment="segment")
        .agg(
            n=pl.len().cast(pl.Int64),
            total=pl.col("value").sum(),
            sumsq=(pl.col("value") * pl.col("value")).sum(),
        )
        .with_columns(metric=pl.lit(metric))
        .select("metric", "day", "team", "segment", "n", "total", "sumsq")
    )


def data_span(evidence, outcomes: pl.DataFrame) -> pl.DataFrame:
    """One row, `first` and `last`: the earliest and latest merged_at of a merged PR or finished_at of
    any deployment (DESIGN.md "Settled points": the data span and `as_of`)."""
    instants = pl.concat([
        outcomes.select(at=pl.col("merged_at")),
        evidence.deployments.select(at=pl.col("finished_at")),
    ], how="vertical_relaxed").drop_nulls()
    return instants.select(first=pl.col("at").min(), last=pl.col("at").max())
