"""How far back in time a write can change the derived cube: measured by the upsert, in SQL, from its
staging table, and noted in `cube_state` in the write's own transaction.

A write's reach is the earliest cube day it can change. For each changed row, the old version (the row
the upsert replaces) as well as the new one: the row's earliest counting-relevant instant, minus the
look-back stored in `cube_state` (metrics.reach: how far back one row can change other rows' numbers)
where the row links to earlier ones. Deployments reach further back: the PRs they may now ship (or no
longer ship) were merged after the repo's last earlier production deployment that ships (the one before
the rollback window). A PR reaches its earliest review as well (a review counts on its own day in the
PR's `ai` segment, even one submitted before the PR was created). Rows of people change who is senior in
all history: a full rebuild.

The reach is only noted when a cube exists (`cube_state` has its row); the reader folds it in
(reports/derived.py) once per run, not per batch. Nothing here knows the metrics: the look-back, the
rollback window and the production environments come from `cube_state`, written with the cube.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl

from metrics.linking import REF_TYPE, comparable_title
from warehouse.read import text_literal
from warehouse.schema import EPOCH, EPOCH_DAY

FULL = "full"  # a write whose reach is the whole history

# Per table: (instant expressions over a row alias `x`, whether other rows' numbers up to the look-back
# before it can change). Joins name the linked rows' instants (a file's PR, a link's deployment and PR, an
# incident's source-linked deployment).
_INSTANTS: dict[str, tuple[tuple[str, ...], bool]] = {
    # A review counts on its own day in its PR's `ai` segment, even one submitted before the PR was created.
    # GROUP BY keeps PostgreSQL from turning min() into a walk of the submitted_at index that filters on
    # pr_id (it did, without statistics, right after a load): for a new PR, with no reviews, that walk read
    # all 2.1M reviews per staged row (over 3 minutes for a 1,000-PR import at 1M PRs); grouped, a pr_id lookup.
    # And the earliest deployment the source says shipped it: the source's earliest naming production
    # deployment ships a PR (DESIGN.md "Shipped"), even one that finished before the PR's merge (a tool that
    # records the deployment first, a merge time rewritten), and the PR's lead time counts on that day, in its
    # segment (grouped likewise: a pr_id lookup).
    "pull_requests": (("x.created_at", "x.merged_at",
                       "(SELECT min(r.submitted_at) FROM reviews r WHERE r.pr_id = x.id GROUP BY r.pr_id)",
                       "(SELECT min(d.finished_at) FROM deployment_prs o JOIN deployments d ON d.id = o.deployment_id"
                       " WHERE o.pr_id = x.id GROUP BY o.pr_id)"), True),
    "deployments": (("x.finished_at",), True),
    "deployment_prs": (("(SELECT d.finished_at FROM deployments d WHERE d.id = x.deployment_id)",
                        "(SELECT p.merged_at FROM pull_requests p WHERE p.id = x.pr_id)"), True),
    "incidents": (("x.started_at", "x.resolved_at",
                   "(SELECT d.finished_at FROM deployments d WHERE d.id = x.caused_by_deployment_id)"), True),
    "pull_request_files": (("(SELECT p.created_at FROM pull_requests p WHERE p.id = x.pr_id)",
                            "(SELECT p.merged_at FROM pull_requests p WHERE p.id = x.pr_id)"), True),
    "tickets": (("x.resolved_at",), False),  # counts on its own day only
    "ai_spend": (("x.date",), False),
    "reviews": (("x.submitted_at",), False),
}
_WHOLE_HISTORY = {"people"}  # who is senior, and since when
_ROW_COLUMN = re.compile(r"\bx\.(\w+)")  # the row's own columns an instant expression reads


def cube_is_kept(cur) -> bool:
    return _state(cur) is not None


def write_reach(cur, dialect: str, name: str, staged: str, keys: list[str], columns: list[str]):
    """The reach of upserting the staged rows into `name` (read before the upsert, so the old versions
    are still there): a datetime, FULL, or None (no cube yet, or a table the cube does not read).
    `columns` are the staged ones: a column a write leaves out keeps its old value, which the old
    version's instant covers."""
    if name not in _INSTANTS and name not in _WHOLE_HISTORY:
        return None
    state = _state(cur)
    if state is None:
        return None
    if name in _WHOLE_HISTORY:
        return FULL
    look_back_s, window_s, _, fix_rule = state
    if name == "pull_requests":
        return _pull_request_reach(cur, dialect, staged, columns, look_back_s, fix_rule)
    if name == "pull_request_files" and fix_rule is not None:
        return _files_reach(cur, dialect, staged, dt.timedelta(seconds=look_back_s), fix_rule)
    instants, links_back = _INSTANTS[name]
    match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in keys)
    # Driven by the staged rows, each looked up by key (CROSS JOIN keeps SQLite from scanning the table).
    old = f"(SELECT t.* FROM {staged} s CROSS JOIN {_q(name)} t WHERE {match})"
    earliest = []
    for rows in (staged, old):
        for expr in instants:
            if rows == staged and not set(_ROW_COLUMN.findall(expr)) <= set(columns):
                continue
            cur.execute(f"SELECT {_earliest(expr, dialect)} FROM {rows} x")
            earliest.append(_instant(cur.fetchone()[0], dialect))
    found = [e for e in earliest if e is not None]
    if not found:
        return None
    reach = min(found) - dt.timedelta(seconds=look_back_s if links_back else 0)
    if name == "deployments":
        for rows in (staged, old) if {"repo", "finished_at"} <= set(columns) else (old,):
            shipped_since = _last_shipper_before(cur, dialect, rows, window_s)
            if shipped_since is not None:
                reach = min(reach, shipped_since)
    return reach


# A version's creation places a row of its own only while it is not merged: its AI identities lie on its merge
# day, else its creation day (governance.inventory.identity_facts). Every other row of a merged PR lies on its
# merge day, its shipping day (lead time: the hours from its creation, counted when it ships) or a review's
# day. So a merged version's own reach starts at its merge, not at its creation: a 1,000-PR import of the last
# two days' merges, created up to two days before each, re-counted four or five days, now two or three.
_UNMERGED_CREATION = "CASE WHEN x.merged_at IS NULL THEN x.created_at END"

# A PR's columns that decide how far back it reaches (`_pull_request_reach`).
_PR_COLUMNS = ("id", "repo", "number", "title", "author", "created_at", "merged_at", "merge_commit_sha",
               "is_revert", "reverts_pr_id", "revert_ref", "labels", "ai_assisted")
_WEEK = dt.timedelta(days=7)


def _pull_request_reach(cur, dialect: str, staged: str, columns: list[str], look_back_s: float, fix_rule: dict | None):
    """The reach of upserting the staged PRs: per version of each row (the new one: the staged columns,
    the old row's for the others; and the old row), its earliest instant (merged, first review, the earliest
    deployment the source says shipped it; created while not merged),
    reaching back further only where the row links to earlier rows (metrics/reach.py):

    - by the look-back, when it can revert or fix earlier PRs: it names what it reverts (flag, source
      link or a parsed reference), or it has files and is a fix (`fix_rule`, the cube's; unknown: any PR
      with files);
    - by the look-back, when a revert already in the warehouse, merged after it within the look-back,
      names it by source id, number, merge sha or title (metrics.linking: the latest merged match wins, so
      the revert's earlier target may be let go, or taken back);
    - to the earliest merge of another PR its author merged earlier in its merge week, when the write
      changes the author's adoption cohort of that week (metrics.cohorts): that PR's cohort segment
      changes.

    A plain PR (most of a sync) so reaches back to its own merge (its creation while it is not merged:
    `_UNMERGED_CREATION`), not the look-back: the upkeep reads days, not weeks. None when no row has an
    instant."""
    look_back = dt.timedelta(seconds=look_back_s)
    new = staged if set(_PR_COLUMNS) <= set(columns) else (
        "(SELECT " + ", ".join(f"{'s' if c in columns else 't'}.{_q(c)} AS {_q(c)}" for c in _PR_COLUMNS)
        + f" FROM {staged} s LEFT JOIN pull_requests t ON t.id = s.id)")
    old = f"(SELECT t.* FROM {staged} s CROSS JOIN pull_requests t WHERE t.id = s.id)"
    reverts = f"(x.is_revert = {_true(dialect)} OR x.reverts_pr_id IS NOT NULL OR x.revert_ref IS NOT NULL)"
    has_files = "EXISTS (SELECT 1 FROM pull_request_files f WHERE f.pr_id = x.id)"
    links = f"({reverts} OR {has_files})" if fix_rule is None else reverts
    instants, _ = _INSTANTS["pull_requests"]
    own_instants = tuple(_UNMERGED_CREATION if expr == "x.created_at" else expr for expr in instants)
    own, linked = [], []
    for rows in (new, old):
        cur.execute("SELECT " + ", ".join(
            [_earliest(expr, dialect) for expr in own_instants]
            + [_earliest(f"CASE WHEN {links} THEN {expr} END", dialect) for expr in instants]) + f" FROM {rows} x")
        found = [_instant(v, dialect) for v in cur.fetchone()]
        own += found[:len(own_instants)]
        linked += found[len(own_instants):]
        if fix_rule is not None:  # the rows with files that are fixes (the rule is Python's, not SQL's)
            linked.append(_earliest_fix(cur, dialect, rows, f"NOT {reverts} AND {has_files}", instants, fix_rule))
    own = [t for t in own if t is not None]
    if not own:
        return None
    reach = min([*own, *(t - look_back for t in linked if t is not None)])
    # The rows whose merge lies close enough to the reach for a same-week merge or a revert to move it.
    horizon = reach + max(_WEEK, look_back)
    versions = [_merged_rows(cur, dialect, rows, horizon) for rows in (new, old)]
    merged = pl.concat(versions)
    if merged.height == 0:
        return reach
    reach = min(reach, _same_week_merges(cur, dialect, *versions, reach))
    return min(reach, _named_by_reverts(cur, dialect, merged, reach, look_back))


def _earliest_fix(cur, dialect: str, rows: str, where: str, instants: tuple[str, ...], fix_rule: dict):
    """The earliest instant (of `instants`) of the rows of `rows` meeting `where` that are fixes by
    `fix_rule` (metrics.change_chain.fixes), or None."""
    from metrics.change_chain import fixes

    cur.execute(f"SELECT x.title, x.labels, " + ", ".join(f"{_micros(expr, dialect)} AS t{i}" for i, expr in enumerate(instants))
                + f" FROM {rows} x WHERE {where}")
    found = pl.from_arrow(cur.fetch_arrow_table())
    if found.height == 0:
        return None
    found = found.with_columns(pl.col("title", "labels").cast(pl.String))
    fix = found.filter(fixes(found, fix_rule["labels"], fix_rule["title_pattern"]))
    times = [fix.get_column(f"t{i}").cast(pl.Int64).min() for i in range(len(instants))]
    times = [t for t in times if t is not None]
    return EPOCH + dt.timedelta(microseconds=min(times)) if times else None


def _files_reach(cur, dialect: str, staged: str, look_back: dt.timedelta, fix_rule: dict):
    """The reach of upserting the staged files (and the rows they replace: the same PRs): their PRs'
    creation and merge; the look-back before those of PRs that are fixes (`fix_rule`): a fix's file can
    make an earlier PR reworked. A file of another PR changes only that PR's rework, on its own day."""
    prs = f"(SELECT p.* FROM pull_requests p WHERE p.id IN (SELECT s.pr_id FROM {staged} s))"
    instants = ("x.created_at", "x.merged_at")
    cur.execute("SELECT " + ", ".join(_earliest(expr, dialect) for expr in instants) + f" FROM {prs} x")
    own = [t for t in (_instant(v, dialect) for v in cur.fetchone()) if t is not None]
    if not own:
        return None
    fix = _earliest_fix(cur, dialect, prs, "1 = 1", instants, fix_rule)
    return min(own) if fix is None else min(min(own), fix - look_back)


def _merged_rows(cur, dialect: str, rows: str, before: dt.datetime) -> pl.DataFrame:
    """The merged rows of `rows` merged before `before`: id, repo, number, title, author, merge_commit_sha,
    ai (0 or 1), merged_at."""
    cur.execute(f"SELECT x.id, x.repo, x.number, x.title, x.author, x.merge_commit_sha, x.ai_assisted, "
                f"{_micros('x.merged_at', dialect)} AS merged_us FROM {rows} x "
                f"WHERE x.merged_at IS NOT NULL AND x.merged_at < {_literal(before, dialect)}")
    frame = pl.from_arrow(cur.fetch_arrow_table())
    return frame.select(pl.col("id", "repo", "title", "author", "merge_commit_sha").cast(pl.String),
                        number=pl.col("number").cast(pl.Int64), ai=pl.col("ai_assisted").cast(pl.Int64).fill_null(0),
                        merged_at=pl.col("merged_us").cast(pl.Int64).cast(pl.Datetime("us", "UTC")))


def _same_week_merges(cur, dialect: str, new: pl.DataFrame, old: pl.DataFrame, reach: dt.datetime) -> dt.datetime:
    """min(`reach`, the earliest merge of another PR (the warehouse's) that an author merged earlier in the
    merge week (ISO, UTC) of a version of a row (`new`, `old`: the rows' merged versions), where the write
    changes that author's adoption cohort of that week), else `reach`. Such a PR counts in that cohort
    (metrics.cohorts.pr_cohort_keys: the author's AI share among their merges of the week and the three
    before, bots apart) from its merge on (merge day; lead time on its shipping day). Only the week of
    `reach` can hold such a PR before it (every version merged from `reach` on); the write changes that
    week's cohort only through the versions merged in it."""
    human = pl.col("author").is_not_null() & ~pl.col("author").str.ends_with("[bot]")
    versions = pl.concat([new.with_columns(sign=pl.lit(1)), old.with_columns(sign=pl.lit(-1))]).filter(human).with_columns(
        monday=pl.col("merged_at").dt.truncate("1w"))  # ISO weeks start on Monday
    versions = versions.filter(pl.col("monday") < reach)
    if versions.height == 0:
        return reach
    monday = versions.get_column("monday").min()  # the week of `reach`: the only one here
    authors = versions.get_column("author").unique().sort().to_list()
    changed = _cohort_changes(cur, dialect, versions, monday, authors)
    if not changed:
        return reach
    # (Read from the merged_at index alone, which holds the author. A row's own old version may be among
    # them: its merge is part of the reach already.)
    high = versions.get_column("merged_at").max()
    cur.execute(f"SELECT author, {_micros('merged_at', dialect)} AS merged_us FROM pull_requests "
                f"WHERE merged_at >= {_literal(monday, dialect)} AND merged_at < {_literal(high, dialect)}"
                f" AND author IN ({', '.join(text_literal(a) for a in changed)})")
    earlier = pl.from_arrow(cur.fetch_arrow_table()).select(
        author=pl.col("author").cast(pl.String), earlier_at=pl.col("merged_us").cast(pl.Int64).cast(pl.Datetime("us", "UTC")))
    hit = versions.join(earlier, on="author").filter(pl.col("earlier_at") < pl.col("merged_at"))
    return min(reach, hit.get_column("earlier_at").min()) if hit.height else reach


def _cohort_changes(cur, dialect: str, versions: pl.DataFrame, monday: dt.datetime, authors: list[str]) -> list[str]:
    """The `authors` whose adoption cohort of the week from `monday` the write changes: their merges and
    AI-assisted merges in it and the three weeks before, as stored (old versions included), then with the
    write's versions of that week (`sign` +1 new, −1 old) applied; compared through metrics.cohorts."""
    from metrics.cohorts import cohort_of

    start, end = monday - dt.timedelta(days=21), monday + _WEEK
    cur.execute(f"SELECT author, count(*) AS n, sum(CASE WHEN ai_assisted THEN 1 ELSE 0 END) AS ai FROM pull_requests "
                f"WHERE merged_at >= {_literal(start, dialect)} AND merged_at < {_literal(end, dialect)} "
                f"AND author IN ({', '.join(text_literal(a) for a in authors)}) GROUP BY author")
    before = pl.from_arrow(cur.fetch_arrow_table()).select(pl.col("author").cast(pl.String), n=pl.col("n").cast(pl.Int64),
                                                           ai=pl.col("ai").cast(pl.Int64))
    delta = (versions.filter(pl.col("monday") == monday).group_by("author")
             .agg(dn=pl.col("sign").sum(), dai=(pl.col("sign") * pl.col("ai")).sum()))
    both = (pl.DataFrame({"author": authors}).join(before, on="author", how="left").join(delta, on="author", how="left")
            .fill_null(0).with_columns(n1=pl.col("n") + pl.col("dn"), ai1=pl.col("ai") + pl.col("dai")))
    cohort = lambda n, ai: pl.when(pl.col(n) > 0).then(cohort_of(pl.col(ai) / pl.col(n)))  # noqa: E731 (none: no merges)
    moved = both.filter(cohort("n", "ai").ne_missing(cohort("n1", "ai1")))
    return moved.get_column("author").sort().to_list()


def _named_by_reverts(cur, dialect: str, merged: pl.DataFrame, reach: dt.datetime, look_back: dt.timedelta) -> dt.datetime:
    """min(`reach`, a row's merge − the look-back) over the rows that a revert in the warehouse, merged
    after the row and within the look-back, names by source id, number (in the reference's repo, else the
    revert's), merge sha prefix or title (in the revert's repo): DESIGN.md "Revert", metrics.linking."""
    rows = merged.filter(pl.col("merged_at") - look_back < reach)
    if rows.height == 0:
        return reach
    low, high = rows.get_column("merged_at").min(), rows.get_column("merged_at").max() + look_back
    cur.execute(f"SELECT id, repo, reverts_pr_id, revert_ref, {_micros('merged_at', dialect)} AS merged_us "
                f"FROM pull_requests WHERE merged_at > {_literal(low, dialect)} AND merged_at <= {_literal(high, dialect)} "
                f"AND (is_revert = {_true(dialect)} OR reverts_pr_id IS NOT NULL OR revert_ref IS NOT NULL)")
    reverts = pl.from_arrow(cur.fetch_arrow_table())
    if reverts.height == 0:
        return reach
    reverts = reverts.select(
        revert_repo=pl.col("repo").cast(pl.String), explicit=pl.col("reverts_pr_id").cast(pl.String),
        revert_at=pl.col("merged_us").cast(pl.Int64).cast(pl.Datetime("us", "UTC")),
        ref=pl.col("revert_ref").cast(pl.String).str.json_decode(REF_TYPE)).unnest("ref", separator="_")
    targets = rows.select("id", "repo", "number", "merged_at", title=comparable_title(pl.col("title")),
                          sha=pl.col("merge_commit_sha").str.to_lowercase())
    pairs = [
        reverts.join(targets, left_on="explicit", right_on="id", how="inner").select("revert_at", "merged_at"),
        reverts.with_columns(repo=pl.coalesce("ref_repo", "revert_repo")).join(
            targets, left_on=["repo", "ref_number"], right_on=["repo", "number"], how="inner").select("revert_at", "merged_at"),
        reverts.with_columns(title=comparable_title(pl.col("ref_title"))).join(
            targets, left_on=["revert_repo", "title"], right_on=["repo", "title"], how="inner").select("revert_at", "merged_at"),
        reverts.filter(pl.col("ref_sha").is_not_null()).join(targets, left_on="revert_repo", right_on="repo", how="inner")
        .filter(pl.col("sha").str.starts_with(pl.col("ref_sha").str.to_lowercase())).select("revert_at", "merged_at"),
    ]
    named = pl.concat(pairs).filter((pl.col("revert_at") > pl.col("merged_at"))
                                    & (pl.col("revert_at") <= pl.col("merged_at") + look_back))
    return min(reach, named.get_column("merged_at").min() - look_back) if named.height else reach


def _micros(expr: str, dialect: str) -> str:
    """`expr` (a stored time) as microseconds since 1970, as `_earliest` returns it."""
    return expr if dialect == "sqlite" else f"(extract(epoch FROM {expr}) * 1000000)::bigint"


def _last_shipper_before(cur, dialect: str, rows: str, window_s: float):
    """The earliest, over the rows, of: the repo's latest production deployment that ships (not a
    rollback, as the cube last decided: `cube_deployments`) and finished more than the rollback window
    before the row (PRs merged after it may be shipped, or rolled back, differently now), else the
    repo's first merge."""
    before = (f"x.finished_at - {int(window_s * 1_000_000)}" if dialect == "sqlite"
              else f"x.finished_at - interval '{float(window_s)} seconds'")
    shipper = (f"(SELECT max(d.finished_at) FROM cube_deployments d WHERE d.repo = x.repo AND d.finished_at < {before}"
               f" AND d.ships = {_true(dialect)})")
    first_merge = "(SELECT min(p.merged_at) FROM pull_requests p WHERE p.repo = x.repo)"
    cur.execute(f"SELECT {_earliest(f'coalesce({shipper}, {first_merge})', dialect)} FROM {rows} x")
    return _instant(cur.fetchone()[0], dialect)


def _earliest(expr: str, dialect: str) -> str:
    """min(`expr`) as the driver should return it: on PostgreSQL microseconds since 1970 (ADBC turns a
    fetched timestamptz into a datetime through pyarrow's time-zone conversion, which imports pandas: 0.3
    s of a small import's start-up), as SQLite stores times."""
    return _micros(f"min({expr})", dialect)


def note_reach(cur, dialect: str, reach, *, spend: bool) -> None:
    """Fold a write's reach into `cube_state` (the earliest pending day wins; FULL wins over any). `spend`: the
    write was of ai_spend, so the upkeep sums the spend's parts kept beside the cube again (`spend_pending`)."""
    if reach is None:
        return
    spent = f", spend_pending = {_true(dialect)}" if spend else ""
    if reach == FULL:
        cur.execute(f"UPDATE cube_state SET pending_full = {_true(dialect)}, pending_seq = pending_seq + 1{spent} WHERE id = 1")
        return
    value = _literal(reach, dialect)
    cur.execute(f"UPDATE cube_state SET pending_from = CASE WHEN pending_from IS NULL OR pending_from > {value} "
                f"THEN {value} ELSE pending_from END, pending_seq = pending_seq + 1{spent} WHERE id = 1")


def _state(cur):
    cur.execute("SELECT look_back_seconds, rollback_window_seconds, production_environments, fix_rule FROM cube_state WHERE id = 1")
    row = cur.fetchone()
    if row is None:
        return None
    return float(row[0]), float(row[1]), json.loads(row[2]), json.loads(row[3]) if row[3] else None


def _instant(value, dialect: str) -> dt.datetime | None:
    """A stored time or date (SQLite: integer microseconds or days; PostgreSQL: microseconds, `_earliest`) as an
    aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.timezone.utc)
    value = int(value)
    if dialect == "sqlite" and abs(value) < 10_000_000:  # a Day column on SQLite: days since 1970-01-01
        return dt.datetime.combine(EPOCH_DAY + dt.timedelta(days=value), dt.time(), dt.timezone.utc)
    return EPOCH + dt.timedelta(microseconds=value)


def _literal(instant: dt.datetime, dialect: str) -> str:
    if dialect == "sqlite":
        delta = instant - EPOCH
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    return f"'{instant.isoformat()}'::timestamptz"


def _true(dialect: str) -> str:
    return "1" if dialect == "sqlite" else "true"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
