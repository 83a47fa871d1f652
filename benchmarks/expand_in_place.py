"""A PostgreSQL organisation `--copies` times as busy, made inside the server from a template copy of a smaller
one: `createdb -T bench1m NAME`, then

    python -m benchmarks.expand_in_place postgresql://postgres@127.0.0.1:5432/NAME [--copies 10]

adds copies k = 1 … copies−1 of every PR (with its files and reviews), deployment, deployment link, incident
and ticket by one `INSERT … SELECT … CROSS JOIN generate_series` per table, with benchmarks/expand_pg.py's
mapping (copy k: ids suffixed `~k`, PR numbers + k·2,000,000 and urls to match, the first 8 hex digits of
merge, deployment and referenced shas replaced by the same function of the sha and k, every time k·61 s
later; the same repos, teams, authors and titles; people, AI spend and usage once). Each table's indexes,
its primary key too, are dropped before its copies are written and built again after, then the table is
vacuumed and analysed. The cube is marked for a full rebuild (`cube_state.pending_full`): run `scorecard
rebuild` next.

expand_pg writes month by month through the import's path and the cube's upkeep (exact, 2-5 min a month of
the ten-fold organisation here); this writes the same rows in minutes, and the rebuild builds the cube.
A thread watches the disk: below `--min-free-gb` free on the database's file system it cancels the running
statement and the script stops.
"""
from __future__ import annotations

import argparse
import shutil
import threading
import time

import psycopg

NUMBER_STEP = 2_000_000  # above the source's largest PR number (as benchmarks/expand_pg.py)
TABLES = ("pull_requests", "pull_request_files", "reviews", "deployments", "deployment_prs", "incidents", "tickets")


def _id(col: str) -> str:
    return f"{col} || '~' || k"  # NULL stays NULL


def _sha(col: str) -> str:
    return f"substr(md5({col} || k::text), 1, 8) || substr({col}, 9)"


def mapping(shift: int) -> dict[str, dict[str, str]]:
    """Per table, the SQL of copy k's value of each column that differs from the source row's (a row alias-free
    SELECT over the table and `k`); the other columns are copied as they are."""
    ts = lambda col: f"{col} + make_interval(secs => k * {shift})"  # noqa: E731
    number = f"number + k * {NUMBER_STEP}"
    ref_sha = "(revert_ref::json->>'sha')"
    ref = ("CASE WHEN revert_ref IS NULL THEN NULL ELSE json_build_object("
           "'repo', revert_ref::json->>'repo', "
           f"'number', (revert_ref::json->>'number')::bigint + k * {NUMBER_STEP}, "
           f"'sha', {_sha(ref_sha)}, 'title', revert_ref::json->>'title')::text END")
    return {
        "pull_requests": {"id": _id("id"), "number": number,
                          "url": f"'https://github.example/' || repo || '/pull/' || ({number})",
                          "created_at": ts("created_at"), "merged_at": ts("merged_at"), "closed_at": ts("closed_at"),
                          "merge_commit_sha": _sha("merge_commit_sha"), "reverts_pr_id": _id("reverts_pr_id"),
                          "revert_ref": ref},
        "pull_request_files": {"pr_id": _id("pr_id")},
        "reviews": {"id": _id("id"), "pr_id": _id("pr_id"), "submitted_at": ts("submitted_at")},
        "deployments": {"id": _id("id"), "sha": _sha("sha"), "finished_at": ts("finished_at")},
        "deployment_prs": {"deployment_id": _id("deployment_id"), "pr_id": _id("pr_id")},
        "incidents": {"id": _id("id"), "started_at": ts("started_at"), "resolved_at": ts("resolved_at"),
                      "caused_by_deployment_id": _id("caused_by_deployment_id")},
        "tickets": {"id": _id("id"), "created_at": ts("created_at"), "resolved_at": ts("resolved_at")},
    }


def copies_sql(cur, table: str, copies: int, shift: int) -> str:
    """The INSERT of `table`'s copies 1 … copies−1, over its columns as the database holds them (every time
    column must be mapped: a new one would otherwise keep copy 0's times)."""
    cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s ORDER BY ordinal_position", (table,))
    columns = cur.fetchall()
    mapped = mapping(shift)[table]
    unmapped = [name for name, kind in columns if kind.startswith("timestamp") and name not in mapped]
    if unmapped:
        raise SystemExit(f"{table}: time columns without a mapping: {unmapped}")
    names = ", ".join(f'"{name}"' for name, _ in columns)
    values = ", ".join(mapped.get(name, f'"{name}"') for name, _ in columns)
    return (f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" '
            f"CROSS JOIN generate_series(1, {copies - 1}) AS k")


def _watch_disk(url: str, path: str, min_free_gb: float, pid: int, stop: threading.Event, tripped: list) -> None:
    while not stop.wait(5):
        free = shutil.disk_usage(path).free / 1e9
        if free < min_free_gb:
            tripped.append(free)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT pg_cancel_backend(%s)", (pid,))
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="postgresql://… of a template copy of the source organisation")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--shift-seconds", type=int, default=61)
    parser.add_argument("--min-free-gb", type=float, default=15.5)
    parser.add_argument("--disk", default="/var/lib/postgresql", help="a path on the database's file system")
    parser.add_argument("--maintenance-work-mem", default="1GB")
    args = parser.parse_args()
    url = args.url.replace("postgresql+psycopg://", "postgresql://")

    started = time.perf_counter()

    def say(what: str) -> None:
        free = shutil.disk_usage(args.disk).free / 1e9
        print(f"[{time.perf_counter() - started:7.1f} s, {free:5.1f} GB free] {what}", flush=True)

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        for setting in (f"maintenance_work_mem = '{args.maintenance_work_mem}'", "work_mem = '256MB'",
                        "synchronous_commit = off", "max_parallel_maintenance_workers = 1"):
            cur.execute(f"SET {setting}")
        cur.execute("SELECT count(*) FROM pull_requests WHERE id LIKE '%~%'")
        if cur.fetchone()[0]:
            raise SystemExit("the PRs hold copies already: expand a fresh template copy")
        stop, tripped = threading.Event(), []
        watcher = threading.Thread(target=_watch_disk, args=(url, args.disk, args.min_free_gb, pid, stop, tripped),
                                   daemon=True)
        watcher.start()
        try:
            # Nobody reads the 1M cube as the larger organisation's meanwhile.
            cur.execute("UPDATE cube_state SET pending_full = true")
            for table in TABLES:
                cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
                            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                            (table, table))
                indexes = cur.fetchall()
                cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                            "AND contype IN ('p', 'u')", (table,))
                constraints = cur.fetchall()
                for name, _ in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                for name, _ in constraints:
                    cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                say(f"{table}: dropped {len(indexes)} indexes and {len(constraints)} key constraints")
                cur.execute(copies_sql(cur, table, args.copies, args.shift_seconds))
                say(f"{table}: {cur.rowcount:,} rows of copies 1-{args.copies - 1} written")
                for name, definition in constraints:
                    cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                    say(f"{table}: {name} built")
                for name, definition in indexes:
                    cur.execute(definition)
                    say(f"{table}: {name} built")
                cur.execute(f'VACUUM (ANALYZE) "{table}"')
                say(f"{table}: vacuumed and analysed")
        except psycopg.errors.QueryCanceled:
            raise SystemExit(f"stopped: {tripped[0]:.1f} GB free, below {args.min_free_gb} GB") from None
        finally:
            stop.set()
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        say(f"done: the database holds {cur.fetchone()[0]}; next: scorecard rebuild")


if __name__ == "__main__":
    main()
