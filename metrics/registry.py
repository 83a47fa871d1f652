"""The metric registry: one frozen spec per scorecard metric, and what it does.

A spec says how its number is made — its events function (prepared facts → event rows, each with its
counting time), its aggregation `kind`, its interval, its status test and guardrail, its look-ahead (how
long its records stay provisional), its segments — and how it is shown: its tile, trend, drill-down page,
empty-state hint, the words for what a provisional record still waits for, and the warehouse column its
events are counted at. The scorecard (metrics.scorecard), the cube, `explain`, the CLI, exports, the
dashboard's tiles and trends and the Definitions page all loop over these specs, so a number and its
explanation cannot drift apart, and a new metric is one spec, one events function (metrics.metric_events)
and its tests. The texts restate ../shared/DESIGN.md "The scorecard".
"""
from __future__ import annotations

from metrics import metric_events as events
from metrics.change_chain_specs import CHANGE_CHAIN_SPECS
# The shapes, here too for the modules that read them with the specs.
from metrics.spec import (  # noqa: F401
    CHANGE_FAILURE_LOOKAHEAD, DEFINITION_FIELDS, GRAINS, KIND_WORDS, OUTPUT_COLUMNS, PERIOD_GRAINS, STATUSES, PERIOD_END, REWORK_LOOKAHEAD, ROLLBACK_WINDOW, UNSHIPPED_CAP,
    Better, DeliveryText, Events, Guardrail, IntervalMethod, Kind, Lookahead, MannWhitneyTest, MetricSpec, StatusTest,
    TileText, ToleranceTest, TrendText, TwoProportionTest, pr_ai_split, share_of_events,
)

METRICS: dict[str, MetricSpec] = {
    spec.id: spec
    for spec in (
        MetricSpec(
            id="ai_merge_rate",
            title="AI-assisted merge rate",
            short_title="AI merge rate",
            **share_of_events(),
            segments=("all",),
            segment_rule="",
            numerator="AI-assisted merged PRs",
            denominator="merged PRs",
            counting_time="PR merged_at",
            better="info",
            better_text="rises, then stabilises (shown as info, never red or green)",
            description=(
                "Share of merged PRs that were AI-assisted. A PR is AI-assisted when the source says so "
                "explicitly, or when a signal from the registry of AI tools fires: the author or a "
                "Co-authored-by trailer is a tool's identity (an exact e-mail, a GitHub noreply or bot login — "
                "never a word inside a person's name or domain), a tool's own trailer or footer ('Generated "
                "with <tool>', Made-with: Cursor, Assisted-by:, …), an AI label or an agent's branch. The "
                "signals that fired, the tools behind them and the mode (agent, co-authored, labelled) are "
                "kept with the PR."
            ),
            events=events.ai_merge_rate,
            event_kind="pr",
            counted_at=(("pull_requests", "merged_at"),),
            tile=TileText("all", "AI-assisted merge rate", "merged PRs",
                          "share of merged PRs AI-assisted now vs in the baseline"),
            trend=TrendText("AI-assisted merge rate", ("all",), (("all", "AI-assisted share"),)),
            drill_down="rollbacks",
            empty_hint="No merged PRs in this range: configure [github] or import pull_requests.csv.",
        ),
        MetricSpec(
            id="rollback_share",
            title="Rollback share",
            short_title="Rollback share",
            **share_of_events(),
            **pr_ai_split(modes=True),
            numerator="rolled-back merged PRs",
            denominator="merged PRs (revert PRs and unshipped PRs included)",
            counting_time="PR merged_at",
            better="lower",
            better_text="lower",
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
            events=events.rollback_share,
            event_kind="pr",
            outcome_details=("shipped_deployment_id", "rolled_back_how", "rolled_back_by", "rolled_back_at"),
            counted_at=(("pull_requests", "merged_at"),),
            tile=TileText("ai", "Rollback share, AI PRs", "AI-assisted merged PRs",
                          "AI-assisted PRs now vs all PRs in the baseline"),
            trend=TrendText("Rollback share: AI-assisted PRs vs others", ("ai", "non_ai")),
            drill_down="rollbacks",
            page_subject=True,
            empty_hint=("No merged AI-assisted PRs in this range: configure [github] or import pull_requests.csv "
                        "and deployments.csv."),
            still_to_come="rollbacks",
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
            events=events.mttr_hours,
            interval_method="mean",
            status=MannWhitneyTest(),
            event_kind="incident",
            counted_at=(("incidents", "resolved_at"),),
            tile=TileText("all", "Mean time to restore", "resolved incidents",
                          "incidents resolved now vs in the baseline"),
            trend=TrendText("MTTR (hours): AI-assisted response vs not", ("all", "ai", "non_ai"),
                            (("all", "All incidents"),), intervals=("all",)),
            drill_down="incidents",
            page_subject=True,
            delivery=DeliveryText(
                4,
                (TileText("all", "Time to restore (mean)", "resolved incidents"),
                 TileText("ai_change", "Restore, incidents from AI changes", "resolved incidents"),
                 TileText("non_ai_change", "Restore, incidents from other changes", "resolved incidents")),
                TrendText("Time to restore (hours) by the change that caused the incident", ("ai_change", "non_ai_change")),
            ),
            empty_hint=("No resolved incidents in this range: configure [pagerduty] or [jira] incidents, or import "
                        "incidents.csv."),
        ),
        MetricSpec(
            id="deflection_rate",
            title="Support deflection",
            short_title="Deflection",
            **share_of_events(),
            segments=("all",),
            segment_rule="",
            numerator="resolved tickets with channel self_serve or ai_bot",
            denominator="resolved tickets",
            counting_time="ticket resolved_at",
            better="higher",
            better_text="higher, with CSAT held",
            description=(
                "Share of resolved tickets resolved without a human agent (self-serve or AI bot). "
                "Guardrail: the status is 'worse' whenever the same team's CSAT in the period is more than "
                "the CSAT tolerance below its baseline (both with enough data); otherwise a two-proportion "
                "z-test against the baseline at 5%, higher is better."
            ),
            events=events.deflection_rate,
            guardrail=Guardrail("csat", "csat_tolerance"),
            counted_at=(("tickets", "resolved_at"),),
            tile=TileText("all", "Support deflection", "resolved tickets",
                          "tickets resolved without an agent now vs in the baseline, CSAT held"),
            trend=TrendText("Support deflection", ("all",), (("all", "Deflected share"),)),
            drill_down="support",
            page_subject=True,
            empty_hint="No resolved tickets in this range: configure [jira] support tickets or import tickets.csv.",
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
            events=events.csat,
            interval_method="mean",
            status=ToleranceTest("csat_tolerance"),
            counted_at=(("tickets", "resolved_at"),),
            tile=TileText("all", "CSAT", "scored tickets", "mean score now vs in the baseline", scorecard=False),
            trend=TrendText("CSAT: AI bot vs other channels (band: guardrail)", ("all", "ai", "non_ai"),
                            (("all", "All tickets"), ("ai", "AI bot"), ("non_ai", "Other channels")), intervals=("all",)),
            drill_down="support",
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
            events=events.ai_cost_per_unit,
            status=ToleranceTest("cost_tolerance", relative=True),
            counted_at=(("ai_spend", "date"), ("pull_requests", "merged_at"), ("tickets", "resolved_at"),
                        ("incidents", "resolved_at")),
            tile=TileText("all", "AI cost per unit", "resolved units",
                          "spend per resolved unit now vs its own baseline (the first weeks with spend)"),
            trend=TrendText("AI cost per resolved unit", ("all",), (("all", "USD per unit"),)),
            drill_down="spend",
            page_subject=True,
            empty_hint="No AI spend in this range: import ai_spend.csv (or a FOCUS export) or configure a provider.",
        ),
        *CHANGE_CHAIN_SPECS,
    )
}


def spec(metric_id: str) -> MetricSpec:
    try:
        return METRICS[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric '{metric_id}'; known: {', '.join(METRICS)}") from None


def on_page(page: str) -> tuple[MetricSpec, ...]:
    """The metrics whose rows a dashboard page (app_pages/<page>.py) lists, in registry order."""
    return tuple(s for s in METRICS.values() if s.drill_down == page)


def subject_of(page: str) -> MetricSpec:
    """The metric a drill-down page is about (`page_subject`)."""
    return next(s for s in on_page(page) if s.page_subject)


def counting_columns() -> dict[str, str]:
    """Each warehouse table's counting time, from the specs' `counted_at` (DESIGN.md "Time"): what an
    export filters the table's rows on. Two specs naming different columns of one table is an error."""
    out: dict[str, str] = {}
    for s in METRICS.values():
        for table, column in s.counted_at:
            if out.setdefault(table, column) != column:
                raise ValueError(f"metric '{s.id}' counts {table} at {column}, another metric at {out[table]}")
    return out


def status_words(s: MetricSpec) -> str:
    """How the spec's status is decided, in words (the Definitions page and docs/metrics.md)."""
    if s.better == "info":
        return "for information (never red or green)"
    words = s.status.words(s.better) if s.status is not None else "none"
    if s.info_segments:
        words += f"; segment {', '.join(s.info_segments)}: for information"
    if s.guardrail is not None:
        guard = METRICS[s.guardrail.metric]
        side = "below" if guard.better == "higher" else "above"
        words = (f"worse whenever the same team's {guard.short_title} is more than {s.guardrail.rule} {side} "
                 f"its baseline (both with at least min_sample); otherwise {words}")
    return words
