"""The rows behind a scorecard record, each with the reason it counted ("why is this number red?")."""
from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.events import ai_segment_rows
from metrics.periods import Window, period_of
from metrics.registry import METRICS
from metrics.scorecard import Prepared, metric_events

_PR_DETAILS = ("repo", "number", "title", "author", "url", "ai_signals", "ai_tools", "ai_mode")


def record_events(
    prepared: Prepared,
    metric_id: str,
    *,
    grain: str,
    period: dt.date | None = None,
    window: Window | None = None,
    team: str | None = None,
    segment: str = "all",
) -> pl.DataFrame:
    """The events of one record: of `period` (a period's first day), or of a baseline `window`.

    `team` None means the whole org. Columns: `id`, `kind` (pr, incident, ticket, spend, unit), `at`,
    `team`, `segment`, `counted` ("numerator" / "denominator" for ratios, "value" for means,
    "spend" / "unit" for cost), `value` (hours, score or USD where it applies), `reason`, and for PRs
    `repo, number, title, author, url, ai_signals, ai_tools, ai_mode`.
    """
    spec = METRICS[metric_id]
    if (period is None) == (window is None):
        raise ValueError("give exactly one of period or window")
    events = metric_events(prepared, metric_id)
    if spec.kind == "cost_per_unit":
        spend, units = events
        frames = [
            spend.with_columns(kind=pl.lit("spend"), counted=pl.lit("spend")),
            units.with_columns(
                kind=pl.lit("unit"), counted=pl.lit("unit"), value=pl.lit(None, pl.Float64),
                reason=pl.col("unit_kind"),
            ).drop("unit_kind"),
        ]
    else:
        kind = {"ai_merge_rate": "pr", "rollback_share": "pr", "mttr_hours": "incident"}.get(metric_id, "ticket")
        frame = events.with_columns(kind=pl.lit(kind))
        if spec.kind == "ratio":
            frame = frame.with_columns(
                counted=pl.when(pl.col("hit")).then(pl.lit("numerator")).otherwise(pl.lit("denominator")),
                value=pl.lit(None, pl.Float64),
            ).drop("hit")
        else:
            frame = frame.with_columns(counted=pl.lit("value"))
        if ":" in segment:  # a `tool:` / `mode:` segment: the PR metric's events of that segment
            frame = ai_segment_rows(frame, prepared.outcomes)
        frames = [frame]
    out = []
    for frame in frames:
        at = pl.col("at")
        if period is not None:
            frame = frame.filter(period_of(at, grain) == period)
        elif frame.schema["at"] == pl.Date:
            frame = frame.filter(window.contains_day(at))
        else:
            frame = frame.filter(window.contains(at))
        if team is not None:
            frame = frame.filter(pl.col("team") == team)
        if segment != "all":
            frame = frame.filter(pl.col("segment") == segment)
        out.append(
            frame.select(
                "id", "kind", pl.col("at").cast(pl.Datetime("us", "UTC")), "team", "segment", "counted", "value", "reason"
            )
        )
    rows = pl.concat(out, how="vertical_relaxed")
    if metric_id in ("ai_merge_rate", "rollback_share"):
        details = prepared.outcomes.select("id", *_PR_DETAILS)
        rows = rows.join(details, on="id", how="left")
        if metric_id == "rollback_share":
            rows = rows.join(
                prepared.outcomes.select(
                    "id", "shipped_deployment_id", "rolled_back_how", "rolled_back_by", "rolled_back_at"
                ),
                on="id", how="left",
            )
    return rows.sort(["counted", "at", "id"], descending=[True, False, False])
