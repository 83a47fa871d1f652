"""The evidence the cube's days from a cut on are made of: the rows from `since` on (by counting time,
through the indexes of migration 0008), and the earlier rows those link to (metrics/reach.py says which
and why). Reading it costs what the time range holds, not what the warehouse holds.

Context rows, earlier than `since`:
- deployments: per repo and environment the last production deployment before `since`, and the last one
  of each sha deployed since (what the rollback rule reads: T, and whether another sha lies between);
- pull requests: those reviewed since (the review's `ai` segment is the PR's flag), those a deployment
  since names, and those merged after their repo's last earlier shipping deployment in a repo that
  deploys since (a PR ships with the first production deployment after its merge, whenever that is).
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from warehouse.engine import Warehouse
from warehouse.read import instant_literal, read_where
from warehouse.schema import TABLES


def _at(warehouse: Warehouse, table: str, column: str, instant: dt.datetime) -> str:
    return instant_literal(warehouse.dialect, instant, TABLES[table].c[column])


def read_slice(warehouse: Warehouse, since: dt.datetime, production_environments: list[str],
               columns: dict[str, list[str]]) -> dict[str, pl.DataFrame]:
    """The evidence tables (`columns` names them and their columns) cut to `since`, with context rows."""
    envs = ", ".join("'" + e.lower().replace("'", "''") + "'" for e in production_environments) or "NULL"
    production = f"lower(d.status) = 'success' AND lower(d.environment) IN ({envs})"
    deployed = f"finished_at >= {_at(warehouse, 'deployments', 'finished_at', since)}"
    before = f"d.finished_at < {_at(warehouse, 'deployments', 'finished_at', since)}"
    last_of = (f"SELECT (SELECT d.id FROM deployments d WHERE d.repo = s.repo AND lower(d.environment) = s.env"
               f" AND {{same}} {before} AND {production} ORDER BY d.finished_at DESC, d.id DESC LIMIT 1)")
    recent = f"SELECT DISTINCT d.repo, lower(d.environment) AS env{{sha}} FROM deployments d WHERE d.{deployed} AND {production}"
    context = (f"id IN ({last_of.format(same='')} FROM ({recent.format(sha='')}) s)"
               f" OR id IN ({last_of.format(same='d.sha = s.sha AND')} FROM ({recent.format(sha=', d.sha')}) s)")
    frames = {"deployments": read_where(warehouse, "deployments", columns["deployments"], f"{deployed} OR {context}")}

    merged = f"merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', since)}"
    reviewed = f"submitted_at >= {_at(warehouse, 'reviews', 'submitted_at', since)}"
    named = f"SELECT pr_id FROM deployment_prs WHERE deployment_id IN (SELECT id FROM deployments WHERE {deployed})"
    prs = read_where(warehouse, "pull_requests", columns["pull_requests"],
                     f"{merged} OR id IN (SELECT pr_id FROM reviews WHERE {reviewed}) OR id IN ({named})")
    waiting = _waiting_to_ship(warehouse, since, deployed, columns["pull_requests"])
    frames["pull_requests"] = pl.concat([prs, waiting]).unique("id", keep="first", maintain_order=True)
    frames["deployment_prs"] = read_where(warehouse, "deployment_prs", columns["deployment_prs"],
                                          f"deployment_id IN (SELECT id FROM deployments WHERE {deployed})")
    started = _at(warehouse, "incidents", "started_at", since)
    frames["incidents"] = read_where(warehouse, "incidents", columns["incidents"],
                                     f"started_at >= {started} OR resolved_at >= {started}")
    frames["tickets"] = read_where(warehouse, "tickets", columns["tickets"],
                                   f"resolved_at >= {_at(warehouse, 'tickets', 'resolved_at', since)}")
    frames["ai_spend"] = read_where(warehouse, "ai_spend", columns["ai_spend"],
                                    f"date >= {_at(warehouse, 'ai_spend', 'date', since)}")
    frames["pull_request_files"] = read_where(warehouse, "pull_request_files", columns["pull_request_files"],
                                              f"pr_id IN (SELECT id FROM pull_requests WHERE {merged})")
    frames["reviews"] = read_where(warehouse, "reviews", columns["reviews"], reviewed)
    frames["people"] = read_where(warehouse, "people", columns["people"], None)
    return frames


def _waiting_to_ship(warehouse: Warehouse, since: dt.datetime, deployed: str, columns: list[str]) -> pl.DataFrame:
    """PRs merged before `since` after their repo's last production deployment that ships (as the cube
    last decided: `cube_deployments`, exact before `since`), in repos that deploy since: the deployments
    since may ship them."""
    bounds = read_where(
        warehouse, "cube_deployments", ["repo", "finished_at"],
        f"id IN (SELECT (SELECT d.id FROM cube_deployments d WHERE d.repo = r.repo AND d.finished_at < "
        f"{_at(warehouse, 'deployments', 'finished_at', since)} AND d.ships = {'1' if warehouse.dialect == 'sqlite' else 'true'} "
        f"ORDER BY d.finished_at DESC, d.id DESC LIMIT 1) FROM (SELECT DISTINCT repo FROM deployments WHERE {deployed}) r)",
    )
    repos = read_where(warehouse, "deployments", ["repo"], deployed).get_column("repo").unique().drop_nulls()
    last = dict(zip(bounds.get_column("repo").to_list(), bounds.get_column("finished_at").to_list()))
    cut = _at(warehouse, "pull_requests", "merged_at", since)
    terms = []
    for repo in sorted(repos.to_list()):
        quoted = "'" + repo.replace("'", "''") + "'"
        lower = f" AND merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', last[repo])}" if repo in last else ""
        terms.append(f"(repo = {quoted} AND merged_at < {cut}{lower})")
    if not terms:
        return read_where(warehouse, "pull_requests", columns, "1 = 0")
    return read_where(warehouse, "pull_requests", columns, " OR ".join(terms))
