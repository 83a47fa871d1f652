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

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union

from config.model import RulesConfig
from metrics import metric_events as events

# The aggregation. ratio: x / n; mean: a mean of values; cost_per_unit: spend / units; median: the median
# of values (lead time); per_day: events per day of the period; per_senior_week: reviews per senior per week.
Kind = Literal["ratio", "mean", "cost_per_unit", "median", "per_day", "per_senior_week"]
Better = Literal["higher", "lower", "info"]
# The 95% interval. wilson: Wilson score interval of x / n; order_statistics: the distribution-free interval
# of the median; mean: mean ± 1.96·s/√n (none when n < 2), clipped to `value_range`; none: no interval.
IntervalMethod = Literal["wilson", "order_statistics", "mean", "none"]
KIND_WORDS = {
    "ratio": "a share: numerator ÷ n", "mean": "a mean of values", "cost_per_unit": "spend ÷ resolved units",
    "median": "the median of values (the mean is numerator ÷ n)", "per_day": "events per calendar day of the period",
    "per_senior_week": "reviews per senior per week",
}


# --- status tests (metrics.scorecard applies them; DESIGN.md "Status" rules 4–6) -------------------------

@dataclass(frozen=True)
class TwoProportionTest:
    """Two-proportion z-test of the period's share against the baseline's at 5%; the side by `better`."""

    def words(self, better: Better) -> str:
        return f"two-proportion z-test against the baseline at 5%, {better} is better"


@dataclass(frozen=True)
class MannWhitneyTest:
    """Mann-Whitney U test of the period's values against the baseline's at 5%; the side by the record's
    value (its mean, or its median) against the baseline's. Needs the values themselves (the cube keeps
    them one by one)."""

    def words(self, better: Better) -> str:
        return f"Mann-Whitney U test of the values against the baseline's at 5%, {better} is better"


@dataclass(frozen=True)
class ToleranceTest:
    """Better or worse only beyond a tolerance of the baseline: `[rules] <rule>` points either side
    (`relative` False), or baseline × (1 ± tolerance) (`relative` True)."""

    rule: str
    relative: bool = False

    def words(self, better: Better) -> str:
        band = f"baseline × (1 ± {self.rule})" if self.relative else f"baseline ± {self.rule}"
        return f"worse or better only beyond {band}, {better} is better"


StatusTest = Union[TwoProportionTest, MannWhitneyTest, ToleranceTest]


@dataclass(frozen=True)
class Guardrail:
    """DESIGN.md status rule 6: the record is `worse` whenever `metric` (same team, same period, segment
    all) and its baseline both have at least min_sample and it is more than `[rules] <rule>` on its worse
    side of its baseline."""

    metric: str
    rule: str


# --- display ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TileText:
    """The metric's tile: which segment, its title, what n counts and what it compares (in the user's
    words). `scorecard`: one of the Scorecard page's tiles (in registry order); False: shown beside the
    metric it guards (CSAT beside deflection)."""

    segment: str
    title: str
    counted: str
    compares: str = ""
    scorecard: bool = True


@dataclass(frozen=True)
class TrendText:
    """The metric's trend chart on the Scorecard page: title, segments drawn (and their legend labels),
    the segments whose interval is shaded (None: all)."""

    title: str
    segments: tuple[str, ...]
    labels: tuple[tuple[str, str], ...] = ()
    intervals: tuple[str, ...] | None = None


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
class DeliveryText:
    """The metric on the Delivery page (DORA's keys, AI-assisted changes vs others) and in the team
    drill-down's change chain. `order`: its place, left to right; `tiles`: its Delivery tile (segment
    all), then the AI-vs-others pair; `trend`: its chart, drawn on the Delivery page when `on_page`, and
    in the team drill-down when it has `team_tiles`."""

    order: int
    tiles: tuple[TileText, ...] = ()
    trend: TrendText | None = None
    on_page: bool = True
    team_tiles: tuple[TileText, ...] = ()


Events = Callable[..., Any]  # (facts, reasons=True) → event rows (ai_cost_per_unit: spend rows, unit rows)


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
    # --- what the code does (not part of `definition()`: the texts above describe it) ---
    # The events function (metrics.metric_events): (facts, reasons=True) → event rows with `at`.
    events: Events | None = None
    # It reads the change chain's facts (incident causes, failed deployments, follow-up fixes, seniors):
    # a cube built without them has no rows of it.
    needs_chain: bool = False
    interval_method: IntervalMethod = "none"
    # Status rules 4–6 (None: no test; a `better="info"` metric is `info` whatever its test says).
    status: StatusTest | None = None
    guardrail: Guardrail | None = None
    # Segments always `info` (senior_review_load's ai: no pre-AI comparison), unless rule 1 applies.
    info_segments: tuple[str, ...] = ()
    # What one event row is, for `scorecard explain` (pr, incident, ticket, deployment, review; cost: spend
    # and unit), and the PR outcome columns (metrics.linking.pr_outcomes) its rows show besides the PR's.
    event_kind: str = "ticket"
    outcome_details: tuple[str, ...] = ()
    # The warehouse (table, column) its events are counted at (exports filter each table on its column).
    counted_at: tuple[tuple[str, str], ...] = ()
    # Display: the tile, the trend, the drill-down page (the page under app_pages/ listing its rows), the
    # hint on an empty tile, and what a provisional record still waits for.
    tile: TileText | None = None
    trend: TrendText | None = None
    drill_down: str | None = None
    page_subject: bool = False  # the metric its drill-down page is about (its tile and baseline lead there)
    empty_hint: str = ""
    still_to_come: str = "events"
    delivery: DeliveryText | None = None

    def definition(self) -> dict[str, Any]:
        """The spec as plain data without its code: its id, texts, unit, kind, segments, better-direction,
        value range and look-aheads (governance.changes.metrics_version hashes it)."""
        data = dataclasses.asdict(self)
        return {name: data[name] for name in DEFINITION_FIELDS}

    @property
    def cube_table(self) -> Literal["ratio", "mean", "values", "cost"]:
        """Where the daily cube keeps its events: counted (`ratio`: n, x per day), summed (`mean`: n, Σx,
        Σx² per day), one by one (`values`: a median, or a Mann-Whitney test, needs them), or as spend
        and units (`cost`)."""
        if self.kind in ("ratio", "per_day", "per_senior_week"):
            return "ratio"
        if self.kind == "cost_per_unit":
            return "cost"
        if self.kind == "median" or isinstance(self.status, MannWhitneyTest):
            return "values"
        return "mean"

    @property
    def significance_test(self) -> bool:
        """Its status comes from a test at 5% (two-proportion or Mann-Whitney), not from a tolerance."""
        return isinstance(self.status, (TwoProportionTest, MannWhitneyTest))

    @property
    def status_words(self) -> str:
        if self.better == "info":
            return "for information (never red or green)"
        words = self.status.words(self.better) if self.status is not None else "none"
        if self.info_segments:
            words += f"; segment {', '.join(self.info_segments)}: for information"
        if self.guardrail is not None:
            guard = METRICS[self.guardrail.metric]
            side = "below" if guard.better == "higher" else "above"
            words = (f"worse whenever the same team's {guard.short_title} is more than {self.guardrail.rule} {side} "
                     f"its baseline (both with at least min_sample); otherwise {words}")
        return words

    def has_segment(self, segment: str) -> bool:
        """`segment` is one of this metric's: a fixed one, or `<family>:<value>` of its families."""
        family, _, value = segment.partition(":")
        return segment in self.segments or (bool(value) and family in self.segment_families)


# The fields `definition()` keeps: the declarative ones, whose hash marks a change of definition.
DEFINITION_FIELDS = (
    "id", "title", "short_title", "unit", "kind", "segments", "segment_rule", "numerator", "denominator",
    "counting_time", "better", "better_text", "interval", "description", "value_range", "segment_families",
    "overlay_segments", "min_sample_applies", "lookahead", "pending_lookahead",
)

from metrics.change_chain_specs import CHANGE_CHAIN_SPECS  # noqa: E402  (they need MetricSpec above)

METRICS: dict[str, MetricSpec] = {
    spec.id: spec
    for spec in (
        MetricSpec(
            id="ai_merge_rate",
            events=events.ai_merge_rate,
            interval_method="wilson",
            status=TwoProportionTest(),
            event_kind="pr",
            counted_at=(("pull_requests", "merged_at"),),
            tile=TileText("all", "AI-assisted merge rate", "merged PRs",
                          "share of merged PRs AI-assisted now vs in the baseline"),
            trend=TrendText("AI-assisted merge rate", ("all",), (("all", "AI-assisted share"),)),
            drill_down="rollbacks",
            empty_hint="No merged PRs in this range: configure [github] or import pull_requests.csv.",
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
            events=events.rollback_share,
            interval_method="wilson",
            status=TwoProportionTest(),
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
            events=events.deflection_rate,
            interval_method="wilson",
            status=TwoProportionTest(),
            guardrail=Guardrail("csat", "csat_tolerance"),
            counted_at=(("tickets", "resolved_at"),),
            tile=TileText("all", "Support deflection", "resolved tickets",
                          "tickets resolved without an agent now vs in the baseline, CSAT held"),
            trend=TrendText("Support deflection", ("all",), (("all", "Deflected share"),)),
            drill_down="support",
            page_subject=True,
            empty_hint="No resolved tickets in this range: configure [jira] support tickets or import tickets.csv.",
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
            events=events.csat,
            interval_method="mean",
            status=ToleranceTest("csat_tolerance"),
            counted_at=(("tickets", "resolved_at"),),
            tile=TileText("all", "CSAT", "scored tickets", "mean score now vs in the baseline", scorecard=False),
            trend=TrendText("CSAT: AI bot vs other channels (band: guardrail)", ("all", "ai", "non_ai"),
                            (("all", "All tickets"), ("ai", "AI bot"), ("non_ai", "Other channels")), intervals=("all",)),
            drill_down="support",
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
