"""The scorecard: one record per metric × period × team (and whole org) × segment (DESIGN.md).

`compute` is the single entry point the CLI, the dashboard, exports and the benchmark call.
"""
from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from config.model import Config, RulesConfig
from metrics.events import is_ai_segment
from metrics.change_chain import ChainFacts, chain_facts, follow_ups_facts
from metrics.cube import Cube, build_cube, metric_slices
from metrics.evidence import UTC, Evidence
from metrics.linking import pr_outcomes, resolve_reverts
from metrics.baseline import Baselines, as_of as data_as_of, baselines as baseline_windows
from metrics.periods import Window, in_report, next_period_start, period_after, period_starts
from metrics.registry import (
    METRICS, OUTPUT_COLUMNS, Guardrail, MannWhitneyTest, MetricSpec, ToleranceTest, TwoProportionTest, spec as spec_of,
)
from metrics.senior_review import senior_people, senior_weeks
from metrics.stats import ALPHA, mann_whitney_p_from_u, mean_interval, two_proportion_p, wilson
from metrics.teams import assign_teams
from metrics.value_groups import ValueRows, value_groups

ORG = "\x00org"  # stands for the whole org (team = null) while joining; never a real team name
# Float slack for "more than the tolerance": 4.0 is not more than 0.2 below 4.2 (4.2 - 0.2 = 3.99..98).
_EPS = 1e-9


@dataclass(frozen=True)
class Prepared:
    """Evidence with teams assigned and rollback outcomes decided: computed once, used by many calls.
    It is the `facts` every metric's events function reads (metrics.metric_events.Facts)."""

    evidence: Evidence
    outcomes: pl.DataFrame
    config: Config
    # The evidence's resolved reverts (metrics.linking.resolve_reverts) when `prepare` made them for the
    # outcomes: the change chain reuses them instead of resolving every revert again.
    reverts: pl.DataFrame | None = None

    @cached_property
    def chain(self) -> ChainFacts:
        """Incident causes, failed deployments and follow-up fixes (metrics.change_chain)."""
        return chain_facts(self.evidence, self.outcomes, self.config, reverts=self.reverts)

    @cached_property
    def follow_ups(self) -> ChainFacts:
        """The chain's follow-up fixes alone (metrics.change_chain.follow_ups_facts: its deployments and
        incidents empty), for a view that shows rework only; `chain` when that is already made."""
        if "chain" in self.__dict__:
            return self.chain
        return follow_ups_facts(self.evidence, self.config, reverts=self.reverts)

    @cached_property
    def seniors(self) -> pl.DataFrame:
        return senior_people(self.evidence.people, self.config)

    @cached_property
    def cube(self) -> Cube:
        return build_cube(self.evidence, self.outcomes, self.chain, self.seniors)


def prepare(evidence: Evidence, config: Config) -> Prepared:
    evidence = assign_teams(evidence, config.teams)
    reverts = resolve_reverts(evidence.pull_requests)  # once: the outcomes and the change chain both read them
    outcomes = pr_outcomes(evidence, config.rules.production_environments, config.rules.rollback_window_days,
                           reverts=reverts)
    return Prepared(evidence=evidence, outcomes=outcomes, config=config, reverts=reverts)


def metric_events(prepared: Prepared, metric_id: str) -> pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]:
    """The event rows of one metric, with reasons: its spec's events function (for a cost per unit: spend
    rows and unit rows)."""
    return spec_of(metric_id).events(prepared)


def compute(
    source: Evidence | Prepared | Cube,
    config: Config,
    *,
    grain: str,
    start: dt.date,
    end: dt.date,
    team: str | None = None,
    metrics: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    baselines: Baselines | None = None,
) -> pl.DataFrame:
    """Scorecard records in DESIGN.md's "Metric output" columns, plus `baseline_n`,
    `baseline_start`, `baseline_end` (the window) and `test_p` (the status test's p-value, if any).

    `grain` is week, month or range (one period [start, end], named by start). `now` caps `as_of`
    (the latest merged_at / finished_at), which decides `provisional`; events after `now` are not
    removed here (see `Evidence.until`). `baselines` defaults to `metrics.baseline.baselines`.

    `source` is raw evidence, prepared evidence, or its daily cube (all give the same records; the
    cube is what the dashboard keeps on disk). `team` restricts the records to one team (no whole-org
    records then). Rows are ordered by metric (registry order), period, team (whole org first),
    segment (all, ai, non_ai, then `cohort:`, `mode:` and `tool:` segments by name).
    """
    wanted = list(metrics) if metrics is not None else list(METRICS)
    for metric_id in wanted:
        if metric_id not in METRICS:
            raise KeyError(f"unknown metric '{metric_id}'; known: {', '.join(METRICS)}")
    if isinstance(source, Evidence):
        source = prepare(source, config)
    cube = source.cube if isinstance(source, Prepared) else source
    if not period_starts(start, end, grain):
        return empty_records()
    windows = baselines if baselines is not None else baseline_windows(cube, config)
    needed = list(wanted)
    for metric_id in wanted:  # rule 6 reads the guarding metric's records (deflection: the same team's CSAT)
        guard = METRICS[metric_id].guardrail
        if guard is not None and guard.metric not in needed:
            needed.append(guard.metric)
    as_of = data_as_of(cube, now)
    # Every metric's records are built on the worker threads and on this one (numpy's sorts and polars
    # release the GIL, so a 2-core machine answers in about half the time): the metrics from daily sums are
    # queued first; this thread meanwhile cuts the values metrics (lead time, MTTR: a sort of every event)
    # into parts by period and queues them behind, then takes work from the back of the queue, the last
    # part first, while the workers take it from the front (see _submit_values).
    pool = _pool()
    # A metric that neither has a guardrail nor guards another is finished (status, provisional, order) on
    # the thread that built it; status rule 6 reads the guarding metric's records, so those two wait.
    alone = {m for m in needed if METRICS[m].guardrail is None and not _guards(m)}

    def build(metric_id: str) -> pl.DataFrame:
        records = _records(cube, METRICS[metric_id], grain, (start, end), windows.window(metric_id), team)
        return _finished({metric_id: records}, config, grain, end, as_of)[metric_id] if metric_id in alone else records

    built = {m: pool.submit(build, m) for m in needed if not _pooled(METRICS[m])}
    pooled = {m: _submit_values(cube, METRICS[m], grain, (start, end), windows.window(m), team,
                                lambda m, records: _finished({m: records}, config, grain, end, as_of)[m])
              for m in needed if _pooled(METRICS[m])}
    finished = {m: finish() for m, finish in reversed(pooled.items())}
    others = {m: build(m) for m, future in reversed(built.items()) if future.cancel()}
    others.update({m: future.result() for m, future in built.items() if m not in others})
    finished.update({m: frame for m, frame in others.items() if m in alone})
    finished.update(_finished({m: frame for m, frame in others.items() if m not in alone}, config, grain, end, as_of))
    order = {m: i for i, m in enumerate(METRICS)}
    records = [finished[m] for m in sorted(wanted, key=order.__getitem__) if finished[m].height]
    if not records:
        return empty_records()
    return pl.concat(records, how="vertical_relaxed")


def _finished(frames: dict[str, pl.DataFrame], config: Config, grain: str, end: dt.date,
              as_of: dt.datetime | None) -> dict[str, pl.DataFrame]:
    """Records with their status and provisional flag, each metric's in the output order."""
    frames = _apply_status(frames, config)
    return {m: _in_order(_provisional(f, METRICS[m], config, grain, end, as_of)) for m, f in frames.items()}


_SEGMENT_ORDER = {"all": 0, "ai": 1, "non_ai": 2, "ai_change": 3, "non_ai_change": 4}


def _in_order(records: pl.DataFrame) -> pl.DataFrame:
    """One metric's records by period, team (by name, whole org first) and segment (all, ai, non_ai,
    ai_change, non_ai_change, then the rest by name) — sorted on integer keys: each team and segment name
    replaced by its place in that order (sorting records by their strings cost more than ranking the few
    names)."""
    if records.height < 2:
        return records
    teams = sorted(records.get_column("team").unique().drop_nulls().to_list())
    segments = sorted(records.get_column("segment").unique().drop_nulls().to_list(),
                      key=lambda s: (_SEGMENT_ORDER.get(s, 99), s))
    # One integer key (period, then team, then segment; null — the whole org — first): a sort on one
    # column costs a third of one on three.
    teams_n, segments_n = len(teams) + 1, len(segments) + 1
    key = (pl.col("period").cast(pl.Int64) * (teams_n * segments_n)
           + pl.col("team").replace_strict({t: i + 1 for i, t in enumerate(teams)}, default=0, return_dtype=pl.Int64)
           * segments_n
           + pl.col("segment").replace_strict({s: i + 1 for i, s in enumerate(segments)}, default=0, return_dtype=pl.Int64))
    return records.sort(key)


def select_output(records: pl.DataFrame) -> pl.DataFrame:
    return records.select(OUTPUT_COLUMNS)


_RECORD_SCHEMA = {
    "metric": pl.String, "grain": pl.String, "period": pl.Date, "team": pl.String, "segment": pl.String,
    "value": pl.Float64, "numerator": pl.Float64, "denominator": pl.Float64, "n": pl.Int64,
    "ci_low": pl.Float64, "ci_high": pl.Float64, "baseline": pl.Float64, "delta": pl.Float64,
    "status": pl.String, "median": pl.Float64, "p90": pl.Float64, "baseline_n": pl.Int64,
    "baseline_start": pl.Datetime("us", "UTC"), "baseline_end": pl.Datetime("us", "UTC"), "test_p": pl.Float64,
    "provisional": pl.Boolean,
}


def empty_records() -> pl.DataFrame:
    return pl.DataFrame(schema=_RECORD_SCHEMA)


# --- aggregation --------------------------------------------------------------------------------


def _in_periods(frame: pl.DataFrame, grain: str, report: tuple[dt.date, dt.date]) -> pl.DataFrame:
    return in_report(frame, pl.col("day"), grain, *report)


def _in_window(frame: pl.DataFrame, window: Window) -> pl.DataFrame:
    return frame.filter(window.contains_day(pl.col("day")))


def _grouped(frame: pl.DataFrame, keys: list[str], aggs: list[pl.Expr], spec: MetricSpec, team: str | None) -> pl.DataFrame:
    """Aggregate by team (and whole org unless one team is asked for) × segment (and all). Every
    aggregation here is a sum: the rows are summed once per team × segment, and the coarser levels
    (segment `all`, the whole org) are sums of those few sums, not further passes over the rows."""
    if team is not None:
        frame = frame.filter(pl.col("team") == team)
    has_segment = "segment" in frame.columns
    fine = frame.group_by(keys + ["team"] + (["segment"] if has_segment else [])).agg(aggs)
    sums = [pl.col(name).sum() for name in (agg.meta.output_name() for agg in aggs)]
    parts = []
    seg_sets = [False, True] if len(spec.segments) > 1 else [False]
    team_sets = [True] if team is not None else [True, False]
    # `all` counts each event once: not again through a `tool:` / `mode:` / `cohort:` row (they repeat PRs
    # already counted under ai / non_ai) or an overlay segment it is also in.
    partition = fine
    if has_segment:
        partition = fine.filter(~is_ai_segment(pl.col("segment")).fill_null(False))
    if spec.overlay_segments:
        partition = partition.filter(~pl.col("segment").is_in(spec.overlay_segments).fill_null(False))
    for by_team in team_sets:
        for by_seg in seg_sets:
            cols = keys + (["team"] if by_team else []) + (["segment"] if by_seg else [])
            source = fine if by_seg else partition
            if by_seg:  # an event without a segment (a deployment that shipped no PR) counts in `all` only
                source = source.filter(pl.col("segment").is_not_null())
            if by_team and (by_seg or not has_segment):
                grouped = source.select(*cols, *(name for name in (agg.meta.output_name() for agg in aggs)))
            elif cols:
                grouped = source.group_by(cols).agg(sums)
            else:
                grouped = source.with_columns(_all=pl.lit(0)).group_by("_all").agg(sums).drop("_all")
            if not by_team:
                grouped = grouped.with_columns(team=pl.lit(ORG))
            if not by_seg:
                grouped = grouped.with_columns(segment=pl.lit("all"))
            parts.append(grouped)
    # The cube's names are categorical: the records' are strings (as the org's and `all` already are).
    return pl.concat(parts, how="diagonal_relaxed").with_columns(pl.col("team", "segment").cast(pl.String))


_RATIO_AGGS = [pl.col("x").sum().alias("x"), pl.col("n").sum().cast(pl.Int64).alias("n"),
               pl.col("pending").sum().cast(pl.Int64).alias("pending")]
# CSAT from daily sums: s² = (Σx² − (Σx)²/n) / (n − 1).
_SUM_AGGS = [pl.col("n").sum().cast(pl.Int64).alias("n"), pl.col("total").sum().alias("total"),
             pl.col("sumsq").sum().alias("sumsq")]
def _std_from_sums() -> pl.Expr:
    n = pl.col("n").cast(pl.Float64)
    variance = (pl.col("sumsq") - pl.col("total") * pl.col("total") / n) / (n - 1)
    return pl.when(pl.col("n") >= 2).then(variance.clip(lower_bound=0).sqrt()).otherwise(None)


def _records(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
             team: str | None) -> pl.DataFrame:
    """One metric's records before status: built by its kind's builder, then named and given intervals."""
    builder = _values_records if spec.cube_table == "values" else _BUILDERS.get(spec.kind, _value_records)
    return _named(builder(cube, spec, grain, periods, window, team), spec, grain, window)


def _named(records: pl.DataFrame, spec: MetricSpec, grain: str, window: Window) -> pl.DataFrame:
    zero_is_a_value = spec.kind in ("per_day", "per_senior_week")
    records = records.filter((pl.col("n") > 0) | pl.lit(zero_is_a_value)).with_columns(
        metric=pl.lit(spec.id),
        grain=pl.lit(grain),
        team=pl.when(pl.col("team") == ORG).then(None).otherwise(pl.col("team")),
        delta=pl.col("value") - pl.col("baseline"),
        baseline_start=pl.lit(window.start),
        baseline_end=pl.lit(window.end),
    )
    return _intervals(records, spec)


def _value_records(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
                   team: str | None) -> pl.DataFrame:
    """Ratios and means from the spec's cube table: a share x / n from counts, or a mean from daily sums."""
    if spec.cube_table == "ratio":
        aggs, base_cols = _RATIO_AGGS, [pl.col("x").alias("b_x")]
    else:
        aggs, base_cols = _SUM_AGGS, [pl.col("total").alias("b_total")]
    rows = cube.metric_rows(spec.cube_table, spec.id)
    current = _grouped(_in_periods(rows, grain, periods), ["period"], aggs, spec, team)
    base = _grouped(_in_window(rows, window), [], aggs, spec, team).filter(pl.col("segment") == "all")
    base = base.select("team", *base_cols, pl.col("n").alias("baseline_n"))
    records = current.join(base, on="team", how="left")
    numerator = pl.col("x") if spec.cube_table == "ratio" else pl.col("total")
    baseline_numerator = pl.col("b_x") if spec.cube_table == "ratio" else pl.col("b_total")
    records = records.with_columns(
        numerator=numerator, denominator=pl.col("n").cast(pl.Float64),
        baseline=baseline_numerator / pl.col("baseline_n"),
    ).with_columns(value=pl.col("numerator") / pl.col("denominator"))
    if "sumsq" in records.columns:
        records = records.with_columns(std=_std_from_sums())
    return records


# Worker threads for `compute`: as many as the machine has cores, at most four (a values metric's parts are
# a few large sorts each; more threads than cores only take turns). Made on first use, shared by every
# caller (a dashboard's sessions too): a caller never waits for work no thread has started — it takes it.
_WORKERS = max(2, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
# Two parts per thread (the calling thread takes parts too): the workers start on the daily-sum metrics,
# so smaller parts let whichever thread is free take the next; a part reads only its own periods' rows.
_PARTS = 2 * _WORKERS + 1
_SPLIT_ROWS = 200_000  # reported rows per part at least (a part has a fixed cost: its families, blocks and frame)


def _pooled(spec: MetricSpec) -> bool:
    """Computed in parts by period: the values metrics that neither have a guardrail nor guard another
    metric (status rule 6 reads the guarding metric's records: both are decided together)."""
    return spec.cube_table == "values" and spec.guardrail is None and not _guards(spec.id)


def _guards(metric_id: str) -> bool:
    return any(other.guardrail is not None and other.guardrail.metric == metric_id for other in METRICS.values())


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="scorecard-values")
        return _POOL


def _submit_values(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
                   team: str | None, finished: Callable[[str, pl.DataFrame], pl.DataFrame]):
    """Queue a values metric's finished records on the worker threads in parts; returns the function that
    gathers them on the calling thread.

    The metric's rows become numpy arrays (`ValueRows`, once per cube), their values ranked and the
    baseline window's rows read once (`ValueRows.baseline`), and the reported periods are cut into
    consecutive parts of about as many rows each; every part is `value_groups` of its own periods over the
    same rows: a record's group lies in one period, and each part reads the same baseline, so the parts'
    records are exactly the whole's. Each part's records are finished on the thread that built them
    (`finished`: named as `_records` names them, then the status and provisional flag, which read a record
    and its period alone, and the order, which sorts by period first): the parts in period order are the
    metric's records in order, and no pass over all of them is left for the end. Gathering, the calling
    thread computes the parts no worker has started, the last first and one at a time (the workers take
    the first ones meanwhile), then waits for the rest."""
    pool = _pool()
    rows, starts, days, first_last, options = _values_input(cube, spec, grain, periods, window, team)
    rows.baseline(first_last, options["overlay"])  # made here, once: every part reads it
    bounds = _period_parts(rows, days)

    def part(a: int, b: int) -> pl.DataFrame:
        groups = value_groups(rows, starts[a:b], days[a:b], first_last, **options)
        return finished(spec.id, _named(_values_frame(groups, spec), spec, grain, window))

    futures = [(pool.submit(part, a, b), (a, b)) for a, b in bounds]

    def finish() -> pl.DataFrame:
        inline = {i: part(*where) for i, (future, where) in reversed(list(enumerate(futures))) if future.cancel()}
        parts = [inline[i] if i in inline else future.result() for i, (future, _) in enumerate(futures)]
        found = [part for part in parts if part.height] or parts[:1]
        return found[0] if len(found) == 1 else pl.concat(found, how="vertical")

    return finish


def _period_parts(rows: ValueRows, days: list[tuple[dt.date, dt.date]]) -> list[tuple[int, int]]:
    """The reported periods cut into consecutive runs (start, stop indexes) of about as many rows each: at
    most `_PARTS`, and one per `_SPLIT_ROWS` reported rows (a short report is one part)."""
    if len(days) < 2:
        return [(0, len(days))]
    epoch = dt.date(1970, 1, 1)
    firsts = np.array([(first - epoch).days for first, _ in days])
    lasts = np.array([(last - epoch).days for _, last in days])
    if rows.ordered:  # rows per period: the slices of their days (keys in the days' type: no converted copy)
        per_period = (np.searchsorted(rows.day, lasts.astype(rows.day.dtype), side="right")
                      - np.searchsorted(rows.day, firsts.astype(rows.day.dtype), side="left"))
    else:  # the periods are consecutive and ascending, so a row's period is found by its day
        at = np.searchsorted(firsts, rows.day, side="right") - 1
        inside = (at >= 0) & (rows.day <= lasts[np.maximum(at, 0)])
        per_period = np.bincount(at[inside], minlength=len(days))
    parts = min(_PARTS, len(days), 1 + int(per_period.sum()) // max(1, _SPLIT_ROWS))
    if parts < 2:
        return [(0, len(days))]
    cuts = np.searchsorted(np.cumsum(per_period), per_period.sum() * np.arange(1, parts) / parts, side="left") + 1
    bounds = [0, *sorted({int(min(max(c, 1), len(days) - 1)) for c in cuts}), len(days)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _values_input(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
                  team: str | None):
    rows = _value_rows(cube, spec.id, team)
    starts = period_starts(*periods, grain)
    options = dict(org=ORG, by_segment=len(spec.segments) > 1, whole_org=team is None,
                   overlay=spec.overlay_segments, with_std=spec.interval_method == "mean")
    return rows, starts, _period_days(starts, grain, periods), (window.first_day, window.last_day), options


def _value_rows(cube: Cube, metric: str, team: str | None) -> ValueRows:
    """The metric's rows of the cube's values table as numpy arrays (metrics.value_groups.ValueRows), made
    once per cube, metric and team: every later view of the same cube reads them (and the ranks and
    baselines they keep) again."""
    made = cube.__dict__.setdefault("_value_rows", {})  # the cube is frozen; this cache is not a field
    key = (metric, team)
    found = made.get(key)
    if isinstance(found, _Ahead):  # begun by values_ahead
        found = made[key] = found.result()
    elif found is None:
        rows = cube.metric_rows("values", metric)
        found = made[key] = ValueRows.of(rows if team is None else rows.filter(pl.col("team") == team))
    return found


def values_ahead(values: pl.DataFrame) -> Callable[[Cube], None]:
    """Begin making a cube's values table ready for `compute` before the rest of the cube is read: each
    metric's `ValueRows` (all teams), its values ranked, on the worker threads. Returns the function that
    hands them to the cube once it is made (reports.derived.stored_cube), where `compute` finds them."""
    pool = _pool()

    def made(rows: pl.DataFrame) -> ValueRows:
        table = ValueRows.of(rows)
        table.ranked()
        return table

    slices = metric_slices(values)
    ahead = {metric: _Ahead(pool, lambda rows=rows: made(rows)) for metric, rows in slices.items()}

    def hand_to(cube: Cube) -> None:
        cube.adopt_slices("values", slices)  # its metric_rows("values", …) are these: not found again
        cache = cube.__dict__.setdefault("_value_rows", {})
        for metric, rows in ahead.items():
            cache.setdefault((metric, None), rows)

    return hand_to


class _Ahead:
    """Work queued on the pool that is done once, by whichever thread comes first: a worker, or a caller
    of `result()` (who then does not wait for a worker to be free; one that comes while it is being done
    waits for it). The thread doing it waits for nothing, so no thread waits on work queued behind it."""

    def __init__(self, pool: ThreadPoolExecutor, make: Callable[[], ValueRows]):
        self._make = make
        self._lock = threading.Lock()
        self._done: ValueRows | None = None
        pool.submit(self.result)

    def result(self) -> ValueRows:
        with self._lock:
            if self._done is None:
                self._done = self._make()
            return self._done


def _values_records(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
                    team: str | None) -> pl.DataFrame:
    """Means and medians from the values themselves (the cube's values table, one row per event), with the
    median's interval and the Mann-Whitney test's U against the team's baseline values (metrics.value_groups)."""
    rows, starts, days, first_last, options = _values_input(cube, spec, grain, periods, window, team)
    return _values_frame(value_groups(rows, starts, days, first_last, **options), spec)


def _values_frame(groups: pl.DataFrame, spec: MetricSpec) -> pl.DataFrame:
    records = groups.with_columns(
        numerator=pl.col("total"), denominator=pl.col("n").cast(pl.Float64),
        baseline=pl.col("b_total") / pl.col("baseline_n"),
    ).with_columns(value=pl.col("numerator") / pl.col("denominator"))
    if spec.kind == "median":  # numerator / denominator is the mean; the value is the median
        records = records.with_columns(value=pl.col("median"), baseline=pl.col("b_median"))
    return records


def _period_days(starts: list[dt.date], grain: str, report: tuple[dt.date, dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The first and last day of each reported period (as metrics.periods.in_report counts them)."""
    if grain == "range":
        return [report]
    return [(p, next_period_start(p, grain) - dt.timedelta(days=1)) for p in starts]


def _period_frame(grain: str, report: tuple[dt.date, dt.date]) -> pl.DataFrame:
    """The report's periods: `period`, `first` and `after` (the first instant after it), UTC, and its
    calendar `days` (a range: end − start + 1)."""
    periods = period_starts(*report, grain)
    afters = [period_after(p, grain, report[1]).date() for p in periods]
    return pl.DataFrame(
        {
            "period": periods,
            "first": [_utc(p) for p in periods],
            "after": [_utc(a) for a in afters],
            "days": [float((a - p).days) for p, a in zip(periods, afters)],
        },
        schema={"period": pl.Date, "first": UTC, "after": UTC, "days": pl.Float64},
    )


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def _team_grid(teams: list[str], team: str | None) -> list[str]:
    """The record teams of a metric whose zero is a value: each team (or the one asked for), and the
    whole org when any team has one."""
    if team is not None:
        return [team] if team in teams else []
    return [*teams, ORG] if teams else []


def _per_day_records(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
                     team: str | None) -> pl.DataFrame:
    """Events per calendar day, a record for every period × team that ever had such an event (DESIGN.md
    "Zero is a value"); the baseline is the window's events per day of the window."""
    rows = cube.metric_rows("ratio", spec.id)
    teams = _team_grid(sorted(rows.get_column("team").unique().drop_nulls().to_list()), team)
    grid = _period_frame(grain, periods).join(pl.DataFrame({"team": teams}, schema={"team": pl.String}), how="cross")
    current = _grouped(_in_periods(rows, grain, periods), ["period"], _RATIO_AGGS, spec, team).select("period", "team", "x", "n")
    base = _grouped(_in_window(rows, window), [], _RATIO_AGGS, spec, team).select("team", b_x="x", baseline_n="n")
    window_days = float((window.last_day - window.first_day).days + 1)
    return (
        grid.join(current, on=["period", "team"], how="left")
        .join(base, on="team", how="left")
        .with_columns(pl.col("x").fill_null(0.0), pl.col("n").fill_null(0))
        .with_columns(
            segment=pl.lit("all"), numerator=pl.col("x"), denominator=pl.col("days"),
            value=pl.col("x") / pl.col("days"), baseline=pl.col("b_x") / window_days,
        )
        .with_columns(pl.col("n").cast(pl.Int64), pl.col("baseline_n").cast(pl.Int64))
    )


def _per_senior_week_records(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
                             team: str | None) -> pl.DataFrame:
    """Reviews per senior per week: a record for every period × team with senior weeks in the period
    (0 reviews included), segments all and ai; the whole org divides by all seniors' weeks."""
    rows = cube.metric_rows("ratio", spec.id)
    seniors = cube.seniors if team is None else cube.seniors.filter(pl.col("team") == team)

    def weeks(spans: pl.DataFrame) -> pl.DataFrame:
        per_team = senior_weeks(seniors, spans)
        if team is None:
            org = per_team.group_by("key").agg(pl.col("weeks").sum()).with_columns(team=pl.lit(ORG))
            per_team = pl.concat([per_team, org.select(per_team.columns)])
        return per_team.filter(pl.col("weeks") > 0)

    spans = _period_frame(grain, periods).select(key="period", first="first", after="after")
    grid = weeks(spans).rename({"key": "period"}).join(
        pl.DataFrame({"segment": list(spec.segments)}), how="cross"
    )
    current = _grouped(_in_periods(rows, grain, periods), ["period"], _RATIO_AGGS, spec, team).select(
        "period", "team", "segment", "x", "n"
    )
    window_span = pl.DataFrame(
        {"key": [window.first_day], "first": [window.start], "after": [window.end + dt.timedelta(microseconds=1)]},
        schema={"key": pl.Date, "first": UTC, "after": UTC},
    )
    base_weeks = weeks(window_span).select("team", b_weeks="weeks")
    base = (
        _grouped(_in_window(rows, window), [], _RATIO_AGGS, spec, team).filter(pl.col("segment") == "all")
        .select("team", b_x="x", baseline_n="n")
        .join(base_weeks, on="team", how="inner")
    )
    return (
        grid.join(current, on=["period", "team", "segment"], how="left")
        .join(base, on="team", how="left")
        .with_columns(pl.col("x").fill_null(0.0), pl.col("n").fill_null(0).cast(pl.Int64))
        .with_columns(
            numerator=pl.col("x"), denominator=pl.col("weeks"), value=pl.col("x") / pl.col("weeks"),
            baseline=pl.col("b_x") / pl.col("b_weeks"), baseline_n=pl.col("baseline_n").cast(pl.Int64),
        )
    )


def _cost_records(cube: Cube, spec: MetricSpec, grain: str, periods: tuple[dt.date, dt.date], window: Window,
                  team: str | None) -> pl.DataFrame:
    spend_aggs = [pl.col("spend").sum().alias("spend"), pl.col("rows").sum().alias("spend_rows")]
    unit_aggs = [pl.col("n").sum().cast(pl.Int64).alias("n")]
    cur_spend = _grouped(_in_periods(cube.spend, grain, periods), ["period"], spend_aggs, spec, team)
    cur_units = _grouped(_in_periods(cube.units, grain, periods), ["period"], unit_aggs, spec, team)
    base_spend = _grouped(_in_window(cube.spend, window), [], spend_aggs, spec, team)
    base_units = _grouped(_in_window(cube.units, window), [], unit_aggs, spec, team)
    base = base_spend.join(base_units.select("team", "n"), on="team", how="inner").filter(
        (pl.col("spend_rows") > 0) & (pl.col("n") > 0)
    ).select("team", b_spend="spend", baseline_n="n")
    # No record for a team-period without spend rows, or without units.
    return (
        cur_spend.join(cur_units.select("period", "team", "n"), on=["period", "team"], how="inner")
        .filter(pl.col("spend_rows") > 0)
        .join(base, on="team", how="left")
        .with_columns(
            numerator=pl.col("spend"),
            denominator=pl.col("n").cast(pl.Float64),
            value=pl.col("spend") / pl.col("n"),
            baseline=pl.col("b_spend") / pl.col("baseline_n"),
            segment=pl.lit("all"),
        )
    )


# The record builder of each aggregation kind (the others: _value_records, or _values_records from the values table).
_BUILDERS = {"cost_per_unit": _cost_records, "per_day": _per_day_records, "per_senior_week": _per_senior_week_records}


def _intervals(records: pl.DataFrame, spec: MetricSpec) -> pl.DataFrame:
    """The 95% interval of the spec's `interval_method`."""
    if records.height == 0:
        return records.with_columns(ci_low=pl.lit(None, pl.Float64), ci_high=pl.lit(None, pl.Float64))
    if spec.interval_method == "wilson":
        low, high = wilson(records["numerator"].to_numpy(), records["n"].to_numpy())
    elif spec.interval_method == "order_statistics":  # picked from each record's sorted values (metrics.value_groups)
        low, high = records["median_low"].to_numpy(), records["median_high"].to_numpy()
    elif spec.interval_method == "mean":
        low, high = mean_interval(
            records["value"].to_numpy(), records["std"].fill_null(np.nan).to_numpy(), records["n"].to_numpy(), spec.value_range
        )
    else:
        low = high = np.full(records.height, np.nan)
    return records.with_columns(
        ci_low=pl.Series(low, dtype=pl.Float64).fill_nan(None),
        ci_high=pl.Series(high, dtype=pl.Float64).fill_nan(None),
    )


# --- status -------------------------------------------------------------------------------------

# Statuses as small integer codes while they are decided (one name per record at the end: a string per
# record built from numpy costs more than the whole decision).
_STATUS_NAMES = pl.Series(["insufficient_data", "info", "worse", "better", "at_baseline"], dtype=pl.String)
INSUFFICIENT_DATA, INFO, WORSE, BETTER, AT_BASELINE = range(5)


def _apply_status(frames: dict[str, pl.DataFrame], config: Config) -> dict[str, pl.DataFrame]:
    rules = config.rules
    out = {}
    for metric_id, records in frames.items():
        spec = METRICS[metric_id]
        if records.height == 0:
            out[metric_id] = empty_records()
            continue
        n = records["n"].to_numpy()
        baseline = records["baseline"].fill_null(np.nan).to_numpy()
        baseline_n = records["baseline_n"].fill_null(0).to_numpy()
        test_p = np.full(records.height, np.nan)
        verdict = np.full(records.height, AT_BASELINE, dtype=np.int8)
        if spec.status is not None:
            verdict, test_p = _VERDICTS[type(spec.status)](spec, records, rules)
        if spec.guardrail is not None:
            fired = _guardrail_fires(spec.guardrail, records, frames.get(spec.guardrail.metric), rules)
            verdict = np.where(fired, WORSE, verdict)
        # The numbered rules of DESIGN.md "Status", first that applies.
        applies = spec.min_sample_applies
        # Segments without a pre-AI comparison (senior_review_load's ai): info unless rule 1 applies.
        info_segment = records["segment"].is_in(list(spec.info_segments)).to_numpy()
        status = np.select(
            [
                (n < rules.min_sample) & applies,
                np.full(records.height, spec.better == "info") | info_segment,
                np.isnan(baseline),
                (baseline_n < rules.min_sample) & applies,
            ],
            [INSUFFICIENT_DATA, INFO, INFO, INSUFFICIENT_DATA],
            default=verdict,
        )
        # Records from the values themselves carry their median and 90th percentile.
        quantiles = "median" in records.columns
        out[metric_id] = records.with_columns(
            status=_STATUS_NAMES.gather(status),
            test_p=pl.Series(test_p, dtype=pl.Float64).fill_nan(None),
            median=pl.col("median") if quantiles else pl.lit(None, pl.Float64),
            p90=pl.col("p90") if quantiles else pl.lit(None, pl.Float64),
        ).select([c for c in _RECORD_SCHEMA if c != "provisional"] + (["pending"] if "pending" in records.columns else []))
    return out


def _two_proportion(spec: MetricSpec, records: pl.DataFrame, rules: RulesConfig) -> tuple[np.ndarray, np.ndarray]:
    """Rule 4: a two-proportion z-test against the baseline at 5%, the side by `better`."""
    n, value = records["n"].to_numpy(), records["value"].to_numpy()
    baseline = records["baseline"].fill_null(np.nan).to_numpy()
    baseline_n = records["baseline_n"].fill_null(0).to_numpy()
    test_p = two_proportion_p(records["numerator"].to_numpy(), n, records["b_x"].fill_null(0).to_numpy(), baseline_n)
    significant = test_p < ALPHA
    higher = value > baseline
    good = ~higher if spec.better == "lower" else higher
    verdict = np.where(significant & good, BETTER, np.where(significant, WORSE, AT_BASELINE))
    return verdict, test_p


def _mann_whitney(spec: MetricSpec, records: pl.DataFrame, rules: RulesConfig) -> tuple[np.ndarray, np.ndarray]:
    """Rule 5: a Mann-Whitney U test of the period's values against the team's baseline values at 5%, the
    side by the record's value against the baseline (records with n or baseline_n below min_sample are
    not tested). Each record carries its U and pooled tie term (metrics.value_groups)."""
    n, value = records["n"].to_numpy(), records["value"].to_numpy()
    baseline = records["baseline"].fill_null(np.nan).to_numpy()
    baseline_n = records["baseline_n"].fill_null(0).to_numpy()
    test_p = np.full(records.height, np.nan)
    eligible = np.flatnonzero((n >= rules.min_sample) & (baseline_n >= rules.min_sample) & ~np.isnan(baseline))
    test_p[eligible] = mann_whitney_p_from_u(
        records["mw_u1"].to_numpy()[eligible], n[eligible], baseline_n[eligible], records["mw_ties"].to_numpy()[eligible]
    )
    significant = test_p < ALPHA
    good, bad = (value < baseline, value > baseline) if spec.better != "higher" else (value > baseline, value < baseline)
    verdict = np.where(significant & good, BETTER, np.where(significant & bad, WORSE, AT_BASELINE))
    return verdict, test_p


def _tolerance(spec: MetricSpec, records: pl.DataFrame, rules: RulesConfig) -> tuple[np.ndarray, np.ndarray]:
    """Rules 5–6 of the tolerance metrics: worse or better only beyond the tolerance of the baseline
    (points either side, or a relative band); no test, so no p-value."""
    test: ToleranceTest = spec.status
    value = records["value"].to_numpy()
    baseline = records["baseline"].fill_null(np.nan).to_numpy()
    low, high = _beyond(test, value, baseline, getattr(rules, test.rule))
    worse, better = (high, low) if spec.better == "lower" else (low, high)
    verdict = np.where(worse, WORSE, np.where(better, BETTER, AT_BASELINE))
    return verdict, np.full(records.height, np.nan)


def _beyond(test: ToleranceTest, value, baseline, tolerance: float):
    """(below the band, above the band) of a tolerance test; `_EPS` is the float slack of "more than"."""
    if test.relative:
        return value < baseline * (1 - tolerance) - _EPS, value > baseline * (1 + tolerance) + _EPS
    return value < baseline - tolerance - _EPS, value > baseline + tolerance + _EPS


_VERDICTS = {TwoProportionTest: _two_proportion, MannWhitneyTest: _mann_whitney, ToleranceTest: _tolerance}


def _provisional(records: pl.DataFrame, spec: MetricSpec, config: Config, grain: str, end: dt.date,
                 as_of: dt.datetime | None) -> pl.DataFrame:
    """DESIGN.md "Provisional records": provisional while as_of < (the first instant after the period)
    + the spec's lookahead; also, where the spec has a `pending_lookahead`, while the record counts a
    pending event (a PR not shipped yet) and as_of < that instant + pending_lookahead. No as_of (no
    merged PR, no deployment): nothing is provisional."""
    if records.height == 0 or spec.lookahead is None or as_of is None:
        return records.with_columns(provisional=pl.lit(False)).select(list(_RECORD_SCHEMA))
    # Each record's period end, computed per distinct period in Python: the frames are small, and a
    # `period` column built from a literal may be a polars scalar column, whose expressions do not
    # broadcast back to the frame's height.
    # Decided once per distinct period (a week's records share it), not once per record.
    periods = records.get_column("period")
    after = {p: period_after(p, grain, end) for p in periods.unique().to_list()}

    def per_period(lookahead) -> np.ndarray:
        span = lookahead.of(config.rules)
        return periods.replace_strict({p: as_of < a + span for p, a in after.items()}, return_dtype=pl.Boolean).to_numpy()

    settles = per_period(spec.lookahead)
    if spec.pending_lookahead is not None and "pending" in records.columns:
        pending = records.get_column("pending").fill_null(0).to_numpy() > 0
        settles |= pending & per_period(spec.pending_lookahead)
    flag = pl.Series("provisional", settles, dtype=pl.Boolean)
    return records.with_columns(provisional=flag).select(list(_RECORD_SCHEMA))


def _guardrail_fires(guard: Guardrail, records: pl.DataFrame, guarding: pl.DataFrame | None, rules: RulesConfig) -> np.ndarray:
    """Rule 6: the guarding metric's record of the same team and period (segment all) and its baseline
    both have enough data, and it is more than the tolerance on its worse side of its baseline (CSAT:
    below)."""
    if guarding is None or guarding.height == 0:
        return np.zeros(records.height, dtype=bool)
    tolerance = getattr(rules, guard.rule)
    key = pl.col("team").fill_null(ORG)
    other = (
        guarding.filter(pl.col("segment") == "all")
        .select(
            "period", team_key=key, c_value="value", c_n="n", c_base="baseline", c_base_n="baseline_n"
        )
    )
    joined = records.with_columns(team_key=key).join(other, on=["period", "team_key"], how="left")
    if METRICS[guard.metric].better == "lower":
        worse = pl.col("c_value") > pl.col("c_base") + tolerance + _EPS
    else:
        worse = pl.col("c_value") < pl.col("c_base") - tolerance - _EPS
    fires = ((pl.col("c_n") >= rules.min_sample) & (pl.col("c_base_n") >= rules.min_sample) & worse).fill_null(False)
    return joined.select(fires).to_series().to_numpy()
