"""GitHub's JSON → our records.

Pull requests go through the same attribution (`classify_prs`) and revert reading (`revert_columns`)
as a CSV import, so a PR counts as AI-assisted for the same reasons whichever way it arrived. A node
that cannot be read becomes a `Rejected` with its id and the reason, never a silently missing row.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field

import polars as pl

from config.model import AiDetectionConfig, GithubDeploymentsConfig
from connectors.common.ai_detection import classify_prs
from connectors.common.normalise import to_json_list
from connectors.common.reverts import revert_columns
from connectors.common.times import utc_time
from connectors.contract import Rejected, Unreadable
import connectors.github.settings as settings

UTC = dt.timezone.utc
UTC_US = pl.Datetime("us", "UTC")


def timestamp(node: dict, key: str, *, required: bool = False) -> dt.datetime | None:
    value = node.get(key)
    if value is None:
        if required:
            raise Unreadable(f"no {key}")
        return None
    try:
        return utc_time(value)
    except ValueError:
        shown = repr(value[:40]) if isinstance(value, str) else f"{value!r:.40}"
        raise Unreadable(f"{key} is not a timestamp: {shown}") from None


def sort_time(node: dict, key: str) -> dt.datetime | None:
    """The time a listing is ordered by, or None when unreadable (the node is then rejected)."""
    try:
        return timestamp(node, key)
    except Unreadable:
        return None


def _text(node: dict, key: str, *, required: bool = False) -> str | None:
    value = node.get(key)
    if value is None or value == "":
        if required:
            raise Unreadable(f"no {key}")
        return None
    if not isinstance(value, str):
        raise Unreadable(f"{key} is not text")
    return value


def _nodes(node: dict | None, key: str) -> list[dict]:
    connection = (node or {}).get(key) or {}
    return [n for n in (connection.get("nodes") or []) if isinstance(n, dict)]


# Pull requests ------------------------------------------------------------------------------------
_RAW_PR_SCHEMA = {
    "id": pl.String, "repo": pl.String, "number": pl.Int64, "title": pl.String, "author": pl.String,
    "url": pl.String, "created_at": UTC_US, "merged_at": UTC_US, "closed_at": UTC_US,
    "merge_commit_sha": pl.String, "labels": pl.List(pl.String), "body": pl.String,
    "commit_messages": pl.List(pl.String), "head_branch": pl.String,
}
PR_COLUMNS = ["id", "source", "repo", "number", "title", "author", "url", "created_at", "merged_at", "closed_at",
              "merge_commit_sha", "labels", "ai_assisted", "ai_signals", "ai_tools", "ai_mode", "ai_confidence",
              "is_revert", "revert_ref"]


def pr_id(repo: str, number: int) -> str:
    return f"{settings.SOURCE}:{repo}#{number}"


def pr_row(repo: str, node: dict) -> dict:
    number = node.get("number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise Unreadable("no PR number")
    merged_at = timestamp(node, "mergedAt")
    merge_commit = node.get("mergeCommit") or {}
    messages = [(n.get("commit") or {}).get("message") for n in _nodes(node, "commits")]
    messages.append(merge_commit.get("message"))  # squash merges put the trailers here
    return {
        "id": pr_id(repo, number), "repo": repo, "number": number, "title": _text(node, "title"),
        "author": (node.get("author") or {}).get("login"),  # null for a deleted account
        "url": _text(node, "url"), "created_at": timestamp(node, "createdAt", required=True),
        "merged_at": merged_at, "closed_at": timestamp(node, "closedAt"),
        # closed-unmerged PRs also carry a test merge commit: only a merged PR has a merge commit
        "merge_commit_sha": merge_commit.get("oid") if merged_at else None,
        "labels": [n["name"] for n in _nodes(node, "labels") if isinstance(n.get("name"), str)],
        "body": node.get("body") if isinstance(node.get("body"), str) else None,
        "commit_messages": [m for m in messages if isinstance(m, str) and m],
        "head_branch": node.get("headRefName") if isinstance(node.get("headRefName"), str) else None,
    }


FILE_SCHEMA = {"pr_id": pl.String, "path": pl.String, "source": pl.String}
REVIEW_SCHEMA = {"id": pl.String, "source": pl.String, "pr_id": pl.String, "reviewer": pl.String, "state": pl.String,
                 "submitted_at": UTC_US}
GHOST = "ghost"  # GitHub's name for a deleted account


def pr_files_and_reviews(repo: str, node: dict) -> tuple[list[dict], list[dict]]:
    """The PR's changed paths (the first 100, a renamed file by its new path) and its submitted reviews
    (`pull_request_files` and `reviews` rows). A review without `submittedAt` or still PENDING is left
    out: it has not been submitted."""
    pid = pr_id(repo, node["number"])
    paths = {n.get("path").strip() for n in _nodes(node, "files") if isinstance(n.get("path"), str) and n.get("path").strip()}
    files = [{"pr_id": pid, "path": path, "source": settings.SOURCE} for path in sorted(paths)]
    reviews = []
    for review in _nodes(node, "reviews"):
        state = review.get("state")
        if not isinstance(state, str) or state.upper() == "PENDING" or not review.get("submittedAt"):
            continue
        ident = review.get("databaseId")
        if not isinstance(ident, int):
            raise Unreadable("a review without databaseId")
        reviews.append({
            "id": f"{pid}/reviews/{ident}", "source": settings.SOURCE, "pr_id": pid,
            "reviewer": (review.get("author") or {}).get("login") or GHOST, "state": state.upper(),
            "submitted_at": timestamp(review, "submittedAt", required=True),
        })
    return files, reviews


def pr_rejected_id(repo: str, node: dict) -> str:
    number = node.get("number")
    return pr_id(repo, number) if isinstance(number, int) else f"{settings.SOURCE}:{repo} node {node.get('id', '?')}"


def pr_frame(rows: list[dict], ai_detection: AiDetectionConfig) -> pl.DataFrame:
    """`pull_requests` rows with `ai_assisted`, `ai_signals`, `is_revert` and `revert_ref` decided."""
    raw = pl.DataFrame(rows, schema=_RAW_PR_SCHEMA).with_columns(ai_explicit=pl.lit(None, pl.Boolean))
    prs = revert_columns(classify_prs(raw, ai_detection, source=settings.SOURCE))
    return prs.with_columns(source=pl.lit(settings.SOURCE), labels=to_json_list(pl.col("labels"))).select(PR_COLUMNS)


# Deployments --------------------------------------------------------------------------------------
DEPLOYMENT_SCHEMA = {
    "id": pl.String, "source": pl.String, "repo": pl.String, "environment": pl.String, "sha": pl.String,
    "finished_at": UTC_US, "status": pl.String, "is_rollback": pl.Boolean, "url": pl.String,
    "original_status": pl.String,
}
LINK_SCHEMA = {"deployment_id": pl.String, "pr_id": pl.String, "source": pl.String}


@dataclass
class Deployments:
    """Rows read from one page of deployments or workflow runs."""

    rows: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)  # deployment_prs
    rejected: list[Rejected] = field(default_factory=list)
    unfinished: list[dt.datetime] = field(default_factory=list)  # creation times of those still running

    def frames(self) -> dict[str, pl.DataFrame]:
        frames = {}
        if self.rows:
            frames["deployments"] = pl.DataFrame(self.rows, schema=DEPLOYMENT_SCHEMA)
        if self.links:
            frames["deployment_prs"] = pl.DataFrame(self.links, schema=LINK_SCHEMA).unique()
        return frames


def deployment_id(repo: str, database_id: int) -> str:
    return f"{settings.SOURCE}:{repo}/deployments/{database_id}"


def add_deployment(out: Deployments, repo: str, node: dict, config: GithubDeploymentsConfig,
                   rollback: re.Pattern, html_base: str) -> None:
    """One GraphQL Deployment node: its outcome is its latest status that is not `inactive`."""
    database_id = node.get("databaseId")
    if not isinstance(database_id, int):
        raise Unreadable("no databaseId")
    ident = deployment_id(repo, database_id)
    created = timestamp(node, "createdAt", required=True)
    statuses = []
    for status in _nodes(node, "statuses") + ([node["latestStatus"]] if isinstance(node.get("latestStatus"), dict) else []):
        state = _text(status, "state", required=True).lower()
        statuses.append((timestamp(status, "createdAt", required=True), state, status))
    # GitHub's own spelling of the outcome (GraphQL: SUCCESS, FAILURE, ...), kept beside ours.
    statuses = sorted({(at, state): s for at, state, s in statuses}.items(), key=lambda item: item[0][0])
    outcome = next(((key, s) for key, s in reversed(statuses) if key[1] != settings.SUPERSEDED), None)
    state = outcome[0][1] if outcome else "pending"
    texts = [node.get("description"), node.get("task"), node.get("payload")] + [s.get("description") for _, s in statuses]
    out.rows.append({
        "id": ident, "source": settings.SOURCE, "repo": repo,
        "environment": _text(node, "environment", required=True), "sha": _text(node, "commitOid", required=True),
        "finished_at": outcome[0][0] if outcome and state in settings.FINISHED_STATES else None, "status": state,
        "is_rollback": _flag(texts, rollback),
        "url": (outcome[1].get("logUrl") if outcome else None) or f"{html_base}/{repo}/deployments",
        "original_status": _text(outcome[1], "state", required=True) if outcome else None,
    })
    if state in settings.UNFINISHED_STATES:
        out.unfinished.append(created)
    for target in payload_prs(node.get("payload"), config.payload_pr_keys, repo):
        out.links.append({"deployment_id": ident, "pr_id": target, "source": settings.SOURCE})


def add_run(out: Deployments, repo: str, run, config: GithubDeploymentsConfig, rollback: re.Pattern) -> None:
    """One workflow run (a PyGithub WorkflowRun) of a deploy workflow."""
    if not isinstance(run.id, int) or not run.head_sha:
        raise Unreadable("no run id or head_sha")
    completed = run.status == settings.RUN_COMPLETED
    state = (run.conclusion if completed and run.conclusion else run.status or "pending").lower()
    ident = f"{settings.SOURCE}:{repo}/actions/runs/{run.id}"
    out.rows.append({
        "id": ident, "source": settings.SOURCE, "repo": repo, "environment": config.workflow_environment,
        "sha": run.head_sha, "finished_at": timestamp({"t": run.updated_at}, "t") if completed else None,
        "status": state, "is_rollback": _flag([run.display_title, run.name], rollback), "url": run.html_url,
        "original_status": (run.conclusion if completed and run.conclusion else run.status) or None,
    })
    if not completed:
        out.unfinished.append(timestamp({"t": run.created_at}, "t", required=True))
    if run.event not in settings.PR_EVENTS:
        for pr in run.pull_requests or []:
            out.links.append({"deployment_id": ident, "pr_id": pr_id(repo, pr.number), "source": settings.SOURCE})


def _flag(texts: list, pattern: re.Pattern) -> bool | None:
    """True when a rollback marker matches; otherwise unknown (null), so the sha rule decides."""
    return True if any(isinstance(t, str) and pattern.search(t) for t in texts) else None


_PR_REF = re.compile(r"^(?:(?P<repo>[\w.-]+/[\w.-]+))?#?(?P<number>\d+)$|/(?P<url_repo>[\w.-]+/[\w.-]+)/pull/(?P<url_number>\d+)")


def payload_prs(payload, keys: tuple[str, ...], repo: str) -> list[str]:
    """PR ids a deployment payload names under one of `keys`: numbers, "#12", "owner/repo#12", PR URLs
    or objects with a `number`."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return []
    if not isinstance(payload, dict):
        return []
    found = []
    for key in keys:
        items = payload.get(key)
        for item in items if isinstance(items, list) else [items] if items is not None else []:
            if isinstance(item, dict):
                item = item.get("number")
            if isinstance(item, int) and not isinstance(item, bool):
                found.append(pr_id(repo, item))
            elif isinstance(item, str) and (m := _PR_REF.search(item.strip())):
                number = m.group("number") or m.group("url_number")
                found.append(pr_id(m.group("repo") or m.group("url_repo") or repo, int(number)))
    return list(dict.fromkeys(found))


# Copilot adoption ---------------------------------------------------------------------------------
USAGE_SCHEMA = {
    "id": pl.String, "source": pl.String, "date": pl.Date, "tool": pl.String, "active_users": pl.Int64,
    "suggestions": pl.Int64, "acceptances": pl.Int64, "prs_created_by_agent": pl.Int64,
}


def usage_id(org: str, day: dt.date) -> str:
    # One row per org and day: the seat snapshot and the usage report fill different columns of it.
    return f"{settings.SOURCE}:copilot:{org.lower()}:{day.isoformat()}"


def seats_frame(org: str, day: dt.date, seats: int) -> pl.DataFrame:
    return pl.DataFrame(
        [{"id": usage_id(org, day), "source": settings.SOURCE, "date": day, "tool": settings.COPILOT_TOOL, "seats": seats}],
        schema={"id": pl.String, "source": pl.String, "date": pl.Date, "tool": pl.String, "seats": pl.Int64},
    )


def usage_rows(org: str, record: dict) -> list[dict]:
    """Daily totals from one NDJSON record of an organization report (`day_totals`, or a flat day)."""
    totals = record.get("day_totals") if isinstance(record.get("day_totals"), list) else [record]
    rows = []
    for total in totals:
        if not isinstance(total, dict) or "day" not in total:
            continue
        try:
            day = dt.date.fromisoformat(str(total["day"])[:10])
        except ValueError:
            raise Unreadable(f"day is not a date: {str(total['day'])[:20]!r}") from None
        pulls = total.get("pull_requests") if isinstance(total.get("pull_requests"), dict) else {}
        rows.append({
            "id": usage_id(org, day), "source": settings.SOURCE, "date": day, "tool": settings.COPILOT_TOOL,
            "active_users": _count(total, "daily_active_users"),
            "suggestions": _count(total, "code_generation_activity_count"),
            "acceptances": _count(total, "code_acceptance_activity_count"),
            "prs_created_by_agent": _count(pulls, "total_created_by_copilot"),
        })
    return rows


def _count(record: dict, key: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise Unreadable(f"{key} is not a count: {value!r:.20}")
    return int(value)
