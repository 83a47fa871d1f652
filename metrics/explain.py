"""The rows behind a scorecard record, each with the reason it counted ("why is this number red?")."""
from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.events import segment_rows
from metrics.periods import Window, period_of
from metrics.registry import METRICS, MetricSpec
from metrics.scorecard import Prepared, metric_events

_PR_DETAILS = ("repo", "number", "title", "author", "url", "ai_signals", "ai_tools", "ai_mode")


def _details(prepared: Prepared, spec: MetricSpec) -> pl.DataFrame | None:
    """What each event row shows besides its reason, by the spec's `event_kind`: a PR's title, author and
    AI signals (and the spec's `outcome_details`), how an incident was linked to its cause, or what a
    deployment shipped and how it failed."""
    if spec.event_kind == "pr":
        return prepared.outcomes.select("id", *_PR_DETAILS, *spec.outcome_details)
    if spec.event_kind == "incident":
        return prepared.chain.incidents.select(
            "id", "caused_by_deployment_id", "cause_how", "cause_rule", "cause_prs"
        )
    if spec.event_kind == "deployment":
        return prepared.chain.deployments.select(
            "id", "repo", "environment", "url", "shipped_prs", "ai_prs", "failed_how", "failed_by"
        )
    return None


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

    `team` None means the whole org. Columns: `id`, `kind` (pr, incident, ticket, spend, unit,
    deployment, review), `at`, `team`, `segment`, `counted` ("numerator" / "denominator" for counts,
    "value" for means and medians, "spend" / "unit" for cost), `value` (hours, score or USD where it
    applies), `reason`; for PRs `repo, number, title, author, url, ai_signals, ai_tools, ai_mode`; for
    incidents (MTTR) `caused_by_deployment_id, cause_how, cause_rule, cause_prs`; for deployments `repo,
    environment, url, shipped_prs, ai_prs, failed_how, failed_by`. (A counted event of deployment_frequency
    or senior_review_load is a "numerator" row: their denominator is days or senior weeks, not rows.)
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
        frame = events.with_columns(kind=pl.lit(spec.event_kind))
        if "hit" in frame.columns:
            frame = frame.with_columns(
                counted=pl.when(pl.col("hit")).then(pl.lit("numerator")).otherwise(pl.lit("denominator")),
                value=pl.lit(None, pl.Float64),
            ).drop("hit")
        else:
            frame = frame.with_columns(counted=pl.lit("value"))
        if ":" in segment:  # a `tool:` / `mode:` / `cohort:` segment: the PR metric's events of that segment
            frame = segment_rows(frame, prepared.outcomes)
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
        elif spec.overlay_segments:
            frame = frame.filter(~pl.col("segment").is_in(spec.overlay_segments).fill_null(False))
        out.append(
            frame.select(
                "id", "kind", pl.col("at").cast(pl.Datetime("us", "UTC")), "team", "segment", "counted", "value", "reason"
            )
        )
    rows = pl.concat(out, how="vertical_relaxed")
    details = _details(prepared, spec) if spec.kind != "cost_per_unit" else None
    if details is not None:
        rows = rows.join(details, on="id", how="left")
    return rows.sort(["counted", "at", "id"], descending=[True, False, False])
