"""The rollback drill-down: by team, by repo, AI vs non-AI, trend, and the rolled-back PRs themselves,
all from `Prepared.outcomes` (the same rows the rollback_share records count)."""
from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.breakdown import by_segment_columns, rollback_share_by
from metrics.cube import Cube
from metrics.events import is_ai_segment
from metrics.periods import Window
from metrics.registry import subject_of
from metrics.stats import wilson
from reports.filters import Filters
from reports.format import link_column, mode_text, signals_text, tools_text


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
PREVIEW_ROWS = 10  # the latest rolled-back PRs the page shows at first; every one is a click away


def scoped(outcomes: pl.DataFrame, team: str | None = None, repo: str | None = None) -> pl.DataFrame:
    if team is not None:
        outcomes = outcomes.filter(pl.col("team") == team)
    if repo is not None:
        outcomes = outcomes.filter(pl.col("repo") == repo)
    return outcomes


def _until(window: Window) -> dt.datetime:
    return window.end + dt.timedelta(microseconds=1)  # the window's end is inclusive


def share_table(outcomes: pl.DataFrame, key: str, filters: Filters, baseline: Window,
                base: pl.DataFrame | None = None) -> pl.DataFrame:
    """Rollback share per `key` (team or repo) over the selected periods, AI vs non-AI side by side,
    with the same key's share over the baseline window.

    Columns: `key`, the `by_segment_columns` columns, `baseline` (share, segment all),
    `baseline_merged_prs`; rows with the highest AI-assisted share first. `base`: the baseline window's
    counts per `key` (`key, merged_prs, rolled_back`: `baseline_counts`) when `outcomes` do not reach back
    to it.
    """
    bounds = filters.bounds()
    if bounds is None:
        return pl.DataFrame(schema={key: pl.String})
    shares = rollback_share_by(outcomes, [key], since=bounds[0], until=bounds[1])
    return _with_baseline(shares, key, baseline_counts(outcomes, [key], baseline) if base is None else base)


def _with_baseline(shares: pl.DataFrame, key: str, base: pl.DataFrame) -> pl.DataFrame:
    if shares.height == 0:
        return pl.DataFrame(schema={key: pl.String})
    wide = by_segment_columns(shares, [key])
    base = base.select(key, baseline=pl.col("rolled_back") / pl.col("merged_prs"), baseline_merged_prs="merged_prs")
    return wide.join(base, on=key, how="left").sort(
        ["ai_share", "all_share", key], descending=[True, True, False], nulls_last=True
    )


def baseline_counts(outcomes: pl.DataFrame, keys: list[str], baseline: Window) -> pl.DataFrame:
    """The PRs merged in the baseline window and how many of them were rolled back, per `keys`:
    `*keys, merged_prs, rolled_back` (`rollback_share_by`'s segment all; keys without a merged PR have no row)."""
    return rollback_share_by(outcomes, keys, since=baseline.start, until=_until(baseline)).filter(
        pl.col("segment") == "all"
    ).select(*keys, "merged_prs", "rolled_back")


def team_share_table(cube: Cube, filters: Filters, baseline: Window) -> pl.DataFrame:
    """`share_table(outcomes, "team", filters, baseline)` from the daily cube's rollback counts (per merge
    day × team × AI segment: the same PRs and verdicts), without reading a PR: the Rollbacks page before a
    team is picked."""
    bounds = filters.bounds()
    if bounds is None:
        return pl.DataFrame(schema={"team": pl.String})
    metric = subject_of("rollbacks").id
    last = (bounds[1] - dt.timedelta(microseconds=1)).date()  # bounds are whole UTC days
    by_segment = _cube_counts(cube, metric, bounds[0].date(), last, ["team", "segment"])
    overall = by_segment.group_by("team").agg(pl.col("merged_prs", "rolled_back").sum()).with_columns(segment=pl.lit("all"))
    counts = pl.concat([overall.select(by_segment.columns), by_segment])
    low, high = wilson(counts["rolled_back"].to_numpy(), counts["merged_prs"].to_numpy())
    order = {s: i for i, s in enumerate(("all", "ai", "non_ai"))}
    shares = counts.with_columns(
        share=pl.col("rolled_back") / pl.col("merged_prs"),
        ci_low=pl.Series(low, dtype=pl.Float64), ci_high=pl.Series(high, dtype=pl.Float64),
    ).sort("team", pl.col("segment").replace_strict(order, return_dtype=pl.Int32))
    base = _cube_counts(cube, metric, baseline.first_day, baseline.last_day, ["team"])
    return _with_baseline(shares, "team", base)


def _cube_counts(cube: Cube, metric: str, first: dt.date, last: dt.date, keys: list[str]) -> pl.DataFrame:
    """The cube's merged PRs (n) and rolled-back ones (x) merged on the days [first, last], per `keys`
    (team, segment ai / non_ai); the `tool:` and `mode:` rows repeat AI-assisted PRs and are left out."""
    rows = cube.metric_rows("ratio", metric).filter(pl.col("day").is_between(first, last) & ~is_ai_segment(pl.col("segment")))
    return (rows.group_by(keys).agg(merged_prs=pl.col("n").sum(), rolled_back=pl.col("x").sum())
            .select(*[pl.col(k).cast(pl.String) for k in keys], pl.col("merged_prs").cast(pl.Int64),
                    pl.col("rolled_back").cast(pl.Int64)))


def share_columns(table: pl.DataFrame, key: str) -> pl.DataFrame:
    """A `share_table` as shown: `key`, then shares in percent (`ai_pct`, `non_ai_pct`, `all_pct`,
    `baseline_pct`) with the segments' 95% intervals as text, merged PRs and AI-assisted PRs."""
    def interval(segment: str) -> pl.Expr:
        low, high = pl.col(f"{segment}_ci_low"), pl.col(f"{segment}_ci_high")
        text = pl.format("{}–{}%", (low * 100).round(1), (high * 100).round(1))
        return pl.when(low.is_not_null() & high.is_not_null()).then(text).otherwise(pl.lit("")).alias(f"{segment}_interval")

    return table.select(
        key,
        ai_pct=pl.col("ai_share") * 100, ai_interval=interval("ai"),
        non_ai_pct=pl.col("non_ai_share") * 100, non_ai_interval=interval("non_ai"),
        all_pct=pl.col("all_share") * 100, baseline_pct=pl.col("baseline") * 100,
        all_merged_prs="all_merged_prs", ai_merged_prs="ai_merged_prs",
    )


def segment_summary(outcomes: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """All / AI-assisted / not AI-assisted over the selected periods: one row per segment with
    `merged_prs, rolled_back, share, ci_low, ci_high`."""
    bounds = filters.bounds()
    since, until = bounds or (_EPOCH, _EPOCH)
    return rollback_share_by(outcomes, [], since=since, until=until)


def trend(outcomes: pl.DataFrame, filters: Filters, baseline: Window, base: pl.DataFrame | None = None) -> pl.DataFrame:
    """Period by period, shaped like scorecard records so the trend chart draws it alike:
    `period, segment, value, ci_low, ci_high, n, baseline` (the scope's share over the baseline
    window, segment all). `base`: the scope's baseline counts (`baseline_counts`, summed here) when
    `outcomes` do not reach back to the window."""
    bounds = filters.bounds()
    schema = {"period": pl.Date, "segment": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
              "ci_high": pl.Float64, "n": pl.Int64, "baseline": pl.Float64}
    if bounds is None:
        return pl.DataFrame(schema=schema)
    shares = rollback_share_by(outcomes, ["period"], since=bounds[0], until=bounds[1], grain=filters.grain)
    if base is None:
        base = rollback_share_by(outcomes, [], since=baseline.start, until=_until(baseline)).filter(pl.col("segment") == "all")
    else:  # the same share of the summed counts (0 / 0 is NaN, as rollback_share_by gives for no PR)
        base = base.select(share=pl.col("rolled_back").sum() / pl.col("merged_prs").sum())
    baseline_share = base["share"][0] if base.height else None
    return shares.select(
        "period", "segment", value="share", ci_low="ci_low", ci_high="ci_high", n="merged_prs",
        baseline=pl.lit(baseline_share, dtype=pl.Float64),
    ).cast(schema)


def rolled_back_prs(outcomes: pl.DataFrame, filters: Filters, ai_only: bool = False) -> pl.DataFrame:
    """The rolled-back PRs merged in the selected periods, latest rollback first.

    Columns: `id, title, repo, number, author, team, merged_at, ai_assisted, ai_tools` ("Claude Code, Cursor"),
    `ai_mode` (in words), `ai_signals` (one line),
    `shipped_deployment_id, rolled_back_how, rolled_back_by, rolled_back_at, url` (http(s) only).
    """
    bounds = filters.bounds()
    frame = outcomes.filter(pl.col("rolled_back").fill_null(False))
    if bounds is not None:
        frame = frame.filter((pl.col("merged_at") >= bounds[0]) & (pl.col("merged_at") < bounds[1]))
    else:
        frame = frame.clear()
    if ai_only:
        frame = frame.filter(pl.col("ai_assisted").fill_null(False))
    return frame.sort(["rolled_back_at", "id"], descending=[True, False]).select(
        "id", "title", "repo", "number", "author", "team", "merged_at",
        pl.col("ai_assisted").fill_null(False),
        tools_text(), mode_text(),
        signals_text(),
        "shipped_deployment_id", "rolled_back_how", "rolled_back_by", "rolled_back_at",
        link_column(),
    )


def ratio_sentence(summary: pl.DataFrame) -> str | None:
    """"AI-assisted PRs were rolled back 2.1× as often as other PRs (8.0% vs 3.8%)." — or None."""
    by = {r["segment"]: r for r in summary.iter_rows(named=True)}
    ai, other = by.get("ai"), by.get("non_ai")
    if not ai or not other or not other["share"]:
        return None
    ratio = ai["share"] / other["share"]
    if abs(ratio - 1) < 0.05:
        return f"AI-assisted PRs were rolled back about as often as other PRs ({ai['share']:.1%} vs {other['share']:.1%})."
    if ratio > 1:
        return f"AI-assisted PRs were rolled back {ratio:.1f}× as often as other PRs ({ai['share']:.1%} vs {other['share']:.1%})."
    return f"AI-assisted PRs were rolled back less often than other PRs ({ai['share']:.1%} vs {other['share']:.1%})."
