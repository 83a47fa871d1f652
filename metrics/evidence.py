"""The evidence the metrics read: one polars frame per warehouse table, in fixed column types.

`Evidence.of(...)` conforms whatever it is given (a test's inline frame with three columns, or a whole
table read from the warehouse): missing columns become empty, types are cast. The metric functions can
then rely on every column below being there.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

import polars as pl

UTC = pl.Datetime("us", "UTC")

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "pull_requests": {
        "id": pl.String(), "source": pl.String(), "repo": pl.String(), "number": pl.Int64(),
        "title": pl.String(), "author": pl.String(), "team": pl.String(), "url": pl.String(),
        "created_at": UTC, "merged_at": UTC, "merge_commit_sha": pl.String(),
        "ai_assisted": pl.Boolean(), "ai_signals": pl.String(), "is_revert": pl.Boolean(),
        "reverts_pr_id": pl.String(), "revert_ref": pl.String(), "labels": pl.String(),
        "ai_tools": pl.String(), "ai_mode": pl.String(), "ai_confidence": pl.String(),
    },
    "deployments": {
        "id": pl.String(), "source": pl.String(), "repo": pl.String(), "team": pl.String(),
        "environment": pl.String(), "sha": pl.String(), "finished_at": UTC, "status": pl.String(),
        "is_rollback": pl.Boolean(), "url": pl.String(),
    },
    "deployment_prs": {"deployment_id": pl.String(), "pr_id": pl.String()},
    "incidents": {
        "id": pl.String(), "source": pl.String(), "title": pl.String(), "team": pl.String(),
        "service": pl.String(), "severity": pl.String(), "started_at": UTC, "resolved_at": UTC,
        "ai_assisted": pl.Boolean(), "caused_by_deployment_id": pl.String(), "url": pl.String(),
    },
    "tickets": {
        "id": pl.String(), "source": pl.String(), "team": pl.String(), "created_at": UTC,
        "resolved_at": UTC, "channel": pl.String(), "csat": pl.Float64(),
    },
    "ai_spend": {
        "id": pl.String(), "source": pl.String(), "date": pl.Date(), "team": pl.String(),
        "tool": pl.String(), "model": pl.String(), "workflow": pl.String(), "cost_usd": pl.Float64(),
        "tokens": pl.Int64(), "requests": pl.Int64(),
    },
    "pull_request_files": {"pr_id": pl.String(), "path": pl.String()},
    "reviews": {
        "id": pl.String(), "pr_id": pl.String(), "reviewer": pl.String(), "state": pl.String(),
        "submitted_at": UTC,
    },
    "people": {"login": pl.String(), "name": pl.String(), "team": pl.String(), "level": pl.String(), "since": UTC},
}


def conform(frame: pl.DataFrame | None, table: str) -> pl.DataFrame:
    """The frame with exactly the columns metrics use from `table`, in their types."""
    schema = SCHEMAS[table]
    if frame is None:
        return pl.DataFrame(schema=schema)
    exprs = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif dtype == UTC and frame.schema[name] == pl.Datetime("us"):
            exprs.append(pl.col(name).dt.replace_time_zone("UTC"))  # a naive time is UTC
        elif isinstance(frame.schema[name], pl.Datetime) and dtype == UTC:
            exprs.append(pl.col(name).dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
        else:
            exprs.append(pl.col(name).cast(dtype))
    return frame.select(exprs)


@dataclass(frozen=True)
class Evidence:
    pull_requests: pl.DataFrame
    deployments: pl.DataFrame
    deployment_prs: pl.DataFrame
    incidents: pl.DataFrame
    tickets: pl.DataFrame
    ai_spend: pl.DataFrame
    pull_request_files: pl.DataFrame
    reviews: pl.DataFrame
    people: pl.DataFrame

    @classmethod
    def of(cls, **tables: pl.DataFrame | None) -> "Evidence":
        unknown = set(tables) - set(SCHEMAS)
        if unknown:
            raise TypeError(f"unknown evidence table(s): {', '.join(sorted(unknown))}")
        return cls(**{name: conform(tables.get(name), name) for name in SCHEMAS})

    def replace(self, **tables: pl.DataFrame) -> "Evidence":
        return replace(self, **tables)

    def until(self, now: dt.datetime) -> "Evidence":
        """The evidence as it stood at `now` (`--as-of`, for reproducible reports): events after it are
        ignored. A PR merged later is open (not merged) at `now`, an incident or ticket resolved later is
        unresolved; rows created, started, finished or submitted later (reviews), the files of PRs not
        yet created, and spend dated on `now`'s day or later (a day's spend is known once the day is
        over), are left out."""
        at = pl.lit(now)
        day = pl.lit(now.date())

        def cleared(column: str) -> pl.Expr:
            return pl.when(pl.col(column) > at).then(None).otherwise(pl.col(column)).alias(column)

        prs = self.pull_requests.filter(pl.col("created_at").is_null() | (pl.col("created_at") <= at))
        return replace(
            self,
            pull_requests=prs.with_columns(cleared("merged_at")),
            deployments=self.deployments.filter(pl.col("finished_at").is_null() | (pl.col("finished_at") <= at)),
            incidents=self.incidents.filter(pl.col("started_at").is_null() | (pl.col("started_at") <= at))
            .with_columns(cleared("resolved_at")),
            tickets=self.tickets.filter(pl.col("created_at").is_null() | (pl.col("created_at") <= at))
            .with_columns(cleared("resolved_at")),
            ai_spend=self.ai_spend.filter(pl.col("date") < day),
            reviews=self.reviews.filter(pl.col("submitted_at").is_null() | (pl.col("submitted_at") <= at)),
            pull_request_files=self.pull_request_files.join(prs.select(pr_id="id"), on="pr_id", how="semi"),
        )

    def tables(self) -> dict[str, pl.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
