"""The evidence the cube's days from a cut on are made of: the rows from `since` on (by counting time,
through the indexes of migration 0008), and the earlier rows those link to (metrics/reach.py says which
and why). Reading it costs what the time range holds, not what the warehouse holds.

Context rows, earlier than `since`:
- incidents: those whose source links them to a deployment since;
- deployments: per repo and environment the last production deployment before `since`, and the last one
  of each sha deployed since (what the rollback rule reads: T, and whether another sha lies between);
- pull requests: the targets a revert of the slice names by source id, number or merge sha (those lookups
  win over a title that names a PR of the slice), those reviewed since (the review's `ai` segment is the
  PR's flag), those a deployment since names, and those merged after their repo's last earlier shipping
  deployment in a repo that deploys since (a PR ships with the first production deployment after its merge, whenever that is).

A PR the slice ships that a production deployment before `since` names (the source's earliest naming
deployment ships it) moves the slice's start back to that deployment.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from warehouse.engine import Warehouse
from warehouse.read import instant_literal, read_where
from warehouse.schema import TABLES

# `pull_requests.revert_ref` as stored: what a revert's title or body points at.
_REVERT_REF = pl.Struct({"repo": pl.String, "number": pl.Int64, "sha": pl.String, "title": pl.String})


def _at(warehouse: Warehouse, table: str, column: str, instant: dt.datetime) -> str:
    return instant_literal(warehouse.dialect, instant, TABLES[table].c[column])


def read_slice(warehouse: Warehouse, cut: dt.datetime, since: SliceStarts, production_environments: list[str],
               columns: dict[str, list[str]]) -> tuple[dict[str, pl.DataFrame], SliceStarts]:
    """The evidence tables (`columns` names them and their columns) that the cube's days from `cut` on
    are made of: rows that count from `cut` on (tickets, spend, reviews, files of the PRs merged since),
    PRs merged and deployments finished from `since.changes` on (a PR merged then ships with a deployment
    of the slice), incidents started from `since.incidents` on or resolved from `cut` on, with the
    context rows. Each read is one indexed range or key lookup (an
    OR of them would make SQLite scan the table).

    Returns the tables and where they start: earlier than `since` when a production deployment before it
    names a PR the slice ships (the source's earliest naming deployment ships the PR): the slice is read
    again from that deployment on, with its own context rows."""
    envs = [e.lower() for e in production_environments]
    deployed = f"finished_at >= {_at(warehouse, 'deployments', 'finished_at', since.changes)}"
    recent = read_where(warehouse, "deployments", columns["deployments"], deployed)
    context = _rollback_context(warehouse, since.changes, recent, envs, columns["deployments"])
    frames = {"deployments": pl.concat([recent, context])}

    merged = f"merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', since.changes)}"
    frames["reviews"] = read_where(warehouse, "reviews", columns["reviews"],
                                   f"submitted_at >= {_at(warehouse, 'reviews', 'submitted_at', cut)}")
    named = f"SELECT pr_id FROM deployment_prs WHERE deployment_id IN (SELECT id FROM deployments WHERE {deployed})"
    prs = [read_where(warehouse, "pull_requests", columns["pull_requests"], merged)]
    prs.append(read_where(warehouse, "pull_requests", columns["pull_requests"], f"id IN ({named})"))
    reviewed = set(frames["reviews"].get_column("pr_id").drop_nulls().to_list()) - set(prs[0].get_column("id").to_list())
    if reviewed:  # the PRs reviewed from `cut` on that were merged earlier, or not at all
        prs.append(read_where(warehouse, "pull_requests", columns["pull_requests"], f"id IN ({_text_list(sorted(reviewed))})"))
    prs.append(_waiting_to_ship(warehouse, since.changes, deployed, columns["pull_requests"]))
    waiting = prs[-1].get_column("id").to_list()
    earlier = _earliest_naming_before(warehouse, since.changes, deployed, waiting, envs)
    if earlier is not None:
        return read_slice(warehouse, cut, SliceStarts(changes=earlier, incidents=since.incidents),
                          production_environments, columns)
    prs.append(_revert_targets(warehouse, pl.concat(prs), since.changes, columns["pull_requests"]))
    frames["pull_requests"] = pl.concat(prs).unique("id", keep="first", maintain_order=True)
    frames["deployment_prs"] = read_where(warehouse, "deployment_prs", columns["deployment_prs"],
                                          f"deployment_id IN (SELECT id FROM deployments WHERE {deployed})")
    incidents = [read_where(warehouse, "incidents", columns["incidents"],
                            f"started_at >= {_at(warehouse, 'incidents', 'started_at', since.incidents)}"),
                 read_where(warehouse, "incidents", columns["incidents"],
                            f"resolved_at >= {_at(warehouse, 'incidents', 'resolved_at', cut)}"),
                 # a source link stands whenever the incident was: it can make a deployment since fail
                 read_where(warehouse, "incidents", columns["incidents"],
                            f"caused_by_deployment_id IN (SELECT id FROM deployments WHERE {deployed})")]
    frames["incidents"] = pl.concat(incidents).unique("id", keep="first", maintain_order=True)
    frames["tickets"] = read_where(warehouse, "tickets", columns["tickets"],
                                   f"resolved_at >= {_at(warehouse, 'tickets', 'resolved_at', cut)}")
    frames["ai_spend"] = read_where(warehouse, "ai_spend", columns["ai_spend"],
                                    f"date >= {_at(warehouse, 'ai_spend', 'date', cut)}")
    since_cut = f"merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', cut)}"
    frames["pull_request_files"] = read_where(warehouse, "pull_request_files", columns["pull_request_files"],
                                              f"pr_id IN (SELECT id FROM pull_requests WHERE {since_cut})")
    frames["people"] = read_where(warehouse, "people", columns["people"], None)
    return frames, since


@dataclass(frozen=True)
class SliceStarts:
    """Where the slice's PRs and deployments begin (`changes`: adoption cohorts, revert targets and
    incident causes look back from the cut), and its incidents (`incidents`: those started then can
    make a deployment of the slice fail)."""

    changes: dt.datetime
    incidents: dt.datetime


def _rollback_context(warehouse: Warehouse, since: dt.datetime, recent: pl.DataFrame, envs: list[str],
                      columns: list[str]) -> pl.DataFrame:
    """Production deployments before `since` the rollback rule reads for those since: per repo and
    environment the last one, and the last one of each sha deployed since."""
    before = f"finished_at < {_at(warehouse, 'deployments', 'finished_at', since)}"
    production = recent.filter((pl.col("status").str.to_lowercase() == "success")
                               & pl.col("environment").str.to_lowercase().is_in(envs))
    wanted = list(dict.fromkeys([*columns, "repo", "environment", "sha", "finished_at", "status"]))
    parts = []
    shas = production.get_column("sha").drop_nulls().unique().to_list()
    if shas:  # every earlier deployment of those shas (a handful each), through the sha index
        parts.append(read_where(warehouse, "deployments", wanted, f"sha IN ({_text_list(shas)}) AND {before}"))
    # Per repo and environment its latest deployment before `since`: most deploy within the fortnight
    # before (one indexed range); the others are looked up one by one.
    week_before = f"finished_at >= {_at(warehouse, 'deployments', 'finished_at', since - dt.timedelta(days=14))}"
    parts.append(read_where(warehouse, "deployments", wanted, f"{week_before} AND {before}"))
    found = set(pl.concat(parts).filter(pl.col("environment").str.to_lowercase().is_in(envs)
                                        & (pl.col("status").str.to_lowercase() == "success"))
                .select("repo", pl.col("environment").str.to_lowercase()).iter_rows()) if parts else set()
    pairs = set(production.select("repo", pl.col("environment").str.to_lowercase()).iter_rows())
    missing = sorted(pairs - found)
    if missing:
        parts.append(read_where(warehouse, "deployments", wanted, " OR ".join(
            f"id IN (SELECT id FROM deployments WHERE repo = {_text(repo)} AND {before} AND lower(status) = 'success' "
            f"AND lower(environment) = {_text(env)} ORDER BY finished_at DESC, id DESC LIMIT 1)" for repo, env in missing)))
    if not parts:
        return recent.clear()
    earlier = pl.concat(parts).filter((pl.col("status").str.to_lowercase() == "success")
                                      & pl.col("environment").str.to_lowercase().is_in(envs)
                                      & pl.col("finished_at").is_not_null())
    keyed = earlier.with_columns(_env=pl.col("environment").str.to_lowercase()).sort(
        "finished_at", "id", descending=True)
    last_of_sha = keyed.filter(pl.col("sha").is_in(shas)).unique(["repo", "_env", "sha"], keep="first")
    last = keyed.unique(["repo", "_env"], keep="first")
    return pl.concat([last_of_sha, last]).unique("id").drop("_env").select(columns)


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text_list(values: list[str]) -> str:
    return ", ".join(_text(v) for v in values)


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
        quoted = _text(repo)
        lower = f" AND merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', last[repo])}" if repo in last else ""
        terms.append(f"(repo = {quoted} AND merged_at < {cut}{lower})")
    if not terms:
        return read_where(warehouse, "pull_requests", columns, "1 = 0")
    return read_where(warehouse, "pull_requests", columns, " OR ".join(terms))


def _earliest_naming_before(warehouse: Warehouse, since: dt.datetime, deployed: str, waiting: list[str],
                            envs: list[str]):
    """The earliest production deployment before `since` that the source names as shipping a PR the slice
    ships (merged since, named by a deployment since, or waiting to ship), or None. Each read goes through
    the `deployment_prs.pr_id` index."""
    production = (f"d.finished_at < {_at(warehouse, 'deployments', 'finished_at', since)} AND lower(d.status) = 'success'"
                  f" AND lower(d.environment) IN ({_text_list(envs) or 'NULL'})")
    shipped = [f"SELECT id FROM pull_requests WHERE merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', since)}",
               f"SELECT pr_id FROM deployment_prs WHERE deployment_id IN (SELECT id FROM deployments WHERE {deployed})"]
    if waiting:
        shipped.append(_text_list(sorted(waiting)))
    found = []
    for prs in shipped:
        named = read_where(warehouse, "deployments", ["finished_at"],
                           f"id IN (SELECT o.deployment_id FROM deployment_prs o JOIN deployments d ON d.id = o.deployment_id "
                           f"WHERE o.pr_id IN ({prs}) AND {production})")
        found.extend(named.get_column("finished_at").drop_nulls().to_list())
    return min(found) if found else None


def _revert_targets(warehouse: Warehouse, prs: pl.DataFrame, since: dt.datetime, columns: list[str]) -> pl.DataFrame:
    """PRs merged before `since` that a revert of the slice names by source id, by number or by merge sha:
    DESIGN.md "Revert" (revision 2) tries those before the title, so such a target wins over a PR of the
    slice the title names (and a sha makes a revert only when it is found). A title lookup needs no older
    PRs: among title matches the latest merged wins (the slice holds the later ones), and an older target
    alone changes no day from the cut on (the title already makes the PR a revert; the target lies beyond
    the rollback window of reverts merged from the cut on, and one still waiting to ship is in the slice)."""
    before = f"merged_at < {_at(warehouse, 'pull_requests', 'merged_at', since)}"
    reverts = prs.filter(pl.col("merged_at").is_not_null()
                         & (pl.col("revert_ref").is_not_null() | pl.col("reverts_pr_id").is_not_null()))
    refs = reverts.select("repo", "reverts_pr_id", ref=pl.col("revert_ref").str.json_decode(_REVERT_REF)).unnest("ref", separator="_")
    ids = refs.get_column("reverts_pr_id").drop_nulls().unique().to_list()
    numbers = refs.filter(pl.col("ref_number").is_not_null()).select(
        repo=pl.coalesce("ref_repo", "repo"), number="ref_number").unique().iter_rows()
    shas = refs.filter(pl.col("ref_sha").is_not_null()).select("ref_sha").unique().get_column("ref_sha").to_list()
    terms = [f"id IN ({_text_list(sorted(ids))}) AND {before}"] if ids else []
    by_repo: dict[str, list[int]] = {}
    for repo, number in numbers:
        by_repo.setdefault(repo, []).append(int(number))
    # On SQLite `+merged_at` keeps the planner on the (repo, number) index: with `merged_at` usable it picks
    # (repo, merged_at) and reads every earlier PR of the repo.
    not_indexed = "+" if warehouse.dialect == "sqlite" else ""
    terms += [f"repo = {_text(repo)} AND number IN ({', '.join(map(str, sorted(ns)))}) AND {not_indexed}{before}"
              for repo, ns in sorted(by_repo.items())]
    # A sha prefix, compared lower-cased: per spelling a range of the merge_commit_sha index, from the
    # prefix to the prefix filled up with the highest hex digit (the same bound under any collation).
    terms += [f"merge_commit_sha >= {_text(spelt)} AND merge_commit_sha <= {_text(spelt + top * 64)} AND {before}"
              for sha in shas for spelt, top in sorted({(sha.lower(), "f"), (sha.upper(), "F")})]
    # Many lookups per read (one per term cost a query each: thousands on a 26-week slice at 1M PRs): each
    # term stays its own indexed SELECT of a compound one (SQLite allows 500 terms per compound SELECT).
    parts = [read_where(warehouse, "pull_requests", columns, "id IN (" + " UNION ALL ".join(
                 f"SELECT id FROM pull_requests WHERE {term}" for term in terms[i:i + LOOKUPS_PER_READ]) + ")")
             for i in range(0, len(terms), LOOKUPS_PER_READ)]
    return pl.concat(parts) if parts else prs.select(columns).clear()


LOOKUPS_PER_READ = 200
