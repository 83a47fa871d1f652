"""Adoption cohorts: how much each author leans on AI, per period, and PR outcomes by cohort.

Pure polars; periods are ISO weeks or calendar months (metrics.periods), UTC.

- From PRs (`pr_cohorts`): an author's share of AI-assisted PRs among their own PRs merged in the 28 days
  that end with the period (a week: its 7 days and the 21 before; a month: its last 28 days), so a cohort
  says how the author worked *as of* that period. Bot accounts (`…[bot]`) are not people: no cohort.
- From vendor usage (`usage_cohorts`), where it exists: the author's days with any AI tool active in the
  same 28 days, ÷ 28. Someone active every working day (20 of 28) is heavy, three days a week (12) moderate,
  one day a week (4) light.
- Cohorts by share: `none` 0, `light` under 25 %, `moderate` 25 % to 60 % (both ends included), `heavy`
  over 60 %. An author with no merged PRs (no active days) in the window has no cohort for that period.
- `cohort_segments`: PR metric events (one row per PR) again, once more with `segment = cohort:<name>`,
  the author's cohort in the period the PR counts in.
- `cohort_comparison`: per cohort, the events before and after each author's adoption week (their first
  week in a cohort other than `none`), with Wilson 95 % intervals and "not enough data" below `min_sample`;
  `lead_time_comparison` the same for `lead_time_hours` (created → the deployment that shipped the PR),
  its median with the metric's distribution-free interval.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from metrics.periods import next_period_start, period_of
from metrics.stats import MEDIAN_Z_HALF, wilson

WINDOW_DAYS = 28
COHORTS = ("none", "light", "moderate", "heavy")
COHORT_SCHEMA = {"period_start": pl.Date, "author": pl.String, "n": pl.UInt32, "ai": pl.UInt32,
                 "share": pl.Float64, "cohort": pl.String}


def cohort_of(share: pl.Expr) -> pl.Expr:
    return (pl.when(share == 0).then(pl.lit("none")).when(share < 0.25).then(pl.lit("light"))
            .when(share <= 0.60).then(pl.lit("moderate")).otherwise(pl.lit("heavy")))


def _windows(periods: list[dt.date], grain: str) -> pl.DataFrame:
    ends = [next_period_start(p, grain) for p in periods]  # the day after each period
    return pl.DataFrame({"period_start": periods, "window_start": [e - dt.timedelta(days=WINDOW_DAYS) for e in ends],
                         "window_end": ends}, schema={"period_start": pl.Date, "window_start": pl.Date,
                                                      "window_end": pl.Date})


def pr_cohorts(prs: pl.DataFrame, periods: list[dt.date], grain: str) -> pl.DataFrame:
    """`prs`: author, merged_at, ai_assisted (merged PRs; others are ignored). Columns: period_start,
    author, n (merged PRs in the window), ai (AI-assisted among them), share, cohort."""
    merged = prs.filter(pl.col("merged_at").is_not_null() & pl.col("author").is_not_null()
                        & ~pl.col("author").str.ends_with("[bot]")).select(
        "author", day=pl.col("merged_at").cast(pl.Date), ai=pl.col("ai_assisted").fill_null(False))
    # Per author and day, the running counts of merges and AI-assisted merges up to that day; a window's
    # counts are the running counts on its last day less those on the day before it starts (authors ×
    # periods rows, not PRs × periods: a range of 26 weeks over 200k PRs made 5M rows).
    running = (merged.group_by("author", "day").agg(n=pl.len().cast(pl.Int64), ai=pl.col("ai").sum().cast(pl.Int64))
               .sort("author", "day")
               .select("author", "day", n=pl.col("n").cum_sum().over("author"), ai=pl.col("ai").cum_sum().over("author"))
               .sort("day"))
    grid = (running.select("author").unique().join(_windows(periods, grain), how="cross")
            .with_columns(last=pl.col("window_end") - dt.timedelta(days=1),
                          before=pl.col("window_start") - dt.timedelta(days=1)))

    def upto(day: str, n: str, ai: str) -> pl.DataFrame:  # the running counts on `day` (0 before the first merge)
        return (grid.sort(day).join_asof(running.rename({"day": "_day", "n": n, "ai": ai}), left_on=day, right_on="_day",
                                        by="author", strategy="backward", check_sortedness=False)  # both sorted by day
                .select("period_start", "author", pl.col(n).fill_null(0), pl.col(ai).fill_null(0)))

    out = (upto("last", "n_last", "ai_last").join(upto("before", "n_before", "ai_before"), on=["period_start", "author"])
           .select("period_start", "author", n=pl.col("n_last") - pl.col("n_before"),
                   ai=pl.col("ai_last") - pl.col("ai_before"))
           .filter(pl.col("n") > 0).cast({"n": pl.UInt32, "ai": pl.UInt32}))
    return _finish(out.with_columns(share=pl.col("ai") / pl.col("n")))


def usage_cohorts(usage: pl.DataFrame, periods: list[dt.date], grain: str) -> pl.DataFrame:
    """`usage`: person, date, active (matched `ai_usage_people` rows, any tool). Columns as `pr_cohorts`,
    with n = 28 (days in the window) and ai = days with any tool active."""
    active = usage.filter(pl.col("active").fill_null(False) & pl.col("person").is_not_null()).select(
        author="person", day="date").unique()
    joined = active.join(_windows(periods, grain), how="cross").filter(
        (pl.col("day") >= pl.col("window_start")) & (pl.col("day") < pl.col("window_end")))
    out = joined.group_by("period_start", "author").agg(ai=pl.len().cast(pl.UInt32)).with_columns(
        n=pl.lit(WINDOW_DAYS, pl.UInt32))
    return _finish(out.with_columns(share=pl.col("ai") / pl.col("n")))


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(cohort=cohort_of(pl.col("share"))).select(list(COHORT_SCHEMA)).cast(
        COHORT_SCHEMA).sort("period_start", "author")


@dataclass(frozen=True)
class EarlierMerges:
    """The authors' weekly merge counts of some `weeks` (their Mondays) as the warehouse holds them (every
    merged PR, not only those of the evidence at hand): `weekly` has author, week (the ISO week's Monday),
    n (merged PRs), ai (AI-assisted among them); bots and PRs with no author are not counted. Evidence
    that holds only some PRs of those weeks (the cube's upkeep reads a slice) takes their counts from here
    instead of from its own PRs (reports/derived.py)."""

    weeks: tuple[dt.date, ...]
    weekly: pl.DataFrame


def pr_cohort_keys(outcomes: pl.DataFrame, earlier: EarlierMerges | None = None) -> pl.DataFrame:
    """`outcomes`: id, author, merged_at, ai_assisted (merged PRs). Columns: id, segment — `cohort:<name>`,
    the author's cohort (as `pr_cohorts`) in the ISO week the PR merged: their AI-assisted share among
    their merged PRs of that week and the three before (the 28 days ending with the week). The scorecard's
    `cohort:<name>` segments (metrics.events.segment_rows): the week keeps the daily cube grain-free, so a
    month's record counts each PR in its author's cohort of the PR's week. Bots and PRs with no author: none.
    `earlier`: the counts of its weeks come from it, not from `outcomes`.

    Same numbers as `pr_cohorts(…, "week")`, computed per author-week (not PRs × weeks), so it scales."""
    merged = outcomes.filter(pl.col("merged_at").is_not_null() & pl.col("author").is_not_null()
                             & ~pl.col("author").str.ends_with("[bot]")).select(
        "id", "author", week=period_of(pl.col("merged_at"), "week"), ai=pl.col("ai_assisted").fill_null(False))
    weekly = merged.group_by("author", "week").agg(n=pl.len(), ai=pl.col("ai").sum())
    if earlier is not None:
        kept = ~pl.col("week").is_in(pl.Series(earlier.weeks, dtype=pl.Date).implode())
        weekly = pl.concat([weekly.filter(kept), earlier.weekly.select(weekly.columns).cast(weekly.schema)])
    trailing = (weekly.join(weekly.rename({"week": "earlier", "n": "n0", "ai": "ai0"}), on="author")
                .filter(pl.col("earlier").is_between(pl.col("week") - dt.timedelta(days=21), pl.col("week")))
                .group_by("author", "week").agg(share=pl.col("ai0").sum() / pl.col("n0").sum()))
    return (merged.join(trailing, on=["author", "week"], how="inner")
            .select("id", segment=pl.lit("cohort:") + cohort_of(pl.col("share"))))


def _authored(events: pl.DataFrame, authors: pl.DataFrame | None) -> pl.DataFrame:
    """`events` with each PR's author: joined from `authors` (id, author) by id, or, with `authors` None, the
    events' own `author` column (one row per PR, each with its own author: the same rows the join gives
    when `authors` holds each PR once; no join of every event by id)."""
    return events if authors is None else events.join(authors.select("id", "author"), on="id", how="inner")


def cohort_segment_counts(events: pl.DataFrame, cohorts: pl.DataFrame, grain: str) -> pl.DataFrame:
    """What `cohort_segments` gives, counted: columns segment, n (events), hits (events whose `hit` is true).
    `events` carry their `author` (as `cohort_segments` with `authors` None). The same counts as grouping
    `cohort_segments(events, None, cohorts, grain)` by segment, with each author's events counted per period
    before they meet the cohorts (a few rows per author, not one per PR). Rows in no set order."""
    hit = pl.col("hit").fill_null(False)
    own = events.group_by("segment").agg(n=pl.len().cast(pl.Int64), hits=hit.sum().cast(pl.Int64))
    tagged = (events.group_by("author", period_start=period_of(pl.col("at"), grain))
              .agg(n=pl.len().cast(pl.Int64), hits=hit.sum().cast(pl.Int64))
              .join(cohorts.select("period_start", "author", "cohort"), on=["period_start", "author"], how="inner")
              .group_by(segment=pl.lit("cohort:") + pl.col("cohort")).agg(pl.col("n").sum(), pl.col("hits").sum()))
    return pl.concat([own, tagged.select(own.columns).cast(own.schema)])


def cohort_segments(events: pl.DataFrame, authors: pl.DataFrame | None, cohorts: pl.DataFrame, grain: str
                    ) -> pl.DataFrame:
    """`events`: a PR metric's events (id, at, team, segment, …); `authors`: id, author (None: the events
    carry their `author`). Returns the events as they are, followed by each PR once more with
    `segment = cohort:<name>` (PRs whose author has no cohort in that period are not repeated)."""
    tagged = (_authored(events, authors)
              .with_columns(period_start=period_of(pl.col("at"), grain))
              .join(cohorts.select("period_start", "author", "cohort"), on=["period_start", "author"], how="inner")
              .with_columns(segment=pl.lit("cohort:") + pl.col("cohort")))
    return pl.concat([events, tagged.select(events.columns)], how="vertical")


def adoption_weeks(cohorts: pl.DataFrame) -> pl.DataFrame:
    """Columns: author, adoption_week — the first period in which the author's cohort is not `none`
    (from weekly cohorts)."""
    return (cohorts.filter(pl.col("cohort") != "none").group_by("author")
            .agg(adoption_week=pl.col("period_start").min()).sort("author"))


def _phased(events: pl.DataFrame, authors: pl.DataFrame | None, cohorts: pl.DataFrame) -> pl.DataFrame:
    """Events with the author's latest cohort and `phase` ("before"/"after" their adoption week); `authors`
    as `cohort_segments`'."""
    latest = cohorts.filter(pl.col("period_start") == pl.col("period_start").max()).select("author", "cohort")
    return (_authored(events, authors)
            .join(latest, on="author", how="inner").join(adoption_weeks(cohorts), on="author", how="left")
            .with_columns(phase=pl.when(pl.col("adoption_week").is_not_null()
                                        & (pl.col("at").cast(pl.Date) >= pl.col("adoption_week")))
                          .then(pl.lit("after")).otherwise(pl.lit("before"))))


def _grid() -> pl.DataFrame:
    return pl.DataFrame({"cohort": [c for c in COHORTS for _ in (0, 1)], "phase": ["before", "after"] * len(COHORTS)})


def _only_if(values, enough) -> pl.Series:
    return pl.Series(np.where(enough, values, np.nan)).fill_nan(None)


def cohort_comparison(events: pl.DataFrame, authors: pl.DataFrame | None, cohorts: pl.DataFrame, *,
                      min_sample: int) -> pl.DataFrame:
    """Ratio events (id, at, hit) of PRs, by the author's cohort in the last period of `cohorts` and
    by phase: `before` (merged before the author's adoption week) or `after`. Authors who never adopted
    count under `none`, all `before`. Columns: cohort, phase, n, hits, share, low, high, status
    ("ok" or "not enough data": fewer than `min_sample` events; share and interval are then null)."""
    # Counted per author and day first (the phase turns on the event's day): a few rows per author, not
    # one per PR, go through the joins with the cohorts; the sums are the same counts.
    daily = _authored(events, authors).group_by("author", pl.col("at").cast(pl.Date)).agg(
        n=pl.len().cast(pl.Int64), hits=pl.col("hit").fill_null(False).sum().cast(pl.Int64))
    counts = _phased(daily, None, cohorts).group_by("cohort", "phase").agg(pl.col("n").sum(), pl.col("hits").sum())
    out = _grid().join(counts, on=["cohort", "phase"], how="left").with_columns(pl.col("n", "hits").fill_null(0))
    low, high = wilson(out["hits"].to_numpy().astype(float), out["n"].to_numpy().astype(float))
    enough = out["n"].to_numpy() >= max(min_sample, 1)
    return out.with_columns(
        share=_only_if(out["hits"] / np.maximum(out["n"], 1), enough), low=_only_if(low, enough),
        high=_only_if(high, enough), status=pl.Series(np.where(enough, "ok", "not enough data")),
    )


def median_interval(values: np.ndarray) -> tuple[float | None, float | None]:
    """DESIGN.md's distribution-free 95 % interval of the median (as `lead_time_hours`): sorted x₁…xₙ,
    lower x_j with j = max(1, ⌊n/2 − 0.97998·√n⌋), upper x_k with k = min(n, ⌈1 + n/2 + 0.97998·√n⌉);
    none when n < 2."""
    n = len(values)
    if n < 2:
        return None, None
    ordered = np.sort(values)
    j = max(1, int(np.floor(n / 2 - MEDIAN_Z_HALF * np.sqrt(n))))
    k = min(n, int(np.ceil(1 + n / 2 + MEDIAN_Z_HALF * np.sqrt(n))))
    return float(ordered[j - 1]), float(ordered[k - 1])


def lead_time_comparison(events: pl.DataFrame, authors: pl.DataFrame | None, cohorts: pl.DataFrame, *,
                         min_sample: int) -> pl.DataFrame:
    """`lead_time_hours` by cohort and phase, as `cohort_comparison`: `events` are the metric's (id, at =
    the finished_at of the deployment that shipped the PR, value = hours from created_at), `authors`: id,
    author. Columns: cohort, phase, n, median_hours, low, high (the metric's interval of the median),
    status ("not enough data" below `min_sample`: median and interval null)."""
    phased = _phased(events.select("id", "at", "value", *(["author"] if authors is None else [])), authors, cohorts)
    values = {(c, p): g["value"].to_numpy() for (c, p), g in phased.group_by("cohort", "phase")}
    rows = []
    for cohort, phase in _grid().iter_rows():
        sample = values.get((cohort, phase), np.array([]))
        enough = len(sample) >= max(min_sample, 1)
        low, high = median_interval(sample) if enough else (None, None)
        rows.append({"cohort": cohort, "phase": phase, "n": len(sample),
                     "median_hours": float(np.median(sample)) if enough else None, "low": low, "high": high,
                     "status": "ok" if enough else "not enough data"})
    return pl.DataFrame(rows, schema={"cohort": pl.String, "phase": pl.String, "n": pl.Int64,
                                      "median_hours": pl.Float64, "low": pl.Float64, "high": pl.Float64,
                                      "status": pl.String})
