"""One pull request, as the single-PR view shows it: who, why it counted as AI-assisted, which deployment
shipped it (and with which other PRs), and whether and how it was rolled back or reverted, by what and
when — all read from the prepared outcomes (metrics.linking.pr_outcomes), so it agrees with every metric."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import quote

import polars as pl

from reports.format import link_column


def pr_link(pr_id: str) -> str:
    """The single-PR view's URL path and query, relative to the dashboard's root (`pr?id=…`)."""
    return "pr?id=" + quote(pr_id, safe="")


def pr_link_column(column: str = "id", name: str = "view") -> pl.Expr:
    """A column of single-PR view links, for a table's LinkColumn."""
    return pl.col(column).map_elements(pr_link, return_dtype=pl.String).alias(name)


@dataclass(frozen=True)
class PrView:
    pr: dict  # the outcome row: id, repo, number, title, author, team, url, merged_at, ai_assisted, …
    signals: list[str]
    tools: list[str]  # ai_tools when the warehouse has them
    mode: str | None  # ai_mode when the warehouse has it
    deployment: dict | None  # the deployment that shipped it: id, environment, finished_at, url, how
    shipped_with: pl.DataFrame  # the other PRs of that deployment, first merged first: id, title, ai_assisted, rolled_back
    reverted_by: pl.DataFrame  # merged PRs whose resolved revert link names this one: id, title, merged_at
    reverts: dict | None  # the PR this one reverts (id, title), when it is a revert


def _list(raw) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(v) for v in raw]
    try:
        values = json.loads(raw)
    except (TypeError, ValueError):
        return [str(raw)]
    return [str(v) for v in values] if isinstance(values, list) else [str(values)]


def pr_view(outcomes: pl.DataFrame, deployments: pl.DataFrame, pr_id: str, extra: dict | None = None) -> PrView | None:
    """The view of one merged PR (None when no merged PR has that id). `extra` holds the PR's warehouse
    columns the evidence does not carry (`ai_tools`, `ai_mode`), when the schema has them."""
    rows = outcomes.filter(pl.col("id") == pr_id)
    if rows.height == 0:
        return None
    pr = rows.row(0, named=True)
    extra = extra or {}
    deployment = None
    shipped_with = outcomes.clear().select("id", "title", "ai_assisted", "rolled_back")
    if pr.get("shipped_deployment_id"):
        dep = deployments.filter(pl.col("id") == pr["shipped_deployment_id"]).with_columns(link_column())
        deployment = dep.row(0, named=True) if dep.height else {"id": pr["shipped_deployment_id"]}
        deployment["how"] = pr.get("shipped_how")
        shipped_with = outcomes.filter((pl.col("shipped_deployment_id") == pr["shipped_deployment_id"])
                                       & (pl.col("id") != pr_id)).sort("merged_at", "id").select(
            "id", "title", "ai_assisted", "rolled_back")
    reverted_by = outcomes.filter(pl.col("reverts_pr_id") == pr_id).select("id", "title", "merged_at").sort("merged_at")
    reverts = None
    if pr.get("reverts_pr_id"):
        target = outcomes.filter(pl.col("id") == pr["reverts_pr_id"])
        reverts = {"id": pr["reverts_pr_id"], "title": target["title"][0] if target.height else None}
    return PrView(pr=pr, signals=_list(pr.get("ai_signals")), tools=_list(extra.get("ai_tools")),
                  mode=extra.get("ai_mode"), deployment=deployment, shipped_with=shipped_with,
                  reverted_by=reverted_by, reverts=reverts)


def fmt_when(value: dt.datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")
