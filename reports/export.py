"""Exports for analysts: any table or metric, the same filters as the pages, CSV safe to open in a
spreadsheet, every export recorded in the audit log. `scorecard export` and the Export page both call
`export_frame` and `encode`."""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import polars as pl

from config.model import Config
from metrics.cube import Cube
from metrics.registry import METRICS, counting_columns
from metrics.scorecard import Prepared, compute, prepare, select_output
from metrics.teams import assign_team_column
from reports.data import load_cube, load_evidence, load_evidence_since
from warehouse import Warehouse, read_table
from warehouse.read import COUNTING_TIME as FILTERED_IN_SQL
from warehouse.runs import audit
from warehouse.schema import DATA_TABLES

# The counting time each table is filtered on (DESIGN.md "Time"): the metrics' (`MetricSpec.counted_at`),
# and the day of the usage tables no metric counts.
COUNTING_TIME = {**counting_columns(), "ai_usage": "date", "ai_usage_people": "date"}
SCORECARD = "scorecard"  # every metric at once
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "parquet")


def export_names() -> list[str]:
    return [SCORECARD, *METRICS, *DATA_TABLES]


@dataclass(frozen=True)
class ExportFilters:
    grain: str = "week"
    start: dt.date | None = None
    end: dt.date | None = None
    team: str | None = None


def export_frame(
    warehouse: Warehouse, config: Config, name: str, filters: ExportFilters, prepared: Prepared | Cube | None = None
) -> pl.DataFrame:
    """The rows an export of `name` holds under `filters`. A metric's records are computed from `prepared`
    (evidence already loaded, or the cube already read), by default from the warehouse's stored cube: the
    same records as from every row (metrics.scorecard.compute), without reading millions of them."""
    if name == SCORECARD or name in METRICS:
        if filters.start is None or filters.end is None:
            raise ValueError("a metric export needs --start and --end")
        if prepared is None:
            prepared = load_cube(warehouse, config)
        metrics = None if name == SCORECARD else [name]
        records = compute(prepared, config, grain=filters.grain, start=filters.start, end=filters.end,
                          team=filters.team, metrics=metrics)
        return select_output(records)
    if name not in DATA_TABLES:
        raise ValueError(f"unknown export '{name}'; choose one of: {', '.join(export_names())}")
    window = {}
    if name in FILTERED_IN_SQL:  # the same column as COUNTING_TIME: only the range's rows are read
        window = {"since": _midnight(filters.start), "until": _midnight(filters.end, days=1)}
    frame = assign_team_column(read_table(warehouse, name, **window), name, config.teams)
    if name == "pull_requests":
        frame = with_pr_facts(frame, warehouse, config, since=filters.start)
    if filters.team is not None and "team" in frame.columns:
        frame = frame.filter(pl.col("team") == filters.team)
    column = COUNTING_TIME.get(name)
    if column and (filters.start or filters.end):
        when = pl.col(column).cast(pl.Date) if frame.schema[column] != pl.Date else pl.col(column)
        if filters.start:
            frame = frame.filter(when >= filters.start)
        if filters.end:
            frame = frame.filter(when <= filters.end)
    return frame


# What the rollback rules decided about each PR (metrics.linking.pr_outcomes, the code the metrics use).
PR_FACTS = ("reverted_by_pr_id", "shipped_by_deployment_id", "rolled_back", "rolled_back_by", "rollback_window_ends_at")


def _midnight(day: dt.date | None, days: int = 0) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day + dt.timedelta(days=days), dt.time(), dt.timezone.utc)


def with_pr_facts(prs: pl.DataFrame, warehouse: Warehouse, config: Config, since: dt.date | None = None) -> pl.DataFrame:
    """`pull_requests` rows plus the facts behind every rollback-share record: `reverts_pr_id` (the
    source's own link, else the resolved one), `is_revert` (a bare `This reverts commit` counts once its
    sha is found on the main line), `reverted_by_pr_id`, `shipped_by_deployment_id`, `rolled_back`,
    `rolled_back_by` (a rollback deployment or a revert PR) and `rollback_window_ends_at`. Unmerged PRs
    have none of these (null). `since`: `prs` holds only PRs merged from that day on, so the facts are decided
    on the evidence from then on and the earlier rows it links to (reports/data.load_evidence_since: the
    same facts as on all of it) instead of on every row."""
    if since is None:
        evidence = load_evidence(warehouse)
    else:
        load_cube(warehouse, config)  # the slice reads the cube's shipping table: up to date first
        evidence = load_evidence_since(warehouse, config, since)
    outcomes = prepare(evidence, config).outcomes.select(
        "id", "is_revert", "reverted_by_pr_id", "rolled_back", "rolled_back_by", "rollback_window_ends_at",
        resolved_reverts_pr_id="reverts_pr_id", shipped_by_deployment_id="shipped_deployment_id",
    )
    columns = [c for c in prs.columns if c not in PR_FACTS]
    return prs.select(columns).join(outcomes.rename({"is_revert": "_is_revert"}), on="id", how="left").with_columns(
        reverts_pr_id=pl.coalesce("reverts_pr_id", "resolved_reverts_pr_id"),
        is_revert=pl.coalesce("_is_revert", "is_revert"),
    ).select(*columns, *PR_FACTS)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula with an apostrophe (OWASP's advice)."""
    risky = r"^[=+\-@\t\r]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(risky)).then(pl.lit("'") + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def encode(frame: pl.DataFrame, fmt: str) -> bytes:
    """The export file's bytes. Times are written in ISO 8601 UTC."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    buffer = io.BytesIO()
    if fmt == "csv":
        neutralise_formulas(frame).write_csv(buffer, datetime_format="%Y-%m-%dT%H:%M:%S%.fZ")
    else:
        frame.write_parquet(buffer)
    return buffer.getvalue()


def record_export(warehouse: Warehouse, name: str, fmt: str, filters: ExportFilters, rows: int, actor: str | None, destination: str) -> None:
    audit(
        warehouse, "export",
        {"name": name, "format": fmt, "rows": rows, "destination": destination, "grain": filters.grain,
         "start": filters.start, "end": filters.end, "team": filters.team},
        actor=actor,
    )
