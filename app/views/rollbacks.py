"""The rollback drill-down: by team, by repo, AI vs non-AI, trend, and the rolled-back PRs themselves,
all from `Prepared.outcomes` (the same rows the rollback_share records count)."""
from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.breakdown import by_segment_columns, rollback_share_by
from metrics.periods import Window
from reports.filters import Filters
from reports.format import link_column, mode_text, signals_text, tools_text


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def scoped(outcomes: pl.DataFrame, team: str | None = None, repo: str | None = None) -> pl.DataFrame:
    if team is not None:
        outcomes = outcomes.filter(pl.col("team") == team)
    if repo is not None:
        outcomes = outcomes.filter(pl.col("repo") == repo)
    return outcomes


def _until(window: Window) -> dt.datetime:
    return window.end + dt.timedelta(microseconds=1)  # the window's end is inclusive


def share_table(outcomes: pl.DataFrame, key: str, filters: Filters, baseline: Window) -> pl.DataFrame:
    """Rollback share per `key` (team or repo) over the selected periods, AI vs non-AI side by side,
    with the same key's share over the baseline window.

    Columns: `key`, the `by_segment_columns` columns, `baseline` (share, segment all),
    `baseline_merged_prs`; rows with the highest AI-assisted share first.
    """
    bounds = filters.bounds()
    if bounds is None:
        return pl.DataFrame(schema={key: pl.String})
    shares = rollback_share_by(outcomes, [key], since=bounds[0], until=bounds[1])
    if shares.height == 0:
        return pl.DataFrame(schema={key: pl.String})
    wide = by_segment_columns(shares, [key])
    base = rollback_share_by(outcomes, [key], since=baseline.start, until=_until(baseline)).filter(
        pl.col("segment") == "all"
    ).select(key, baseline="share", baseline_merged_prs="merged_prs")
    return wide.join(base, on=key, how="left").sort(
        ["ai_share", "all_share", key], descending=[True, True, False], nulls_last=True
    )


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


def trend(outcomes: pl.DataFrame, filters: Filters, baseline: Window) -> pl.DataFrame:
    """Period by period, shaped like scorecard records so the trend chart draws it alike:
    `period, segment, value, ci_low, ci_high, n, baseline` (the scope's share over the baseline
    window, segment all)."""
    bounds = filters.bounds()
    schema = {"period": pl.Date, "segment": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
              "ci_high": pl.Float64, "n": pl.Int64, "baseline": pl.Float64}
    if bounds is None:
        return pl.DataFrame(schema=schema)
    shares = rollback_share_by(outcomes, ["period"], since=bounds[0], until=bounds[1], grain=filters.grain)
    base = rollback_share_by(outcomes, [], since=baseline.start, until=_until(baseline)).filter(pl.col("segment") == "all")
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
