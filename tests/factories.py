"""Tiny factories for evidence rows: only the fields a test cares about, sensible defaults for the rest."""
from __future__ import annotations

import datetime as dt
import itertools
import json

import polars as pl

from metrics.evidence import Evidence

_seq = itertools.count(1)


def ts(text: str) -> dt.datetime:
    """'2026-03-01 10:00' (UTC) → an aware datetime."""
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def make_pr(number: int | None = None, *, repo: str = "acme/api", merged_at: str | None = "2026-03-02 10:00",
            title: str | None = None, ai: bool = False, team: str | None = None, sha: str | None = None,
            revert_ref: dict | None = None, reverts_pr_id: str | None = None, author: str = "dev",
            signals: list[str] | None = None, created_at: str | None = None, tools: list[str] | None = None,
            mode: str | None = None, labels: list[str] | None = None) -> dict:
    number = number if number is not None else next(_seq)
    return {
        "id": f"github:{repo}#{number}", "source": "github", "repo": repo, "number": number,
        "title": title or f"Change {number}", "author": author, "team": team,
        "url": f"https://github.com/{repo}/pull/{number}",
        "created_at": ts(created_at) if created_at else (ts(merged_at) - dt.timedelta(hours=5) if merged_at else None),
        "merged_at": ts(merged_at) if merged_at else None, "merge_commit_sha": sha,
        "ai_assisted": ai, "ai_signals": json.dumps(signals if signals is not None else (["label:ai-assisted"] if ai else [])),
        "is_revert": revert_ref is not None or reverts_pr_id is not None,
        "reverts_pr_id": reverts_pr_id, "revert_ref": json.dumps(revert_ref) if revert_ref else None,
        "ai_tools": json.dumps(tools or []), "ai_mode": mode or ("labelled" if ai else None),
        "ai_confidence": ("medium" if (mode or "labelled") == "labelled" else "high") if ai else None,
        "labels": json.dumps(labels or []),
    }


def make_deployment(id: str, *, sha: str, finished_at: str, repo: str = "acme/api", environment: str = "production",
                    status: str = "success", is_rollback: bool | None = None, team: str | None = None) -> dict:
    return {
        "id": id, "source": "github", "repo": repo, "team": team, "environment": environment, "sha": sha,
        "finished_at": ts(finished_at), "status": status, "is_rollback": is_rollback, "url": None,
    }


def make_incident(id: str, *, started_at: str, resolved_at: str | None, ai: bool = False, team: str | None = None,
                  service: str | None = None, caused_by: str | None = None) -> dict:
    return {
        "id": id, "source": "pagerduty", "title": f"Incident {id}", "team": team, "service": service,
        "severity": "high", "started_at": ts(started_at), "resolved_at": ts(resolved_at) if resolved_at else None,
        "ai_assisted": ai, "caused_by_deployment_id": caused_by, "url": None,
    }


def make_review(pr_id: str, reviewer: str, submitted_at: str | None, *, state: str = "APPROVED", id: str | None = None) -> dict:
    return {
        "id": id or f"review:{next(_seq)}", "pr_id": pr_id, "reviewer": reviewer, "state": state,
        "submitted_at": ts(submitted_at) if submitted_at else None,
    }


def make_person(login: str, *, team: str | None = None, level: str | None = "senior", since: str | None = None,
                name: str | None = None) -> dict:
    return {"login": login, "name": name or login, "team": team, "level": level, "since": ts(since) if since else None}


def make_ticket(id: str, *, resolved_at: str | None, channel: str = "human", csat: float | None = None,
                team: str | None = None, created_at: str | None = None) -> dict:
    return {
        "id": id, "source": "jira", "team": team,
        "created_at": ts(created_at) if created_at else (ts(resolved_at) - dt.timedelta(hours=2) if resolved_at else None),
        "resolved_at": ts(resolved_at) if resolved_at else None, "channel": channel, "csat": csat,
    }


def make_spend(id: str, *, date: str, cost: float, team: str | None = None, tool: str = "copilot",
               model: str | None = None, workflow: str | None = None) -> dict:
    return {
        "id": id, "source": "csv", "date": dt.date.fromisoformat(date), "team": team, "tool": tool,
        "model": model, "workflow": workflow, "cost_usd": cost, "tokens": None, "requests": None,
    }


def frame(rows: list[dict], table: str) -> pl.DataFrame:
    from metrics.evidence import SCHEMAS

    schema = SCHEMAS[table]
    return pl.DataFrame(rows, schema={k: v for k, v in schema.items() if not rows or k in rows[0]})


def evidence(*, prs=(), deployments=(), deployment_prs=(), incidents=(), tickets=(), spend=(), files=None,
             reviews=(), people=()) -> Evidence:
    """`files` maps a PR id to the paths it touched."""
    file_rows = [{"pr_id": pr_id, "path": path} for pr_id, paths in (files or {}).items() for path in paths]
    return Evidence.of(
        pull_requests=frame(list(prs), "pull_requests"),
        deployments=frame(list(deployments), "deployments"),
        deployment_prs=pl.DataFrame(list(deployment_prs), schema={"deployment_id": pl.String, "pr_id": pl.String}),
        incidents=frame(list(incidents), "incidents"),
        tickets=frame(list(tickets), "tickets"),
        ai_spend=frame(list(spend), "ai_spend"),
        pull_request_files=pl.DataFrame(file_rows, schema={"pr_id": pl.String, "path": pl.String}),
        reviews=frame(list(reviews), "reviews"),
        people=frame(list(people), "people"),
    )
