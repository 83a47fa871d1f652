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
    "pull_requests": (("x.created_at", "x.merged_at",
                       "(SELECT min(r.submitted_at) FROM reviews r WHERE r.pr_id = x.id GROUP BY r.pr_id)"), True),
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
    look_back_s, window_s, _ = state
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
    if dialect == "sqlite":
        return f"min({expr})"
    return f"(extract(epoch FROM min({expr})) * 1000000)::bigint"


def note_reach(cur, dialect: str, reach) -> None:
    """Fold a write's reach into `cube_state` (the earliest pending day wins; FULL wins over any)."""
    if reach is None:
        return
    if reach == FULL:
        cur.execute(f"UPDATE cube_state SET pending_full = {_true(dialect)}, pending_seq = pending_seq + 1 WHERE id = 1")
        return
    value = _literal(reach, dialect)
    cur.execute(f"UPDATE cube_state SET pending_from = CASE WHEN pending_from IS NULL OR pending_from > {value} "
                f"THEN {value} ELSE pending_from END, pending_seq = pending_seq + 1 WHERE id = 1")


def _state(cur):
    cur.execute("SELECT look_back_seconds, rollback_window_seconds, production_environments FROM cube_state WHERE id = 1")
    row = cur.fetchone()
    if row is None:
        return None
    return float(row[0]), float(row[1]), json.loads(row[2])


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
