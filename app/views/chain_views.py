"""One deployment and one incident, as their single views show them, read from the change chain
(metrics.change_chain.chain_facts) and the PR outcomes, so every fact agrees with the metrics:

- a deployment: repo, environment, sha, finished, status, the PRs it shipped, whether it is a rollback
  (of what), and whether it failed — rolled back, a PR of it reverted, or an incident caused — by what;
- an incident: title, team, service, severity, started/resolved, the deployment that caused it and how
  that link was made, and the PRs that deployment shipped."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import polars as pl

from metrics.change_chain import ChainFacts
from metrics.linking import detect_rollbacks, production_deployments


def deployment_link(deployment_id: str) -> str:
    """The single-deployment view's URL path and query, relative to the dashboard's root."""
    return "deployment?id=" + quote(deployment_id, safe="")


def incident_link(incident_id: str) -> str:
    """The single-incident view's URL path and query, relative to the dashboard's root."""
    return "incident?id=" + quote(incident_id, safe="")


def link_to(view: str, column: str, name: str) -> pl.Expr:
    """A column of links to a single view (`view`: "pr", "deployment" or "incident") for a LinkColumn;
    null where `column` is null."""
    return pl.col(column).map_elements(lambda v: f"{view}?id=" + quote(v, safe=""), return_dtype=pl.String).alias(name)


# The exported warehouse tables whose `id` has a single view of its own (the Export preview links it).
VIEW_OF_TABLE = {"pull_requests": "pr", "deployments": "deployment", "incidents": "incident"}


_PR_COLUMNS = ("id", "title", "author", "ai_assisted", "rolled_back")


@dataclass(frozen=True)
class DeploymentView:
    deployment: dict  # the warehouse row: id, repo, environment, sha, finished_at, status, url, team, …
    production: bool  # a successful production deployment (the only kind the metrics read)
    rollback_of: list[str]  # when it is a rollback: the deployments it rolls back
    rollback_rule: str | None  # "flag" (the source said so) or "sha" (it redeployed an earlier sha)
    failed: dict | None  # the chain's row: failed, failed_how, failed_by, failed_reason (None for rollbacks)
    shipped: pl.DataFrame  # the PRs it shipped: id, title, author, ai_assisted, rolled_back
    incidents: pl.DataFrame  # incidents it caused: id, title, started_at, cause_how


def deployment_view(deployments: pl.DataFrame, outcomes: pl.DataFrame, chain: ChainFacts,
                    production_environments: tuple[str, ...], deployment_id: str) -> DeploymentView | None:
    """The view of one deployment (None when no deployment has that id)."""
    rows = deployments.filter(pl.col("id") == deployment_id)
    if rows.height == 0:
        return None
    production, pairs = detect_rollbacks(production_deployments(deployments, production_environments))
    mine = production.filter(pl.col("id") == deployment_id)
    is_rollback = bool(mine.height and mine["rollback"][0])
    chain_row = chain.deployments.filter(pl.col("id") == deployment_id)
    return DeploymentView(
        deployment=rows.row(0, named=True),
        production=mine.height > 0,
        rollback_of=sorted(pairs.filter(pl.col("rollback_id") == deployment_id)["deployment_id"].to_list()),
        rollback_rule=mine["rollback_rule"][0] if is_rollback else None,
        failed=chain_row.select("failed", "failed_how", "failed_by", "failed_reason").row(0, named=True)
        if chain_row.height else None,
        shipped=outcomes.filter(pl.col("shipped_deployment_id") == deployment_id).sort("merged_at").select(_PR_COLUMNS),
        incidents=chain.incidents.filter(pl.col("caused_by_deployment_id") == deployment_id)
        .sort("started_at").select("id", "title", "started_at", "cause_how"),
    )


@dataclass(frozen=True)
class IncidentView:
    incident: dict  # the chain's row: id, title, team, service, severity, started_at, resolved_at, url,
    #                 caused_by_deployment_id, cause_how ("source"/"inferred"/None), cause_rule, cause_segment
    deployment: dict | None  # the causing deployment's warehouse row, when it is in the warehouse
    cause_prs: pl.DataFrame  # the PRs the causing deployment shipped: id, title, author, ai_assisted, rolled_back


def incident_view(deployments: pl.DataFrame, outcomes: pl.DataFrame, chain: ChainFacts,
                  incident_id: str) -> IncidentView | None:
    """The view of one incident (None when no incident has that id)."""
    rows = chain.incidents.filter(pl.col("id") == incident_id)
    if rows.height == 0:
        return None
    incident = rows.row(0, named=True)
    cause = incident.get("caused_by_deployment_id")
    dep = deployments.filter(pl.col("id") == cause) if cause else deployments.clear()
    prs = outcomes.filter(pl.col("shipped_deployment_id") == cause) if cause else outcomes.clear()
    return IncidentView(incident=incident, deployment=dep.row(0, named=True) if dep.height else None,
                        cause_prs=prs.sort("merged_at").select(_PR_COLUMNS))
