"""The metric registry: one frozen spec per scorecard metric.

The scorecard, the CLI, exports and the Definitions page all read these specs, so a number and its
explanation cannot drift apart. The texts restate ../shared/DESIGN.md "The scorecard".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from config.model import RulesConfig

# ratio: x / n; mean: a mean of values; cost_per_unit: spend / units; median: the median of values
# (lead time); per_day: events per day of the period; per_senior_week: reviews per senior per week.
Kind = Literal["ratio", "mean", "cost_per_unit", "median", "per_day", "per_senior_week"]
Better = Literal["higher", "lower", "info"]


@dataclass(frozen=True)
class Lookahead:
    """How far past its period a metric looks for what happens to its events (DESIGN.md "Provisional
    records"), as data: the longest of the named `[rules]` durations (a name ending in `_days` counts days,
    in `_hours` hours) times `factor`; no rules: zero (provisional only while the period runs)."""

    rules: tuple[str, ...] = ()
    factor: float = 1.0

    def of(self, rules: RulesConfig) -> dt.timedelta:
        spans = [dt.timedelta(days=getattr(rules, name)) if name.endswith("_days") else dt.timedelta(hours=getattr(rules, name))
                 for name in self.rules]
        return max(spans, default=dt.timedelta(0)) * self.factor


ROLLBACK_WINDOW = Lookahead(("rollback_window_days",))
# A PR not shipped yet can still ship and be rolled back: its record stays open up to twice the window.
UNSHIPPED_CAP = Lookahead(("rollback_window_days",), factor=2.0)
PERIOD_END = Lookahead()


# The change chain's look-aheads: the longer of the rollback window and the incident link window; the
# rework window; rates over a period's days settle when the period ends.
CHANGE_FAILURE_LOOKAHEAD = Lookahead(("rollback_window_days", "incident_link_hours"))
REWORK_LOOKAHEAD = Lookahead(("rework_window_days",))


@dataclass(frozen=True)
class MetricSpec:
    id: str
    title: str
    short_title: str
    unit: Literal["share", "hours", "score", "usd", "per_day", "per_week"]
    kind: Kind
    segments: tuple[str, ...]
    segment_rule: str
    numerator: str
    denominator: str
    counting_time: str
    better: Better
    better_text: str
    interval: str
    description: str
    # Range a mean interval is clipped to (None: unbounded on that side).
    value_range: tuple[float | None, float | None] = (None, None)
    # Segments named by the data: "tool" (`tool:<name>`), "mode" (`mode:<mode>`) and "cohort" (`cohort:<name>`),
    # see metrics.events.segment_rows.
    segment_families: tuple[str, ...] = ()
    # Segments counted besides the partition (ai / non_ai) that makes `all`: an event can be in one of
    # these too, and `all` does not count them again (mttr_hours' ai_change / non_ai_change).
    overlay_segments: tuple[str, ...] = ()
    # Status rules 1 and 3 (`min_sample`); deployment_frequency is always `info`.
    min_sample_applies: bool = True
    # DESIGN.md "Provisional records": a record is provisional while as_of < (the first instant after
    # its period) + lookahead(rules); None: never provisional. `pending_lookahead` extends that for
    # records that count events still pending (the cube's `pending` column: for rollback_share a
    # merged PR not shipped yet) to period end + pending_lookahead(rules).
    lookahead: Lookahead | None = None
    pending_lookahead: Lookahead | None = None

    def has_segment(self, segment: str) -> bool:
        """`segment` is one of this metric's: a fixed one, or `<family>:<value>` of its families."""
        family, _, value = segment.partition(":")
        return segment in self.segments or (bool(value) and family in self.segment_families)


from metrics.change_chain_specs import CHANGE_CHAIN_SPECS  # noqa: E402  (they need MetricSpec above)

METRICS: dict[str, MetricSpec] = {
    spec.id: spec
    for spec in (
        MetricSpec(
            id="ai_merge_rate",
            title="AI-assisted merge rate",
            short_title="AI merge rate",
            unit="share",
            kind="ratio",
            segments=("all",),
            segment_rule="",
            numerator="AI-assisted merged PRs",
            denominator="merged PRs",
            counting_time="PR merged_at",
            better="info",
            better_text="rises, then stabilises (shown as info, never red or green)",
            interval="Wilson 95%",
            description=(
                "Share of merged PRs that were AI-assisted. A PR is AI-assisted when the source says so "
                "explicitly, or when a signal from the registry of AI tools fires: the author or a "
                "Co-authored-by trailer is a tool's identity (an exact e-mail, a GitHub noreply or bot login — "
                "never a word inside a person's name or domain), a tool's own trailer or footer ('Generated "
                "with <tool>', Made-with: Cursor, Assisted-by:, …), an AI label or an agent's branch. The "
                "signals that fired, the tools behind them and the mode (agent, co-authored, labelled) are "
                "kept with the PR."
            ),
        ),
        MetricSpec(
            id="rollback_share",
            title="Rollback share",
            short_title="Rollback share",
            unit="share",
            kind="ratio",
            segments=("all", "ai", "non_ai"),
            segment_rule=(
                "by the PR's AI-assisted flag; also `tool:<name>` for each AI tool behind an AI-assisted PR (a PR "
                "with two tools counts in both) and `mode:<mode>` by how it was AI-assisted (agent, co_authored, "
                "labelled, explicit); and `cohort:<name>` (none, light, moderate, heavy) by the author's share of "
                "AI-assisted merged PRs in the 28 days ending with the PR's merge week"
            ),
            segment_families=("tool", "mode", "cohort"),
            numerator="rolled-back merged PRs",
            denominator="merged PRs (revert PRs and unshipped PRs included)",
            counting_time="PR merged_at",
            better="lower",
            better_text="lower",
            interval="Wilson 95%",
            lookahead=ROLLBACK_WINDOW,
            pending_lookahead=UNSHIPPED_CAP,
            description=(
                "Share of merged PRs that were rolled back: the production deployment that shipped the PR "
                "was rolled back by a rollback deployment finishing within the rollback window of it, or "
                "a revert of the PR was merged within the window of its merge. A deployment ships a PR when "
                "the source names it, else it is the first production deployment of the repo, not itself "
                "a rollback, finishing at or after the merge. A production deployment is a rollback when "
                "the source flags it, or when it redeploys an earlier sha with another sha deployed in "
                "between. Status: two-proportion z-test against the baseline at 5%."
            ),
        ),
        MetricSpec(
            id="mttr_hours",
            title="Mean time to restore",
            short_title="MTTR",
            unit="hours",
            kind="mean",
            segments=("all", "ai", "non_ai", "ai_change", "non_ai_change"),
            segment_rule=(
                "ai / non_ai: by the incident's AI-assisted flag (AI tooling used in the response); "
                "ai_change / non_ai_change: the causing deployment shipped at least one AI-assisted PR / "
                "shipped PRs, none AI-assisted"
            ),
            overlay_segments=("ai_change", "non_ai_change"),
            numerator="total hours from start to resolution",
            denominator="resolved incidents",
            counting_time="incident resolved_at",
            better="lower",
            better_text="lower",
            interval="mean ± 1.96·s/√n (none when n < 2), clipped at 0",
            description=(
                "Mean hours from an incident's start to its resolution, over incidents resolved in the "
                "period; the median and 90th percentile (linear interpolation) are reported beside it. "
                "Status: Mann-Whitney U test of the period's durations against the baseline's at 5%, "
                "direction by the mean."
            ),
            value_range=(0.0, None),
        ),
        MetricSpec(
            id="deflection_rate",
            title="Support deflection",
            short_title="Deflection",
            unit="share",
            kind="ratio",
            segments=("all",),
            segment_rule="",
            numerator="resolved tickets with channel self_serve or ai_bot",
            denominator="resolved tickets",
            counting_time="ticket resolved_at",
            better="higher",
            better_text="higher, with CSAT held",
            interval="Wilson 95%",
            description=(
                "Share of resolved tickets resolved without a human agent (self-serve or AI bot). "
                "Guardrail: the status is 'worse' whenever the same team's CSAT in the period is more than "
                "the CSAT tolerance below its baseline (both with enough data); otherwise a two-proportion "
                "z-test against the baseline at 5%, higher is better."
            ),
        ),
        MetricSpec(
            id="csat",
            title="Customer satisfaction",
            short_title="CSAT",
            unit="score",
            kind="mean",
            segments=("all", "ai", "non_ai"),
            segment_rule="ai: tickets resolved by the AI bot; non_ai: all other channels",
            numerator="sum of CSAT scores",
            denominator="resolved tickets with a score",
            counting_time="ticket resolved_at",
            better="higher",
            better_text="higher",
            interval="mean ± 1.96·s/√n (none when n < 2), clipped to 1–5",
            description=(
                "Mean CSAT score (1–5) of resolved tickets that have one. Status: worse more than the CSAT "
                "tolerance below the baseline, better more than the tolerance above it."
            ),
            value_range=(1.0, 5.0),
        ),
        MetricSpec(
            id="ai_cost_per_unit",
            title="AI cost per resolved unit",
            short_title="AI cost / unit",
            unit="usd",
            kind="cost_per_unit",
            segments=("all",),
            segment_rule="",
            numerator="AI spend (USD)",
            denominator="resolved units: merged PRs + resolved tickets + resolved incidents, same team",
            counting_time="spend date; unit merged_at / resolved_at",
            better="lower",
            better_text="lower",
            interval="none",
            description=(
                "AI spend divided by the work it helped resolve. No record for a team and period without "
                "spend rows or without units. Status: worse above baseline × (1 + cost tolerance), better "
                "below baseline × (1 − cost tolerance)."
            ),
        ),
        *CHANGE_CHAIN_SPECS,
    )
}

# The record columns of DESIGN.md "Metric output", in order.
OUTPUT_COLUMNS = (
    "metric", "grain", "period", "team", "segment", "value", "numerator", "denominator", "n",
    "ci_low", "ci_high", "baseline", "delta", "status", "median", "p90", "provisional",
)

STATUSES = ("better", "worse", "at_baseline", "info", "insufficient_data")
GRAINS = ("week", "month", "range")
# The grains a trend is drawn in (a range is one period: a tile, not a trend).
PERIOD_GRAINS = ("week", "month")

# 95% two-sided normal quantile, to the digits DESIGN.md gives.
Z95 = 1.959963984540054


def spec(metric_id: str) -> MetricSpec:
    try:
        return METRICS[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric '{metric_id}'; known: {', '.join(METRICS)}") from None
