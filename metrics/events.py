"""The events each metric counts: one row per PR, incident, ticket or spend row, with why it counted.

Every scorecard record is an aggregate of these rows, and the drill-down lists the same rows, so a
number on screen can always be traced to the rows behind it.

Common columns: `id`, `at` (the counting time), `team`, `segment` ("ai"/"non_ai", or null for metrics
without segments). Ratio metrics add `hit` (counted in the numerator); mean metrics add `value`; the
cost metric's spend rows add `value` (USD) and its unit rows `unit_kind`. `rollback_share` adds
`pending` (the PR is not shipped yet: it keeps its record provisional longer, metrics.registry).
"""
from __future__ import annotations

import polars as pl

from metrics.cohorts import EarlierMerges, pr_cohort_keys
from metrics.evidence import Evidence

DEFLECTED_CHANNELS = ("self_serve", "ai_bot")


def _reason(expr: pl.Expr, reasons: bool) -> pl.Expr:
    # The cube needs no reasons; formatting one per spend row would cost more than summing them.
    return (expr if reasons else pl.lit(None, dtype=pl.String)).alias("reason")


def _seg(flag: pl.Expr) -> pl.Expr:
    return pl.when(flag.fill_null(False)).then(pl.lit("ai")).otherwise(pl.lit("non_ai"))


def ai_merge_rate(outcomes: pl.DataFrame, reasons: bool = True) -> pl.DataFrame:
    return outcomes.select(
        "id", at="merged_at", team="team", segment=pl.lit(None, dtype=pl.String),
        hit=pl.col("ai_assisted").fill_null(False),
        reason=_reason(
            pl.when(pl.col("ai_assisted")).then(pl.lit("AI-assisted: ") + pl.col("ai_signals").fill_null(""))
            .otherwise(pl.lit("not AI-assisted")),
            reasons,
        ),
    )


def rollback_share(outcomes: pl.DataFrame, reasons: bool = True) -> pl.DataFrame:
    fmt = "%Y-%m-%d %H:%M UTC"
    reason = (
        pl.when(pl.col("rolled_back_how") == "deployment rollback")
        .then(
            pl.format(
                "rolled back: shipped in {} ({}), rolled back by {} at {}",
                "shipped_deployment_id", "shipped_how", "rolled_back_by", pl.col("rolled_back_at").dt.strftime(fmt),
            )
        )
        .when(pl.col("rolled_back_how") == "revert")
        .then(pl.format("rolled back: reverted by {} at {}", "rolled_back_by", pl.col("rolled_back_at").dt.strftime(fmt)))
        .when(pl.col("shipped_deployment_id").is_null())
        .then(pl.lit("not rolled back (not shipped yet)"))
        .otherwise(pl.format("not rolled back (shipped in {})", "shipped_deployment_id"))
    )
    return outcomes.select(
        "id", at="merged_at", team="team", segment=_seg(pl.col("ai_assisted")), hit="rolled_back",
        pending=pl.col("shipped_deployment_id").is_null(),
        reason=_reason(reason, reasons),
    )


AI_SEGMENT_FAMILIES = ("tool", "mode")  # DESIGN.md: `tool:<name>` and `mode:<mode>` segments of PR metrics


def is_ai_segment(segment: pl.Expr) -> pl.Expr:
    """True for a `tool:<name>`, `mode:<mode>` or `cohort:<name>` segment (rows that must not count again
    in `all`)."""
    return segment.cast(pl.String).str.contains(":").fill_null(False)  # the cube's segments are categorical


def ai_segment_rows(events: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """A PR metric's events again, once per AI segment of the PR: `tool:<name>` for each registry tool in
    its `ai_tools` (a PR with two tools counts in both) and `mode:<mode>` for its `ai_mode` — AI-assisted
    PRs only (DESIGN.md: tool segments count only AI-assisted PRs; their baseline is segment `all`).

    `events` are one row per PR (`id` = the PR id, any other columns); `outcomes` are `pr_outcomes` (`id,
    ai_assisted, ai_tools` (JSON list), `ai_mode`). Returns `events`' columns with `segment` replaced.
    A metric adds these rows to its own (the scorecard counts segment `all` without them), e.g.
    `pl.concat([events, ai_segment_rows(events, outcomes)])` — how `lead_time_hours` or `rework_rate`
    get their tool segments.
    """
    ai = outcomes.filter(pl.col("ai_assisted").fill_null(False)).select(
        "id", tools=pl.col("ai_tools").fill_null("[]").str.json_decode(pl.List(pl.String)), mode="ai_mode"
    )
    tools = ai.select("id", segment="tools").explode("segment").drop_nulls("segment").select(
        "id", segment=pl.lit("tool:") + pl.col("segment"))
    modes = ai.drop_nulls("mode").select("id", segment=pl.lit("mode:") + pl.col("mode"))
    keys = pl.concat([tools, modes])
    return events.drop("segment").join(keys, on="id", how="inner").select(events.columns)


def segment_rows(events: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """`ai_segment_rows` followed by the events again once per PR with `segment = cohort:<name>`, the
    author's adoption cohort in the PR's merge week (metrics.cohorts.pr_cohort_keys; issue 18) — every
    PR of an author with a cohort, AI-assisted or not. `outcomes` also need `author`, `merged_at`."""
    return pl.concat([ai_segment_rows(events, outcomes), cohort_segment_rows(events, outcomes)], how="vertical_relaxed")


def family_segment_rows(events: pl.DataFrame, outcomes: pl.DataFrame, families: tuple[str, ...],
                        earlier: EarlierMerges | None = None) -> pl.DataFrame:
    """The rows of `segment_rows` of the segment families a metric has (`MetricSpec.segment_families`:
    "tool", "mode", "cohort"), in that function's order. `earlier`: see `metrics.cohorts.pr_cohort_keys`."""
    parts = []
    ai_families = [f for f in AI_SEGMENT_FAMILIES if f in families]
    if ai_families:
        rows = ai_segment_rows(events, outcomes)
        if len(ai_families) < len(AI_SEGMENT_FAMILIES):
            rows = rows.filter(pl.col("segment").str.starts_with(f"{ai_families[0]}:"))
        parts.append(rows)
    if "cohort" in families:
        parts.append(cohort_segment_rows(events, outcomes, earlier))
    return pl.concat(parts, how="vertical_relaxed") if parts else events.clear()


def cohort_segment_rows(events: pl.DataFrame, outcomes: pl.DataFrame, earlier: EarlierMerges | None = None) -> pl.DataFrame:
    """The `cohort:<name>` rows of `segment_rows` alone (rework_rate has cohort segments, no tool ones)."""
    return events.drop("segment").join(pr_cohort_keys(outcomes, earlier), on="id", how="inner").select(events.columns)


def mttr_hours(evidence: Evidence, reasons: bool = True) -> pl.DataFrame:
    resolved = evidence.incidents.filter(pl.col("resolved_at").is_not_null() & pl.col("started_at").is_not_null())
    hours = (pl.col("resolved_at") - pl.col("started_at")).dt.total_microseconds() / 3_600_000_000
    return resolved.select(
        "id", at="resolved_at", team="team", segment=_seg(pl.col("ai_assisted")), value=hours,
        reason=_reason(pl.format("resolved in {} h", hours.round(2)), reasons),
    )


def deflection_rate(evidence: Evidence, reasons: bool = True) -> pl.DataFrame:
    resolved = evidence.tickets.filter(pl.col("resolved_at").is_not_null())
    channel = pl.col("channel").str.to_lowercase()
    return resolved.select(
        "id", at="resolved_at", team="team", segment=pl.lit(None, dtype=pl.String),
        hit=channel.is_in(DEFLECTED_CHANNELS),
        reason=_reason(pl.format("resolved via {}", "channel"), reasons),
    )


def csat(evidence: Evidence, reasons: bool = True) -> pl.DataFrame:
    scored = evidence.tickets.filter(pl.col("resolved_at").is_not_null() & pl.col("csat").is_not_null())
    return scored.select(
        "id", at="resolved_at", team="team",
        segment=_seg(pl.col("channel").str.to_lowercase() == "ai_bot"),
        value="csat",
        reason=_reason(pl.format("CSAT {} via {}", "csat", "channel"), reasons),
    )


def ai_spend(evidence: Evidence, reasons: bool = True) -> pl.DataFrame:
    label = pl.format(
        "{} {} {}", pl.col("tool").fill_null(""), pl.col("model").fill_null(""), pl.col("workflow").fill_null("")
    ).str.strip_chars()
    return evidence.ai_spend.select(
        "id", at="date", team="team", segment=pl.lit(None, dtype=pl.String), value="cost_usd",
        reason=_reason(label, reasons),
    )


def resolved_units(evidence: Evidence, outcomes: pl.DataFrame) -> pl.DataFrame:
    """The denominator of AI cost per unit: merged PRs, resolved tickets and resolved incidents."""
    return pl.concat(
        [
            outcomes.select("id", at="merged_at", team="team", unit_kind=pl.lit("merged PR")),
            evidence.tickets.filter(pl.col("resolved_at").is_not_null()).select(
                "id", at="resolved_at", team="team", unit_kind=pl.lit("resolved ticket")
            ),
            evidence.incidents.filter(pl.col("resolved_at").is_not_null()).select(
                "id", at="resolved_at", team="team", unit_kind=pl.lit("resolved incident")
            ),
        ]
    ).with_columns(segment=pl.lit(None, dtype=pl.String))
