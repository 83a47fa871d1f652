"""Support: deflection and CSAT by channel and team, with the CSAT guardrail (DESIGN.md status rule 6)."""
from __future__ import annotations

import polars as pl

from metrics.cube import ticket_facts
from metrics.events import DEFLECTED_CHANNELS
from metrics.periods import period_of
from metrics.stats import wilson
from reports.filters import Filters


def ticket_counts(tickets: pl.DataFrame) -> pl.DataFrame:
    """`tickets` as the Support views read them: resolved tickets counted per day × team × channel
    (metrics.cube.ticket_facts, the counts kept beside the cube); counts are given back as they are."""
    return tickets if "scored" in tickets.columns else ticket_facts(tickets)


def resolved_tickets(tickets: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The counts of the tickets resolved in the selected periods (their counting time; `ticket_counts`:
    per day, team and lower-case `channel`), with `period`. `tickets`: ticket rows or their counts."""
    counts = ticket_counts(tickets)
    bounds = filters.bounds()
    if bounds is None:
        return counts.clear().with_columns(period=pl.lit(None, dtype=pl.Date))
    # A day's tickets lie in [bounds) exactly when its midnight does: the bounds are UTC midnights.
    at = pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    frame = counts.filter((at >= bounds[0]) & (at < bounds[1]))
    if filters.team:
        frame = frame.filter(pl.col("team") == filters.team)
    return frame.with_columns(period=period_of(at, filters.grain))


def by_channel_over_time(tickets: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """`period, channel, tickets` for a stacked chart of how tickets were resolved."""
    return (resolved_tickets(tickets, filters).group_by("period", "channel")
            .agg(tickets=pl.col("tickets").sum().cast(pl.Int64)).sort("period", "channel"))


def _mean(total: pl.Expr, n: pl.Expr) -> pl.Expr:
    """A mean from its sum and count (null for none), as the tickets' own mean would give it."""
    return pl.when(n > 0).then(total / n).otherwise(None).cast(pl.Float64)


def _summary(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    bot = pl.col("channel") == "ai_bot"
    out = frame.group_by(keys).agg(
        resolved=pl.col("tickets").sum().cast(pl.Int64),
        deflected=pl.col("tickets").filter(pl.col("channel").is_in(DEFLECTED_CHANNELS)).sum().cast(pl.Int64),
        scored=pl.col("scored").sum().cast(pl.Int64),
        csat=_mean(pl.col("csat_total").sum(), pl.col("scored").sum()),
        csat_ai_bot=_mean(pl.col("csat_total").filter(bot).sum(), pl.col("scored").filter(bot).sum()),
        csat_others=_mean(pl.col("csat_total").filter(~bot).sum(), pl.col("scored").filter(~bot).sum()),
    )
    low, high = wilson(out["deflected"].to_numpy(), out["resolved"].to_numpy())
    return out.with_columns(
        deflection=pl.col("deflected") / pl.col("resolved"),
        deflection_ci_low=pl.Series(low, dtype=pl.Float64),
        deflection_ci_high=pl.Series(high, dtype=pl.Float64),
    )


def by_team(tickets: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Per team over the selected periods: `team, resolved, deflected, deflection` (+ Wilson
    `deflection_ci_low/high`), `scored, csat, csat_ai_bot, csat_others`; highest deflection first."""
    return _summary(resolved_tickets(tickets, filters), ["team"]).sort(["deflection", "team"], descending=[True, False])


def by_channel(tickets: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Per channel over the selected periods: `channel, resolved, scored, csat`, most tickets first."""
    return _summary(resolved_tickets(tickets, filters), ["channel"]).select(
        "channel", "resolved", "scored", "csat"
    ).sort(["resolved", "channel"], descending=[True, False])


def guardrail_sentence(csat_value: float | None, csat_baseline: float | None, tolerance: float, status: str | None) -> str:
    """The CSAT guardrail in words, for the deflection tile's period."""
    if csat_value is None:
        return "CSAT guardrail: no scored tickets in this period."
    if csat_baseline is None:
        return f"CSAT {csat_value:.2f}; no baseline yet, so the guardrail cannot fire."
    floor = csat_baseline - tolerance
    if status == "insufficient_data":
        return f"CSAT {csat_value:.2f} vs floor {floor:.2f} (baseline {csat_baseline:.2f} − {tolerance:g}): not enough scored tickets to judge."
    if csat_value < floor:
        return f"Guardrail breached: CSAT {csat_value:.2f} is below the floor of {floor:.2f} (baseline {csat_baseline:.2f} − {tolerance:g}), so deflection counts as worse."
    return f"Guardrail held: CSAT {csat_value:.2f} is above the floor of {floor:.2f} (baseline {csat_baseline:.2f} − {tolerance:g})."
