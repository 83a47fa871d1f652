"""The evidence the cube's days from a cut on are made of: the rows from `since` on (by counting time,
through the indexes of migration 0008), and the earlier rows those link to (metrics/reach.py says which
and why). Reading it costs what the time range holds, not what the warehouse holds.

Context rows, earlier than `since`:
- incidents: those whose source links them to a deployment since;
- deployments: per repo and environment the last production deployment before `since`, and the last one
  of each sha deployed since (what the rollback rule reads: T, and whether another sha lies between),
  each with the rollback verdict the cube keeps for it as its flag; where one is a rollback, the repo's
  last shipping deployment before `since` too;
- pull requests: the targets a revert of the slice names by source id, number or merge sha (those lookups
  win over a title that names a PR of the slice), those reviewed since (the review's `ai` segment is the
  PR's flag), those a deployment since names, and those merged after their repo's last earlier shipping
  deployment in a repo that deploys since (a PR ships with the first production deployment after its merge, whenever that is).

A PR the slice ships that a production deployment before `since` names (the source's earliest naming
deployment ships it) moves the slice's start back to that deployment.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from warehouse.engine import Warehouse
from warehouse.read import instant_literal, one_connection, read_where, read_where_ahead, text_literal
from warehouse.schema import REVERT_NAMED, TABLES, UNMERGED_SIGNALS

# `pull_requests.revert_ref` as stored: what a revert's title or body points at.
_REVERT_REF = pl.Struct({"repo": pl.String, "number": pl.Int64, "sha": pl.String, "title": pl.String})


def _at(warehouse: Warehouse, table: str, column: str, instant: dt.datetime) -> str:
    return instant_literal(warehouse.dialect, instant, TABLES[table].c[column])


# The tables whose rows decide how far back the slice's PRs and deployments reach (`SliceStarts.changes`,
# moved back by an earlier deployment naming a PR of the slice): reading any of them reads what decides it.
CHANGES = ("pull_requests", "deployments", "deployment_prs", "incidents")


def read_slice(warehouse: Warehouse, cut: dt.datetime, since: SliceStarts, production_environments: list[str],
               columns: dict[str, list[str]], tables: Collection[str] | None = None, *, reviewed_prs: bool = True,
               until: dt.datetime | None = None, bounded: bool = False,
               repos_of: Callable[[pl.DataFrame], Collection[str] | None] | None = None) -> tuple[dict[str, pl.DataFrame], SliceStarts]:
    """The evidence tables (`columns` names them and their columns) that the cube's days from `cut` on
    are made of: rows that count from `cut` on (tickets, spend, reviews, files of the PRs merged since),
    PRs merged and deployments finished from `since.changes` on (a PR merged then ships with a deployment
    of the slice), incidents started from `since.incidents` on or resolved from `cut` on, with the
    context rows. Each read is one indexed range or key lookup (an
    OR of them would make SQLite scan the table).

    `tables`: only these of `columns`' tables (a page that shows deployments needs no tickets); each is
    exactly the frame the read of every table gives. What decides a returned table is read as far as it
    does: the PRs' rows and the ids of the PRs reviewed from `cut` on (they are PRs of the slice) for
    PRs, the PRs' ids and the deployments for how far back the changes reach (`CHANGES`). None: every
    table of `columns`.

    `reviewed_prs`: False leaves out the PRs only a review from `cut` on brings in (merged before the slice's
    changes start, or never merged): the PR frame then holds fewer rows than the read of every table, but every
    PR merged, shipped or reverted from `since.changes` on is decided as there (those PRs have no outcome
    there, their merge or ship lies before the slice, a revert of the slice names them by id, number or sha
    only through `_revert_targets`, which reads them anyway; a title names one only when no later PR
    matches, and then marks a PR merged before the slice). For pages that show merged PRs, deployments and
    incidents of their range, no reviews.

    `until`: the PRs merged and deployments finished before that instant only, with the context rows they
    read; for the PRs and deployments of a span whose verdicts are settled by then (`settled_by`): a PR merged
    later is missing, and one merged earlier is decided as on all the evidence only if what ships it, rolls it
    back or reverts it lies before `until`. `bounded` (with `until`): every table's rows before `until` only —
    reviews submitted, tickets resolved, spend dated, the files of the PRs merged, and incidents started
    before it: the evidence as it stood at `until`, each row with its final values
    (the cube's rebuild window by window, reports/derived.py).

    Returns the tables and where they start: earlier than `since` when a production deployment before it
    names a PR the slice ships (the source's earliest naming deployment ships the PR): the slice is read
    again from that deployment on, with its own context rows.

    `repos_of`: the PRs and deployments of some repos only, for the PRs of those repos merged from `cut` on
    (`reviewed_prs` False): each is decided as in the read of every repo (shipped by, rolled back, reverted,
    the follow-up fixes among them). It is given the (repo, team) pairs, as stored, of the PRs merged in
    [cut, until) (`span_pairs`) and returns the repos (as stored), or None for every repo. A verdict reads rows
    of the PR's own repo only, but for two links across repos: a revert names its target by id, or by repo and
    number, and a deployment of another repo can name the PR as shipped. So every revert merged in [cut,
    until) that can name a PR of the repos is read too, whatever its repo (a revert of a PR merged from `cut`
    on is merged after it; `_reverts_naming`), with every PR any revert read names by id, number or sha,
    whenever merged; and the repos of the deployments naming a PR of the repos are added (`naming_repos`). Context deployments before the slice are read as
    without it; tables other than the changes (`CHANGES`) are read whole.

    On PostgreSQL every read goes through one connection, in one snapshot (`warehouse.read.one_connection`)."""
    with one_connection(warehouse):
        repos, reverts = None, None
        if repos_of is not None:
            pairs, reverts = span_pairs(warehouse, cut, until)
            chosen = repos_of(pairs)
            named = naming_repos(warehouse, sorted(set(chosen))) if chosen is not None else [None]
            repos = None if None in named else sorted({*chosen, *named})
        return _read_slice(warehouse, cut, since, production_environments, columns, tables, reviewed_prs, until,
                           repos, reverts, bounded and until is not None)


def _read_slice(warehouse: Warehouse, cut: dt.datetime, since: SliceStarts, production_environments: list[str],
                columns: dict[str, list[str]], tables: Collection[str] | None, reviewed_prs: bool = True,
                until: dt.datetime | None = None, repos: list[str] | None = None,
                reverts: list[str] | None = None, bounded: bool = False) -> tuple[dict[str, pl.DataFrame], SliceStarts]:
    wanted = set(columns) if tables is None else set(tables) & set(columns)

    def before(table: str, column: str) -> str:  # `bounded`: the rows before `until` only
        return f" AND {column} < {_at(warehouse, table, column, until)}" if bounded else ""

    frames: dict[str, pl.DataFrame] = {}
    # The reads that need no other read first are begun here: on PostgreSQL each runs on a second connection
    # in this one's snapshot while the changes are read on this one (warehouse.read.read_where_ahead); on
    # SQLite each is read here.
    ahead: dict[str, Callable[[], pl.DataFrame]] = {}
    if "reviews" in wanted:
        ahead["reviews"] = read_where_ahead(warehouse, "reviews", columns["reviews"],
                                            f"submitted_at >= {_at(warehouse, 'reviews', 'submitted_at', cut)}"
                                            + before("reviews", "submitted_at"))
    if "pull_request_files" in wanted and warehouse.dialect != "sqlite":
        ahead["pull_request_files"] = read_where_ahead(warehouse, "pull_request_files", columns["pull_request_files"],
                                                       _files_of_prs_since(warehouse, cut, until if bounded else None))
    if "tickets" in wanted:
        ahead["tickets"] = read_where_ahead(warehouse, "tickets", columns["tickets"],
                                            f"resolved_at >= {_at(warehouse, 'tickets', 'resolved_at', cut)}"
                                            + before("tickets", "resolved_at"))
    if "ai_spend" in wanted:
        ahead["ai_spend"] = read_where_ahead(warehouse, "ai_spend", columns["ai_spend"],
                                             f"date >= {_at(warehouse, 'ai_spend', 'date', cut)}" + before("ai_spend", "date"))
    if "people" in wanted:
        ahead["people"] = read_where_ahead(warehouse, "people", columns["people"], None)
    if wanted & set(CHANGES):
        changes, since = _read_changes(warehouse, cut, since, production_environments, columns, wanted,
                                       ahead.get("reviews"), reviewed_prs, until, repos, reverts, bounded)
        frames.update(changes)
    if "pull_request_files" in wanted and "pull_request_files" not in ahead:
        prs = frames.get("pull_requests")
        if until is None and prs is not None and {"id", "merged_at"} <= set(prs.columns):
            # The PRs' frame holds every PR merged from `cut` on: their ids as one JSON array, each looked up
            # in the files' (pr_id, path) key; the subquery read each such PR's row again for its id.
            ids = prs.filter(pl.col("merged_at") >= cut).get_column("id").to_list()
            where = f"pr_id IN (SELECT value FROM json_each({text_literal(json.dumps(ids))}))"
        else:
            where = _files_of_prs_since(warehouse, cut, until if bounded else None)
        frames["pull_request_files"] = read_where(warehouse, "pull_request_files", columns["pull_request_files"], where)
    frames.update({name: read() for name, read in ahead.items()})
    return {name: frames[name] for name in columns if name in frames}, since


def _read_changes(warehouse: Warehouse, cut: dt.datetime, since: SliceStarts, production_environments: list[str],
                  columns: dict[str, list[str]], wanted: set[str], reviews: pl.DataFrame | None,
                  reviewed_prs: bool = True, until: dt.datetime | None = None,
                  repos: list[str] | None = None, reverts: list[str] | None = None,
                  bounded: bool = False) -> tuple[dict[str, pl.DataFrame], SliceStarts]:
    """`read_slice`'s PRs, deployments, their links and incidents (those of them in `wanted`), and where they
    start (PRs merged and deployments finished before `until` only, when given; of `repos` only, when
    given, with the PRs of `reverts`' ids). `reviews`: the slice's reviews when already read (else only their PR ids are read, when the PRs
    are wanted: a PR reviewed from `cut` on is a PR of the slice; not with `reviewed_prs` False)."""
    envs = [e.lower() for e in production_environments]
    # Without the PRs' frame, their ids still decide how far back the changes reach.
    pr_columns = columns["pull_requests"] if "pull_requests" in wanted else ["id"]
    # `repos`: each read through its (repo, time) index
    of_repos = "" if repos is None else (f"repo IN ({_text_list(repos)}) AND " if repos else "1 = 0 AND ")
    deployed = f"{of_repos}finished_at >= {_at(warehouse, 'deployments', 'finished_at', since.changes)}"
    if until is not None:
        deployed += f" AND finished_at < {_at(warehouse, 'deployments', 'finished_at', until)}"
    recent = read_where(warehouse, "deployments", columns["deployments"] if "deployments" in wanted else ["id", "repo"],
                        deployed)
    since_ids = _ids_since(warehouse, deployed, recent)
    frames = {}
    if "deployments" in wanted:
        context = _rollback_context(warehouse, since.changes, recent, envs, columns["deployments"], deployed)
        frames["deployments"] = pl.concat([recent, context])

    merged = f"merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', since.changes)}"
    if until is not None:
        merged += f" AND merged_at < {_at(warehouse, 'pull_requests', 'merged_at', until)}"
    named = f"SELECT pr_id FROM deployment_prs WHERE deployment_id IN ({since_ids})"
    links = read_where(warehouse, "deployment_prs", list(dict.fromkeys([*columns["deployment_prs"], "pr_id"])),
                       f"deployment_id IN ({since_ids})")
    prs = [read_where(warehouse, "pull_requests", pr_columns, of_repos + merged)]
    if "pull_requests" in wanted:
        prs.append(read_where(warehouse, "pull_requests", pr_columns, f"id IN ({named})"))
    if callable(reviews):  # begun by the caller (`_read_slice`): wanted now
        reviews = reviews()
    if "pull_requests" in wanted and reviewed_prs:
        if reviews is None:
            reviews = read_where(warehouse, "reviews", ["pr_id"],
                                 f"submitted_at >= {_at(warehouse, 'reviews', 'submitted_at', cut)}"
                                 + (f" AND submitted_at < {_at(warehouse, 'reviews', 'submitted_at', until)}" if bounded else ""))
        # (compared as columns, not as Python sets: a range holds hundreds of thousands of reviews)
        reviewed = reviews.get_column("pr_id").drop_nulls().unique()
        reviewed = reviewed.filter(~reviewed.is_in(prs[0].get_column("id").implode())).sort().to_list()
        if reviewed:  # the PRs reviewed from `cut` on that were merged earlier, or not at all
            prs.append(read_where(warehouse, "pull_requests", pr_columns, f"id IN ({_text_list(reviewed)})"))
    prs.append(_waiting_to_ship(warehouse, since.changes, recent, pr_columns))
    shipped = pl.concat([prs[0].get_column("id"), links.get_column("pr_id"), prs[-1].get_column("id")])
    earlier = _earliest_naming_before(warehouse, since.changes, shipped, envs)
    if earlier is not None:
        return _read_changes(warehouse, cut, SliceStarts(changes=earlier, incidents=since.incidents),
                             production_environments, columns, wanted, reviews, reviewed_prs, until, repos, reverts,
                             bounded)
    if "pull_requests" in wanted and repos is not None:
        # The reverts merged from the cut on that can name a PR of `repos` (`_reverts_naming`: those of
        # `repos`, read above, and those of other repos naming one by id, or by repo and number), and every PR
        # a revert read names by id, number or sha, whenever merged (a PR of another repo merged since, named
        # by a revert of `repos`, is not read above): each revert that can revert a PR of `repos` merged from
        # the cut on is resolved as with every repo's PRs (metrics.linking.resolve_reverts; a title or sha
        # names a PR of its own repo, and lookups by id and number come first).
        prs.append(_reverts_naming(warehouse, reverts or [], repos, pr_columns))
        prs.append(_revert_targets(warehouse, pl.concat(prs), None, pr_columns))
    elif "pull_requests" in wanted:
        prs.append(_revert_targets(warehouse, pl.concat(prs), since.changes, pr_columns))
    if "pull_requests" in wanted:
        frames["pull_requests"] = pl.concat(prs).unique("id", keep="first", maintain_order=True)
    if "deployment_prs" in wanted:
        frames["deployment_prs"] = links.select(columns["deployment_prs"])
    if "incidents" in wanted:
        # On PostgreSQL the deployments' ids as a list, each looked up in the incidents' index: from the
        # subquery it hashed them and scanned every incident (55k at 1M PRs: ~45 of the read's 56 ms).
        caused_by = since_ids if warehouse.dialect == "sqlite" else (
            _text_list(sorted(recent.get_column("id").drop_nulls().to_list())) or "NULL")
        incidents = [f"started_at >= {_at(warehouse, 'incidents', 'started_at', since.incidents)}",
                     f"resolved_at >= {_at(warehouse, 'incidents', 'resolved_at', cut)}",
                     # a source link stands whenever the incident was: it can make a deployment since fail
                     f"caused_by_deployment_id IN ({caused_by})"]
        if bounded:  # started before `until` (every incident has a start)
            incidents = [f"{arm} AND started_at < {_at(warehouse, 'incidents', 'started_at', until)}" for arm in incidents]
        frames["incidents"] = read_where(warehouse, "incidents", columns["incidents"], _any_of("incidents", incidents))
    return frames, since


def _reverts_naming(warehouse: Warehouse, reverts: list[str], repos: list[str], columns: list[str]) -> pl.DataFrame:
    """Of the PRs `reverts` (ids of PRs naming what they revert), those that can revert a PR of `repos`, with
    `columns`: a revert finds its target by the source's id (a PR of any repo), by repo (its own when the
    reference names none) and number, or by sha or title in its own repo (metrics.linking.resolve_reverts). So
    a revert of another repo can revert a PR of `repos` only when its reference names one of `repos`, or its
    source id a PR of `repos`; the others (most of a team's range: reverts of the other teams' repos) are not
    read, nor the PRs they name. The reverts' own columns first (`repo`, `reverts_pr_id`, `revert_ref`), then
    the repos of the PRs their source ids name, by key."""
    if not reverts:
        return read_pr_columns(warehouse, [], columns)
    named = read_pr_columns(warehouse, reverts, ["id", "repo", "reverts_pr_id", "revert_ref"]).select(
        "id", "repo", "reverts_pr_id", ref_repo=pl.col("revert_ref").str.json_decode(_REVERT_REF).struct.field("repo"))
    explicit = named.get_column("reverts_pr_id").drop_nulls().unique().sort().to_list()
    of_repos = read_pr_columns(warehouse, explicit, ["id", "repo"]).filter(pl.col("repo").is_in(repos)).get_column("id")
    keep = named.filter(pl.col("repo").is_in(repos) | pl.col("ref_repo").is_in(repos)
                        | pl.col("reverts_pr_id").is_in(of_repos.implode()))
    return read_pr_columns(warehouse, keep.get_column("id").sort().to_list(), columns)


def read_unmerged_signals(warehouse: Warehouse, columns: list[str], created_from: dt.datetime | None) -> pl.DataFrame:
    """`columns` of the PRs never merged that name an AI signal (warehouse.schema.UNMERGED_SIGNALS) created from
    `created_from` on, or (None) those without a creation time: read through their partial index (migration
    0015), not from a scan of every PR (the slice reads PRs by merge time; these have none)."""
    created = ("created_at IS NULL" if created_from is None
               else f"created_at >= {_at(warehouse, 'pull_requests', 'created_at', created_from)}")
    # The index's predicate word for word: a WHERE must imply it for either database to read that index. SQLite,
    # without statistics, took the merged_at index for `merged_at IS NULL` (every PR never merged): named.
    return read_where(warehouse, "pull_requests", columns, f"{UNMERGED_SIGNALS} AND {created}",
                      sqlite_index="ix_pull_requests_unmerged_signals")


def read_incidents_since(warehouse: Warehouse, cut: dt.datetime, columns: list[str]) -> pl.DataFrame:
    """The incidents resolved from `cut` on and those still open that started from `cut` on: every incident
    a view of periods from `cut` on counts (resolved in them) or names as open (started in them), read
    through the resolved_at and started_at indexes; no deployment or PR is read. Among the rows `read_slice`
    gives for the same cut, in the same order."""
    arms = [f"resolved_at >= {_at(warehouse, 'incidents', 'resolved_at', cut)}",
            f"resolved_at IS NULL AND started_at >= {_at(warehouse, 'incidents', 'started_at', cut)}"]
    return read_where(warehouse, "incidents", columns, _any_of("incidents", arms))


def _ids_since(warehouse: Warehouse, deployed: str, recent: pl.DataFrame) -> str:
    """SQL for the ids of the deployments since (`deployed`; `recent`: those deployments, read). On SQLite
    the ids `recent` holds, as one JSON array: the subquery read every such deployment's row for its id
    (~0.2 s at 1M PRs, and the slice uses it three times); elsewhere the subquery."""
    if warehouse.dialect != "sqlite":
        return f"SELECT id FROM deployments WHERE {deployed}"
    return f"SELECT value FROM json_each({text_literal(json.dumps(recent.get_column('id').to_list()))})"


def _files_of_prs_since(warehouse: Warehouse, cut: dt.datetime, until: dt.datetime | None = None) -> str:
    """The condition for the files of the PRs merged from `cut` on (before `until`, when given), looked up per PR through the
    `(pr_id, path)` key. On PostgreSQL the ids go in as one array (`= ANY(ARRAY(...))`, computed once):
    from `pr_id IN (SELECT ...)` it hashed the ids and scanned all 4.2M file rows in three parallel
    processes (0.87 CPU-s of the server's for 83k rows at 1M PRs; the array lookup 0.37)."""
    since_cut = f"SELECT id FROM pull_requests WHERE merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', cut)}"
    if until is not None:
        since_cut += f" AND merged_at < {_at(warehouse, 'pull_requests', 'merged_at', until)}"
    if warehouse.dialect == "postgresql":
        return f"pr_id = ANY(ARRAY({since_cut}))"
    return f"pr_id IN ({since_cut})"


def read_files_of_repos(warehouse: Warehouse, cut: dt.datetime, repos: list[str], columns: list[str]) -> pl.DataFrame:
    """Of the files `read_slice` reads (those of the PRs merged from `cut` on), those of the PRs of `repos`
    (as stored: a PR of another spelling is not there), through the `(repo, merged_at)` index: a team's
    drill-down matches follow-up fixes within its repos only (metrics.change_chain.ChainFacts.follow_ups_in)."""
    if not repos:
        return read_where(warehouse, "pull_request_files", columns, "1 = 0")
    prs = (f"SELECT id FROM pull_requests WHERE repo IN ({_text_list(sorted(repos))}) "
           f"AND merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', cut)}")
    if warehouse.dialect == "postgresql":
        return read_where(warehouse, "pull_request_files", columns, f"pr_id = ANY(ARRAY({prs}))")
    return read_where(warehouse, "pull_request_files", columns, f"pr_id IN ({prs})")


def read_pr_columns(warehouse: Warehouse, ids: list[str], columns: list[str]) -> pl.DataFrame:
    """`columns` of the PRs of `ids` (those that exist), through the key: a page's long columns for the rows it
    lists, not for every PR of its range. On SQLite the ids go in as one JSON array."""
    if not ids:
        return read_where(warehouse, "pull_requests", columns, "1 = 0")
    if warehouse.dialect == "sqlite":
        return read_where(warehouse, "pull_requests", columns,
                          f"id IN (SELECT value FROM json_each({text_literal(json.dumps(ids))}))")
    return pl.concat([read_where(warehouse, "pull_requests", columns, f"id IN ({_text_list(batch)})")
                      for batch in _batches(ids, 5000)])


def read_reviews_by(warehouse: Warehouse, cut: dt.datetime, logins: list[str], columns: list[str]) -> pl.DataFrame:
    """`columns` of the reviews submitted from `cut` on by `logins` (lower-case and trimmed), the reviewers
    compared as metrics.senior_review compares them (in polars): a team's senior reviews without the
    organisation's other reviews. Both steps go through the reviews' (submitted_at, reviewer) index (migration
    0011): the range's distinct reviewers as stored, from the index's entries alone; those whose login is one
    of `logins` (compared here, exactly); then the rows of those spellings, each found in the index's entries
    and only its own row read."""
    submitted = f"submitted_at >= {_at(warehouse, 'reviews', 'submitted_at', cut)}"
    if not logins:
        return read_where(warehouse, "reviews", columns, "1 = 0")
    with warehouse.engine.connect() as conn:
        names = [row[0] for row in conn.execute(sa.text(
            f"SELECT DISTINCT reviewer FROM {_by(warehouse, 'reviews', 'ix_reviews_submitted_at')} WHERE {submitted}"))]
    spelled = pl.Series("reviewer", names, dtype=pl.String)
    spellings = spelled.filter(_login(spelled).is_in(logins)).sort().to_list()
    if not spellings:
        return read_where(warehouse, "reviews", columns, "1 = 0")
    return read_where(warehouse, "reviews", columns, f"{submitted} AND reviewer IN ({_text_list(spellings)})")


def _login(reviewer: pl.Expr) -> pl.Expr:
    """A reviewer as metrics.senior_review compares it with a senior's login."""
    return reviewer.str.strip_chars().str.to_lowercase()


def span_pairs(warehouse: Warehouse, start: dt.datetime, until: dt.datetime | None = None) -> tuple[pl.DataFrame, list[str]]:
    """Every (repo, team) pair, as stored, of the PRs merged in [start, until) (`until` None: to the
    present): which repos hold a team's PRs (its `team`, else the config's mapping of the repo); and the ids
    of those PRs that name what they revert (`reverts_pr_id` or `revert_ref`). Each from an index over the
    span alone (migration 0012): the pairs from the merged_at index's entries (it holds the repo and the
    team), the reverts from the partial index of the PRs that name one; no other PR's row is read."""
    merged = f"merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', start)}"
    if until is not None:
        merged += f" AND merged_at < {_at(warehouse, 'pull_requests', 'merged_at', until)}"
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT DISTINCT repo, team FROM {_by(warehouse, 'pull_requests', 'ix_pull_requests_merged_at')} "
                                    f"WHERE {merged}")).all()
        reverts = conn.execute(sa.text(f"SELECT id FROM {_by(warehouse, 'pull_requests', 'ix_pull_requests_reverts_merged_at')} "
                                       f"WHERE {merged} AND ({REVERT_NAMED})")).all()
    pairs = pl.DataFrame([tuple(row) for row in rows], schema={"repo": pl.String, "team": pl.String}, orient="row")
    return pairs, sorted(row[0] for row in reverts)


def _by(warehouse: Warehouse, table: str, index: str) -> str:
    """`table` read through `index` (migration 0012's, which every open warehouse has): on SQLite named, as
    without statistics (SQLite keeps none here) it walked the whole (repo, merged_at) index for a span's
    (repo, team) pairs, reading each PR's row for its team (0.18 CPU-s at 1M PRs, against 0.04)."""
    return f"{table} INDEXED BY {index}" if warehouse.dialect == "sqlite" else table


def naming_repos(warehouse: Warehouse, repos: list[str]) -> list[str | None]:
    """The repos (as stored; None for a deployment without one) of the deployments the source names as
    shipping a PR of `repos` (`deployment_prs`), other than `repos`: what a PR of them may ship with."""
    if not repos:
        return []
    with warehouse.engine.connect() as conn:
        if not _names_prs(conn):
            return []  # no link at all (a source that names no PRs): nothing to look up
        rows = conn.execute(sa.text(
            f"SELECT DISTINCT d.repo FROM deployment_prs o JOIN deployments d ON d.id = o.deployment_id "
            f"WHERE o.pr_id IN (SELECT id FROM pull_requests WHERE repo IN ({_text_list(sorted(repos))}))")).all()
    return sorted({row[0] for row in rows} - set(repos), key=lambda r: (r is not None, r or ""))


def settled_by(warehouse: Warehouse, start: dt.datetime, end: dt.datetime, rollback_window: dt.timedelta,
               production_environments: list[str]) -> dt.datetime | None:
    """An instant by which the rollback verdict of every PR merged in [start, end) is settled, or None when
    the warehouse cannot say one: read to it (`read_slice`'s `until`), the span's PRs are decided as on all
    the evidence. Such a PR ships with a production deployment naming it (the earliest: the latest of those
    bounds it) or else with its repo's first shipping production deployment from its merge on, at the latest
    its repo's first from `end` on (`cube_deployments`, as the cube decided it: bring the cube up to date
    first); a rollback of that deployment, or a revert of the PR, counts within the rollback window after it;
    and every rule decides a deployment or a revert from earlier rows only. None when a repo with PRs in the
    span has no shipping deployment from `end` on (its PRs may wait to ship)."""
    merged = (f"merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', start)} "
              f"AND merged_at < {_at(warehouse, 'pull_requests', 'merged_at', end)}")
    sqlite = warehouse.dialect == "sqlite"
    # The span's repos: on SQLite from the covering (repo, merged_at) index (`+merged_at` keeps the planner off
    # the merged_at index, whose range then reads every PR's row for its repo: 0.5-2 s against 0.05 at 1M PRs).
    in_span = merged.replace("merged_at", "+merged_at") if sqlite else merged
    first = (f"SELECT (SELECT min(d.finished_at) FROM cube_deployments d WHERE d.repo = r.repo AND d.ships = "
             f"{'1' if sqlite else 'true'} AND d.finished_at >= {_at(warehouse, 'deployments', 'finished_at', end)}) "
             f"AS first_at FROM (SELECT DISTINCT repo FROM pull_requests WHERE repo IS NOT NULL AND {in_span}) r")
    envs = [e.lower() for e in production_environments]
    named = (f"SELECT max(d.finished_at) FROM deployment_prs o JOIN deployments d ON d.id = o.deployment_id "
             f"WHERE o.pr_id IN (SELECT id FROM pull_requests WHERE {merged}) AND lower(d.status) = 'success' "
             f"AND lower(d.environment) IN ({_text_list(envs) or 'NULL'})")
    instant = TABLES["deployments"].c.finished_at.type
    with warehouse.engine.connect() as conn:
        # Without a single link (a source that names no PRs) there is no naming deployment to look for: that
        # lookup reads the id of every PR of the span (0.3 CPU-s at 1M PRs).
        links = _names_prs(conn)
        query = sa.text(f"SELECT count(*) AS repos, count(first_at) AS shipping, max(first_at) AS last_at, "
                        f"{f'({named})' if links else 'NULL'} AS named_at FROM ({first}) f").columns(
            sa.column("repos", sa.Integer), sa.column("shipping", sa.Integer), sa.column("last_at", instant),
            sa.column("named_at", instant))
        repos, shipping, last_at, named_at = conn.execute(query).one()
    if repos != shipping:
        return None
    # A day beyond: nothing rests on an instant's last microsecond.
    return max(t for t in (end, last_at, named_at) if t is not None) + rollback_window + dt.timedelta(days=1)


@dataclass(frozen=True)
class SliceStarts:
    """Where the slice's PRs and deployments begin (`changes`: adoption cohorts, revert targets and
    incident causes look back from the cut), and its incidents (`incidents`: those started then can
    make a deployment of the slice fail)."""

    changes: dt.datetime
    incidents: dt.datetime


def _rollback_context(warehouse: Warehouse, since: dt.datetime, recent: pl.DataFrame, envs: list[str],
                      columns: list[str], deployed: str) -> pl.DataFrame:
    """Production deployments before `since` the rollback rule reads for those since (`recent`, read with
    the condition `deployed`): per repo and environment the last one, and the last one of each sha deployed
    since."""
    before = f"finished_at < {_at(warehouse, 'deployments', 'finished_at', since)}"
    production = recent.filter((pl.col("status").str.to_lowercase() == "success")
                               & pl.col("environment").str.to_lowercase().is_in(envs))
    wanted = list(dict.fromkeys([*columns, "repo", "environment", "sha", "finished_at", "status", "is_rollback"]))
    parts = []
    shas = production.get_column("sha").drop_nulls().unique().to_list()
    if shas:  # every earlier deployment of those shas (a handful each), through the sha index
        parts.append(read_where(warehouse, "deployments", wanted, _of_shas(warehouse, sorted(shas), before, deployed))
                     .filter(pl.col("sha").is_in(shas)))
    # Per repo and environment deploying since, its latest production deployment before `since`: one
    # walk back through the (repo, finished_at) index each. (A fortnight of every repo's deployments was
    # read for them before: 11k rows, one table page each, at 3M PRs, growing with the organisation.)
    pairs = sorted(set(production.select("repo", pl.col("environment").str.to_lowercase()).iter_rows()))
    if pairs and warehouse.dialect == "sqlite":
        parts.append(read_where(warehouse, "deployments", wanted, _last_before(warehouse, pairs, before)))
    elif pairs:
        parts.append(_last_before_by_fortnight(warehouse, since, pairs, before, wanted))
    if not parts:
        return recent.clear()
    earlier = pl.concat(parts).filter((pl.col("status").str.to_lowercase() == "success")
                                      & pl.col("environment").str.to_lowercase().is_in(envs)
                                      & pl.col("finished_at").is_not_null())
    keyed = earlier.with_columns(_env=pl.col("environment").str.to_lowercase()).sort(
        "finished_at", "id", descending=True)
    last_of_sha = keyed.filter(pl.col("sha").is_in(shas)).unique(["repo", "_env", "sha"], keep="first")
    last = keyed.unique(["repo", "_env"], keep="first")
    context = pl.concat([last_of_sha, last]).unique("id").drop("_env")
    return _with_kept_verdicts(warehouse, since, context, wanted).select(columns)


def _last_before(warehouse: Warehouse, pairs: list[tuple[str, str]], before: str) -> str:
    """The condition for each (repo, lower-cased environment) of `pairs`' latest successful deployment that
    meets `before` (a condition on `finished_at`): per pair a walk back through the `(repo, finished_at)`
    index, driven by the pairs as a VALUES list (its columns column1, column2 on both databases)."""
    values = ", ".join(f"({text_literal(repo)}, {text_literal(env)})" for repo, env in pairs)
    return (f"id IN (SELECT (SELECT d.id FROM deployments d WHERE d.repo = p.column1 AND d.{before} "
            f"AND lower(d.status) = 'success' AND lower(d.environment) = p.column2 "
            f"ORDER BY d.finished_at DESC, d.id DESC LIMIT 1) FROM (VALUES {values}) AS p)")


def _last_before_by_fortnight(warehouse: Warehouse, since: dt.datetime, pairs: list[tuple[str, str]], before: str,
                              wanted: list[str]) -> pl.DataFrame:
    """PostgreSQL's read of what `_last_before` gives: each pair's latest successful deployment before `since`
    (with every other successful deployment of the pair in the fortnight before; the caller keeps the latest).
    PostgreSQL's planner takes the walk's filters on status and environment for one row in thousands, so it
    reads every deployment of the repo (a bitmap scan) and sorts them, once per pair and three times over:
    2.5 s of the server's at 1M PRs. Most pairs deploy within the fortnight before `since`: one indexed range
    of their repos; the others are looked up one by one."""
    repos = sorted({repo for repo, _ in pairs})
    start = f"finished_at >= {_at(warehouse, 'deployments', 'finished_at', since - dt.timedelta(days=14))}"
    fortnight = read_where(warehouse, "deployments", wanted, f"repo IN ({_text_list(repos)}) AND {start} AND {before}")
    chosen = pl.DataFrame(pairs, schema={"repo": fortnight.schema["repo"], "_env": pl.String}, orient="row")
    fortnight = (fortnight.with_columns(_env=pl.col("environment").str.to_lowercase())
                 .filter(pl.col("status").str.to_lowercase() == "success")
                 .join(chosen, on=["repo", "_env"], how="semi").drop("_env"))
    missing = sorted(set(pairs) - set(fortnight.select("repo", pl.col("environment").str.to_lowercase()).iter_rows()))
    if not missing:
        return fortnight
    return pl.concat([fortnight, read_where(warehouse, "deployments", wanted, " OR ".join(
        f"id IN (SELECT id FROM deployments WHERE repo = {text_literal(repo)} AND {before} AND lower(status) = 'success' "
        f"AND lower(environment) = {text_literal(env)} ORDER BY finished_at DESC, id DESC LIMIT 1)" for repo, env in missing))])


def _with_kept_verdicts(warehouse: Warehouse, since: dt.datetime, context: pl.DataFrame, wanted: list[str]) -> pl.DataFrame:
    """The context deployments with the rollback verdict the cube keeps for them (`cube_deployments.ships`,
    exact before `since`) as their flag (`is_rollback`): the rule cannot decide it from the slice (the
    earlier deployment of the same sha, and those between, are not read). A kept rollback taken for a
    shipping deployment would ship, in the slice, the PRs waiting since before it that a full build ships
    with a deployment of the slice. With a kept rollback, the repo's last shipping deployment before
    `since` is read too: the slice's earlier PRs merged before it ship with it (or earlier), not with a
    deployment of the slice. Flagged, a context row rolls back only deployments before `since`."""
    ids = context.get_column("id").drop_nulls().unique().sort().to_list()
    if not ids:
        return context
    kept = read_where(warehouse, "cube_deployments", ["id", "repo", "ships"], f"id IN ({_text_list(ids)})")
    repos = kept.filter(~pl.col("ships")).get_column("repo").unique().sort().to_list()
    if repos:
        before = _at(warehouse, "deployments", "finished_at", since)
        ships = "1" if warehouse.dialect == "sqlite" else "true"
        terms = [f"id = (SELECT d.id FROM cube_deployments d WHERE d.repo = {text_literal(repo)} AND d.finished_at < {before} "
                 f"AND d.ships = {ships} ORDER BY d.finished_at DESC, d.id DESC LIMIT 1)" for repo in repos]
        shippers = pl.concat([read_where(warehouse, "deployments", wanted, _any_of("deployments", batch))
                              for batch in _batches(terms)])
        context = pl.concat([context, shippers.select(context.columns).cast(context.schema)]).unique("id", keep="first")
        kept = pl.concat([kept, shippers.select("id", "repo", ships=pl.lit(True))])
    verdicts = kept.select("id", kept_rollback=~pl.col("ships"))
    return (context.join(verdicts, on="id", how="left")
            .with_columns(is_rollback=pl.coalesce("kept_rollback", "is_rollback")).drop("kept_rollback"))


def _of_shas(warehouse: Warehouse, shas: list[str], before: str, deployed: str) -> str:
    """The condition for the deployments of `shas` (the successful production deployments' of those that
    meet `deployed`) that meet `before`, through the sha index; on PostgreSQL it may hold more (the caller
    keeps those of `shas`). On SQLite the shas go in as one JSON array, looked up one by one (CROSS JOIN
    keeps that order): with tens of thousands of them in an IN list SQLite read every earlier deployment
    through the time index instead. On PostgreSQL the shas of every deployment that meets `deployed`, as a
    subquery the server joins: the literal IN list of a year's production shas at 10M PRs (~400k) took it
    3.5 s to parse (at 1M PRs, a year: 102k shas, 4.4 MB of SQL, 154 ms of planning and a hashed seq scan of
    210 ms; the join, a parallel hash semi join, 8 ms and 227 ms). No status or environment filter in the
    subquery: PostgreSQL estimates `lower(status) = 'success'` at a few hundred rows of 107k and then looks
    each sha up in a nested loop (2.0 s), as it does for `= ANY(ARRAY(subquery))` (1.3 s)."""
    if warehouse.dialect != "sqlite":
        return f"sha IN (SELECT sha FROM deployments WHERE {deployed}) AND {before}"
    return (f"id IN (SELECT d.id FROM json_each({text_literal(json.dumps(shas))}) s CROSS JOIN deployments d "
            f"WHERE d.sha = s.value AND d.{before})")


def _text_list(values: list[str]) -> str:
    return ", ".join(text_literal(v) for v in values)


def _waiting_to_ship(warehouse: Warehouse, since: dt.datetime, recent: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """PRs merged before `since` after their repo's last production deployment that ships (as the cube
    last decided: `cube_deployments`, exact before `since`), in repos that deploy since (`recent`: the
    deployments since, already read): the deployments since may ship them."""
    repos = recent.get_column("repo").unique().drop_nulls().sort()
    if repos.len() == 0:
        return read_where(warehouse, "pull_requests", columns, "1 = 0")
    # The repos as a VALUES list (columns column1 on both databases): `SELECT DISTINCT repo` of the
    # deployments since walked the whole (repo, finished_at) index (896k entries at 3M PRs: 0.04 CPU-s).
    values = ", ".join(f"({text_literal(repo)})" for repo in repos.to_list())
    bounds = read_where(
        warehouse, "cube_deployments", ["repo", "finished_at"],
        f"id IN (SELECT (SELECT d.id FROM cube_deployments d WHERE d.repo = r.column1 AND d.finished_at < "
        f"{_at(warehouse, 'deployments', 'finished_at', since)} AND d.ships = {'1' if warehouse.dialect == 'sqlite' else 'true'} "
        f"ORDER BY d.finished_at DESC, d.id DESC LIMIT 1) FROM (VALUES {values}) AS r)",
    )
    last = dict(zip(bounds.get_column("repo").to_list(), bounds.get_column("finished_at").to_list()))
    cut = _at(warehouse, "pull_requests", "merged_at", since)
    terms = []
    for repo in sorted(repos.to_list()):
        quoted = text_literal(repo)
        lower = f" AND merged_at >= {_at(warehouse, 'pull_requests', 'merged_at', last[repo])}" if repo in last else ""
        terms.append(f"(repo = {quoted} AND merged_at < {cut}{lower})")
    return read_where(warehouse, "pull_requests", columns, " OR ".join(terms))


def _earliest_naming_before(warehouse: Warehouse, since: dt.datetime, shipped: pl.Series, envs: list[str]):
    """The earliest production deployment before `since` that the source names as shipping a PR the slice
    ships (`shipped`: the ids of the PRs merged since, named by a deployment since, or waiting to ship), or
    None. One query: the ids go in as one parameter (a JSON array on SQLite, an array on PostgreSQL) and
    each is looked up through the `deployment_prs.pr_id` index; a subquery for the PRs merged since would
    read every such PR's row again for its id (no index covers it)."""
    ids = shipped.drop_nulls().unique().sort().to_list()
    if not ids:
        return None
    production = (f"d.finished_at < {_at(warehouse, 'deployments', 'finished_at', since)} AND lower(d.status) = 'success'"
                  f" AND lower(d.environment) IN ({_text_list(envs) or 'NULL'})")
    if warehouse.dialect == "sqlite":
        # CROSS JOIN keeps SQLite's join order: from the ids, never from every earlier deployment.
        sql = ("SELECT min(d.finished_at) AS finished_at FROM json_each(:ids) s "
               "CROSS JOIN deployment_prs o CROSS JOIN deployments d "
               f"WHERE o.pr_id = s.value AND d.id = o.deployment_id AND {production}")
        value = json.dumps(ids)
    else:
        sql = ("SELECT min(d.finished_at) AS finished_at FROM deployment_prs o JOIN deployments d ON d.id = o.deployment_id "
               f"WHERE o.pr_id = ANY(CAST(:ids AS text[])) AND {production}")
        value = ids
    query = sa.text(sql).columns(sa.column("finished_at", TABLES["deployments"].c.finished_at.type))
    with warehouse.engine.connect() as conn:
        # Without a single link (a source that names no PRs) no deployment names one: the ids (every PR of
        # the slice; 10.6 s to bind and plan 2.7M of them on PostgreSQL) need not be sent.
        if not _names_prs(conn):
            return None
        return conn.execute(query, {"ids": value}).scalar()


def _names_prs(conn) -> bool:
    """Whether any deployment names a PR it shipped (`deployment_prs` holds a row): a source that names none
    leaves nothing for the naming lookups to find."""
    return conn.execute(sa.text("SELECT 1 FROM deployment_prs LIMIT 1")).first() is not None


def _revert_targets(warehouse: Warehouse, prs: pl.DataFrame, since: dt.datetime | None, columns: list[str]) -> pl.DataFrame:
    """PRs merged before `since` that a revert of the slice names by source id, by number or by merge sha:
    DESIGN.md "Revert" (revision 2) tries those before the title, so such a target wins over a PR of the
    slice the title names (and a sha makes a revert only when it is found). A title lookup needs no older
    PRs: among title matches the latest merged wins (the slice holds the later ones), and an older target
    alone changes no day from the cut on (the title already makes the PR a revert; the target lies beyond
    the rollback window of reverts merged from the cut on, and one still waiting to ship is in the slice).
    `since` None: the PRs found whenever they were merged."""
    reverts = prs.filter(pl.col("merged_at").is_not_null()
                         & (pl.col("revert_ref").is_not_null() | pl.col("reverts_pr_id").is_not_null()))
    refs = reverts.select("repo", "reverts_pr_id", ref=pl.col("revert_ref").str.json_decode(_REVERT_REF)).unnest("ref", separator="_")
    ids = refs.get_column("reverts_pr_id").drop_nulls().unique().to_list()
    numbers = refs.filter(pl.col("ref_number").is_not_null()).select(
        repo=pl.coalesce("ref_repo", "repo"), number="ref_number").unique().iter_rows()
    shas = refs.filter(pl.col("ref_sha").is_not_null()).select("ref_sha").unique().get_column("ref_sha").to_list()
    terms = [f"id IN ({_text_list(sorted(ids))})"] if ids else []
    by_repo: dict[str, list[int]] = {}
    for repo, number in numbers:
        by_repo.setdefault(repo, []).append(int(number))
    terms += [f"repo = {text_literal(repo)} AND number IN ({', '.join(map(str, sorted(ns)))})" for repo, ns in sorted(by_repo.items())]
    # A sha prefix, compared lower-cased: per spelling a range of the merge_commit_sha index, from the
    # prefix to the prefix filled up with the highest hex digit (the same bound under any collation).
    terms += [f"merge_commit_sha >= {text_literal(spelt)} AND merge_commit_sha <= {text_literal(spelt + top * 64)}"
              for sha in shas for spelt, top in sorted({(sha.lower(), "f"), (sha.upper(), "F")})]
    # One read per batch of terms, each term its own indexed arm of a UNION ALL (an OR of them would make
    # SQLite scan the table; a read per term costs connectorx's start-up hundreds of times). "Merged before
    # `since`" is applied to the rows found: in the arms it would lead SQLite to the (repo, merged_at) index.
    wanted = list(dict.fromkeys([*columns, "merged_at"]))
    parts = [read_where(warehouse, "pull_requests", wanted, _any_of("pull_requests", batch)) for batch in _batches(terms)]
    if not parts:
        return prs.select(columns).clear()
    found = pl.concat(parts)
    return found.filter(pl.col("merged_at").is_not_null() if since is None else pl.col("merged_at") < since).select(columns)


def _any_of(table: str, terms: list[str]) -> str:
    """A condition true for the rows of `table` that meet any of `terms`, each term its own indexed arm of
    a UNION ALL (an OR of them would make SQLite scan the table): one read instead of one per term."""
    return "id IN (" + " UNION ALL ".join(f"SELECT id FROM {table} WHERE {term}" for term in terms) + ")"


def _batches(terms: list[str], size: int = 200) -> list[list[str]]:
    """`terms` in runs of at most `size` (SQLite allows 500 arms in a compound SELECT)."""
    return [terms[at:at + size] for at in range(0, len(terms), size)]
