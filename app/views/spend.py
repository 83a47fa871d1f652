"""AI spend: where the money goes (team, tool, model, workflow), what it buys per resolved unit, and
tokens and requests as denominators (cost per 1k tokens, per request), not as trophies."""
from __future__ import annotations

import polars as pl

from metrics.cube import Cube
from metrics.periods import period_of
from reports.filters import Filters

DIMENSIONS = {"team": "Team", "tool": "Tool", "model": "Model", "workflow": "Workflow"}


def spend_rows(spend: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Spend rows dated in the selected periods (team filter applied), with `period`."""
    periods = filters.periods
    if not periods:
        return spend.clear().with_columns(period=pl.lit(None, dtype=pl.Date))
    frame = spend.with_columns(period=period_of(pl.col("date"), filters.grain)).filter(
        pl.col("period").is_between(periods[0], periods[-1])
    )
    return frame.filter(pl.col("team") == filters.team) if filters.team else frame


def spend_by(spend: pl.DataFrame, dimension: str, filters: Filters) -> pl.DataFrame:
    """Spend per value of `dimension` over the selected periods: `{dimension}, cost_usd, share`
    (of the total), `tokens, requests, usd_per_1k_tokens, usd_per_request`; biggest first.
    Unnamed values show as "(none)"."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, not '{dimension}'")
    rows = spend_rows(spend, filters).with_columns(pl.col(dimension).fill_null("(none)"))
    out = rows.group_by(dimension).agg(
        cost_usd=pl.col("cost_usd").sum(),
        tokens=pl.col("tokens").sum(),
        requests=pl.col("requests").sum(),
        tokens_known=pl.col("tokens").is_not_null().any(),
        requests_known=pl.col("requests").is_not_null().any(),
    )
    total = out["cost_usd"].sum()
    return out.with_columns(
        share=pl.col("cost_usd") / total if total else pl.lit(None, dtype=pl.Float64),
        tokens=pl.when(pl.col("tokens_known")).then(pl.col("tokens")),
        requests=pl.when(pl.col("requests_known")).then(pl.col("requests")),
    ).with_columns(
        usd_per_1k_tokens=pl.when(pl.col("tokens") > 0).then(pl.col("cost_usd") / pl.col("tokens") * 1000),
        usd_per_request=pl.when(pl.col("requests") > 0).then(pl.col("cost_usd") / pl.col("requests")),
    ).select(dimension, "cost_usd", "share", "tokens", "requests", "usd_per_1k_tokens", "usd_per_request").sort(
        ["cost_usd", dimension], descending=[True, False]
    )


def spend_over_time(spend: pl.DataFrame, dimension: str, filters: Filters) -> pl.DataFrame:
    """`period, {dimension}, cost_usd` for a stacked chart."""
    rows = spend_rows(spend, filters).with_columns(pl.col(dimension).fill_null("(none)"))
    return rows.group_by("period", dimension).agg(cost_usd=pl.col("cost_usd").sum()).sort("period", dimension)


def totals(spend: pl.DataFrame, filters: Filters) -> dict[str, float | int | None]:
    """`cost_usd, tokens, requests, rows` over the selected periods; `rows`: the spend rows (those a rolled-up
    frame's `rows` column counts, metrics.cube.spend_rollup, else its rows)."""
    rows = spend_rows(spend, filters)
    return {
        "cost_usd": float(rows["cost_usd"].sum()) if rows.height else 0.0,
        "tokens": int(rows["tokens"].sum()) if rows["tokens"].is_not_null().any() else None,
        "requests": int(rows["requests"].sum()) if rows["requests"].is_not_null().any() else None,
        "rows": int(rows["rows"].sum()) if "rows" in rows.columns else rows.height,
    }


def cost_per_unit_by_team(cube: Cube, filters: Filters) -> pl.DataFrame:
    """AI cost per resolved unit per team, pooled over the selected periods (the scorecard's
    definition: spend ÷ merged PRs + resolved tickets + resolved incidents of the same team).
    Columns: `team, cost_usd, units, usd_per_unit`; teams without spend are left out."""
    periods = filters.periods
    if not periods:
        return pl.DataFrame(schema={"team": pl.String, "cost_usd": pl.Float64, "units": pl.Int64, "usd_per_unit": pl.Float64})

    def in_range(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.filter(period_of(pl.col("day"), filters.grain).is_between(periods[0], periods[-1]))
        return frame.filter(pl.col("team") == filters.team) if filters.team else frame

    spend = in_range(cube.spend).group_by("team").agg(cost_usd=pl.col("spend").sum())
    units = in_range(cube.units).group_by("team").agg(units=pl.col("n").sum().cast(pl.Int64))
    return spend.join(units, on="team", how="left").with_columns(
        usd_per_unit=pl.when(pl.col("units") > 0).then(pl.col("cost_usd") / pl.col("units"))
    ).sort(["usd_per_unit", "team"], descending=[True, False], nulls_last=True)


def with_seats(breakdown: pl.DataFrame, spend: pl.DataFrame, usage: pl.DataFrame, dimension: str,
               filters: Filters) -> pl.DataFrame:
    """`spend_by`'s rows with `seats` after `share`: for seat-priced spend (rows without tokens, e.g.
    Copilot billed per seat) the seats ai_usage reports for the same team and tool on the last day of the
    selected periods that has a seat count, summed over the (team, tool) pairs whose seat-priced spend
    falls in the row; null for rows with no seat-priced spend."""
    periods = filters.periods
    usage = usage.filter(pl.col("seats").is_not_null())
    if filters.team:
        usage = usage.filter(pl.col("team") == filters.team)
    if periods:
        usage = usage.with_columns(period=period_of(pl.col("date"), filters.grain)).filter(
            pl.col("period").is_between(periods[0], periods[-1]))
    else:
        usage = usage.clear()
    seats = (usage.sort("date").group_by("team", "tool").agg(seats=pl.col("seats").last())
             .with_columns(pl.col("seats").cast(pl.Int64)))
    seat_priced = (spend_rows(spend, filters).filter(pl.col("tokens").is_null())
                   .with_columns(pl.col(dimension).fill_null("(none)").alias("_value"))
                   .select("team", "tool", "_value").unique())
    per_value = (seat_priced.join(seats, on=["team", "tool"], how="inner")
                 .group_by("_value").agg(pl.col("seats").sum()).rename({"_value": dimension}))
    out = breakdown.join(per_value, on=dimension, how="left")
    at = out.columns.index("share") + 1
    order = [c for c in out.columns if c != "seats"]
    return out.select(order[:at] + ["seats"] + order[at:])
