"""The team to look at: where AI-assisted PRs are rolled back clearly more often than the same team's
other PRs over the selected periods (their 95% intervals do not overlap) — the demo's story, and the
first question a VP asks after a red rollback tile."""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from metrics.breakdown import pooled_shares_from_cube
from metrics.cube import Cube
from metrics.periods import period_end
from reports.filters import Filters
from metrics.registry import subject_of


@dataclass(frozen=True)
class TeamToWatch:
    team: str
    ai_share: float
    ai_prs: int
    other_share: float
    other_prs: int

    @property
    def sentence(self) -> str:
        return (f"Team to look at: {self.team}. {self.ai_share:.1%} of its {self.ai_prs:,} AI-assisted PRs were "
                f"rolled back in these periods, against {self.other_share:.1%} of its {self.other_prs:,} other PRs.")


def teams_to_watch(cube: Cube, filters: Filters, min_prs: int = 20) -> list[TeamToWatch]:
    """Teams whose AI-assisted rollback share is above their other PRs' with non-overlapping 95%
    intervals (both groups with at least `min_prs` PRs), the largest ratio first."""
    periods = filters.periods
    if not periods:
        return []
    shares = pooled_shares_from_cube(cube.ratio, subject_of("rollbacks").id, first_day=periods[0],
                                     last_day=period_end(periods[-1], filters.grain))
    if filters.team:
        shares = shares.filter(pl.col("team") == filters.team)
    ai = shares.filter(pl.col("segment") == "ai").select("team", ai_share="share", ai_n="n", ai_low="ci_low")
    other = shares.filter(pl.col("segment") == "non_ai").select("team", other_share="share", other_n="n", other_high="ci_high")
    flagged = (
        ai.join(other, on="team")
        .filter((pl.col("ai_n") >= min_prs) & (pl.col("other_n") >= min_prs) & (pl.col("ai_low") > pl.col("other_high")))
        .with_columns(ratio=pl.col("ai_share") / pl.col("other_share"))
        .sort(["ratio", "team"], descending=[True, False], nulls_last=False)
    )
    return [TeamToWatch(r["team"], r["ai_share"], r["ai_n"], r["other_share"], r["other_n"]) for r in flagged.iter_rows(named=True)]
