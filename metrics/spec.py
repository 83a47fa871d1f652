"""The shapes of the metric registry (metrics/registry.py): a metric's spec, its status tests, look-aheads
and display texts. Plain data and the code it names; the specs themselves are in the registry and
metrics/change_chain_specs.py, both of which import these."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union

from config.model import RulesConfig

# The record columns of DESIGN.md "Metric output", in order.
OUTPUT_COLUMNS = (
    "metric", "grain", "period", "team", "segment", "value", "numerator", "denominator", "n",
    "ci_low", "ci_high", "baseline", "delta", "status", "median", "p90", "provisional",
)

STATUSES = ("better", "worse", "at_baseline", "info", "insufficient_data")
GRAINS = ("week", "month", "range")
# The grains a trend is drawn in (a range is one period: a tile, not a trend).
PERIOD_GRAINS = ("week", "month")


# The aggregation. ratio: x / n; mean: a mean of values; cost_per_unit: spend / units; median: the median
# of values (lead time); per_day: events per day of the period; per_senior_week: reviews per senior per week.
Kind = Literal["ratio", "mean", "cost_per_unit", "median", "per_day", "per_senior_week"]
Better = Literal["higher", "lower", "info"]
# The 95% interval. wilson: Wilson score interval of x / n; order_statistics: the distribution-free interval
# of the median; mean: mean ± 1.96·s/√n (none when n < 2), clipped to `value_range`; none: no interval.
IntervalMethod = Literal["wilson", "order_statistics", "mean", "none"]
# 95% two-sided normal quantile, to the digits DESIGN.md gives.
Z95 = 1.959963984540054
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

    def has_segment(self, segment: str) -> bool:
        """`segment` is one of this metric's: a fixed one, or `<family>:<value>` of its families."""
        family, _, value = segment.partition(":")
        return segment in self.segments or (bool(value) and family in self.segment_families)


def share_of_events() -> dict[str, Any]:
    """A share of events (counted ÷ counted-or-not), spread into its spec: unit `share`, kind `ratio`, the
    Wilson 95% interval (its words and its method together) and the two-proportion z-test against the
    baseline."""
    return {"unit": "share", "kind": "ratio", "interval": "Wilson 95%", "interval_method": "wilson",
            "status": TwoProportionTest()}


def pr_ai_split(flag: str = "the PR's", *, modes: bool = False) -> dict[str, Any]:
    """The segments of a metric over PRs split by AI assistance, spread into its spec: `all`; `ai` and
    `non_ai` by `flag` AI-assisted flag; the families `tool:<name>` (each AI tool behind an AI-assisted PR),
    `mode:<mode>` when `modes`, and `cohort:<name>` (the author's adoption cohort, metrics.cohorts)."""
    mode = "`mode:<mode>` by how it was AI-assisted (agent, co_authored, labelled, explicit); and " if modes else ""
    return {
        "segments": ("all", "ai", "non_ai"),
        "segment_rule": (
            f"by {flag} AI-assisted flag; also `tool:<name>` for each AI tool behind an AI-assisted PR (a PR with "
            f"two tools counts in both) and {mode}`cohort:<name>` (none, light, moderate, heavy) by the author's "
            "share of AI-assisted merged PRs in the 28 days ending with the PR's merge week"
        ),
        "segment_families": ("tool", "mode", "cohort") if modes else ("tool", "cohort"),
    }


# The fields `definition()` keeps: the declarative ones, whose hash marks a change of definition.
DEFINITION_FIELDS = (
    "id", "title", "short_title", "unit", "kind", "segments", "segment_rule", "numerator", "denominator",
    "counting_time", "better", "better_text", "interval", "description", "value_range", "segment_families",
    "overlay_segments", "min_sample_applies", "lookahead", "pending_lookahead",
)
