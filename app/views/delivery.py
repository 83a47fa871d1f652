"""The Delivery page and the team drill-down's change chain: DORA's keys AI vs not, incidents with the
deployment that caused them, reworked PRs and senior reviews — frames only, no Streamlit."""
from __future__ import annotations

import polars as pl

from app.views.charts import baseline_band
from metrics.change_chain import ChainFacts, rework_of_first
from metrics.registry import METRICS
from reports.filters import Filters
from reports.format import link_column, signals_text
from reports.tiles import tile_spec

# The metrics with a place on the Delivery page or the team drill-down (`MetricSpec.delivery`), in order.
_DELIVERY = sorted((m for m in METRICS.values() if m.delivery is not None), key=lambda m: m.delivery.order)
# The Delivery page's tiles: DORA's keys (segment all), then the same split by AI-assisted change.
DORA_TILES = tuple(tile_spec(m, m.delivery.tiles[0]) for m in _DELIVERY if m.delivery.tiles)
AI_SPLIT_TILES = tuple(tuple(tile_spec(m, t) for t in m.delivery.tiles[1:]) for m in _DELIVERY if len(m.delivery.tiles) > 1)
# metric → (segments drawn, title)
DELIVERY_TRENDS = {m.id: (m.delivery.trend.segments, m.delivery.trend.title) for m in _DELIVERY if m.delivery.trend}
PAGE_TRENDS = tuple(m.id for m in _DELIVERY if m.delivery.trend and m.delivery.on_page)  # on the Delivery page
TEAM_TILES = tuple(tile_spec(m, t) for m in _DELIVERY for t in m.delivery.team_tiles)
TEAM_TRENDS = tuple(m.id for m in _DELIVERY if m.delivery.trend and m.delivery.team_tiles)  # in the team drill-down


def trend_rows(records: pl.DataFrame, metric: str, team: str | None) -> tuple[pl.DataFrame, tuple[float, float] | None]:
    """One metric's records for the org or a team, oldest first, and its baseline band (the baseline's
    95% interval for ratios; none for rates and medians)."""
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    rows = records.filter((pl.col("metric") == metric) & who).sort("period", "segment")
    overall = rows.filter(pl.col("segment") == "all")
    band = None
    if overall.height:
        first = overall.row(0, named=True)
        band = baseline_band(METRICS[metric].kind, first["baseline"], first["baseline_n"])
    return rows, band


def _in_range(frame: pl.DataFrame, column: str, filters: Filters) -> pl.DataFrame:
    bounds = filters.bounds()
    if bounds is None:
        return frame.clear()
    frame = frame.filter((pl.col(column) >= bounds[0]) & (pl.col(column) < bounds[1]))
    return frame.filter(pl.col("team") == filters.team) if filters.team else frame


def linked_incidents(incidents: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Incidents started in the selected periods, latest first (same start: by id), each with its causing
    deployment and the PRs it shipped, and how the link was made. `incidents`: the change chain's
    (`ChainFacts.incidents`) or the facts kept beside the cube (metrics.cube.delivery_facts) of the range.

    Columns: `id, title, team, service, started_at, resolved_at, caused_by_deployment_id, cause_how`
    ("source", "inferred" or null), `cause_change` ("AI-assisted change", "other change" or null),
    `cause_prs`, `cause_rule` (the rule and window, in words), `url`.
    """
    return _in_range(incidents, "started_at", filters).sort(["started_at", "id"], descending=[True, False]).select(
        "id", "title", "team", "service", "started_at", "resolved_at", "caused_by_deployment_id", "cause_how",
        cause_change=pl.col("cause_segment").replace_strict(
            {"ai_change": "AI-assisted change", "non_ai_change": "other change"}, default=None, return_dtype=pl.String),
        cause_prs="cause_prs", cause_rule="cause_rule", url=link_column(),
    )


def failed_deployments(deployments: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Production deployments (not rollbacks) finished in the selected periods that failed, latest first
    (same finish: by id): `id, repo, environment, team, finished_at, shipped_prs, ai_prs, failed_how, failed_by,
    failed_reason`. `deployments`: the change chain's (`ChainFacts.deployments`) or the failed ones kept beside
    the cube (metrics.cube.delivery_facts) of the range."""
    return _in_range(deployments.filter(pl.col("failed")), "finished_at", filters).sort(
        ["finished_at", "id"], descending=[True, False]
    ).select("id", "repo", "environment", "team", "finished_at", "shipped_prs", "ai_prs", "failed_how", "failed_by",
             "failed_reason")


def reworked_prs(outcomes: pl.DataFrame, chain: ChainFacts, filters: Filters, *, ai_only: bool,
                 files: pl.DataFrame | None = None) -> pl.DataFrame:
    """`reworked_rows` with the first fixes matched within the repos of `outcomes` only
    (ChainFacts.first_fixes_in: each PR's first fix and how many, not a row per pair), over `files` (those
    repos' PR files) when the chain's evidence holds none."""
    first = chain.first_fixes_in(outcomes.get_column("repo").unique().to_list(), files)
    return reworked_rows(outcomes, first, filters, ai_only=ai_only)


def reworked_rows(outcomes: pl.DataFrame, first: pl.DataFrame, filters: Filters, *, ai_only: bool) -> pl.DataFrame:
    """Merged PRs of the selected periods that needed a follow-up fix, latest merge first: `title, repo,
    number, merged_at, fixed_by, fixed_at, fix_how, follow_ups, ai_assisted, ai_signals, url, team`. `first`:
    the first follow-up fixes (metrics.change_chain.first_fixes) of the PRs of `outcomes`, or of more."""
    rework = rework_of_first(outcomes, first).filter(pl.col("reworked"))
    rows = rework.join(outcomes.select("id", "title", "repo", "number", "ai_signals", "url"), on="id", how="left")
    rows = _in_range(rows, "merged_at", filters)
    if ai_only:
        rows = rows.filter(pl.col("ai_assisted").fill_null(False))
    return rows.sort("merged_at", descending=True).select(
        "title", "repo", "number", "merged_at", "fixed_by", "fixed_at", "fix_how", "follow_ups",
        ai_assisted=pl.col("ai_assisted").fill_null(False), ai_signals=signals_text(), url=link_column(), team="team",
    )


def senior_reviews(reviews: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Senior reviews (metrics.senior_review.senior_review_events) submitted in the selected periods,
    latest first: `submitted_at, reviewer, pr_id, on_ai_pr, team, reason`."""
    return _in_range(reviews, "at", filters).sort("at", descending=True).select(
        submitted_at="at", reviewer="reviewer", pr_id="pr_id", on_ai_pr=pl.col("segment") == "ai", team="team",
        reason="reason",
    )


def reviews_by_senior(reviews: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Per senior reviewer over the selected periods: `reviewer, team, reviews, on_ai_prs, ai_share`,
    busiest first."""
    rows = senior_reviews(reviews, filters)
    return rows.group_by("reviewer", "team").agg(
        reviews=pl.len().cast(pl.Int64), on_ai_prs=pl.col("on_ai_pr").sum().cast(pl.Int64),
    ).with_columns(ai_share=pl.col("on_ai_prs") / pl.col("reviews")).sort(["reviews", "reviewer"], descending=[True, False])
