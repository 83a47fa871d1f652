"""A larger organisation on PostgreSQL from a smaller one: every row of a source warehouse's PRs (with their
files and reviews), deployments, incidents and tickets written `--copies` times into an empty warehouse,
month by month through the import's own path (`pipeline.ingest`) and the cube's own upkeep after each month.

    python -m benchmarks.expand_pg SOURCE_URL TARGET_URL [--copies 10] [--shift-seconds 61]

`scorecard demo --scale large --prs 10000000` holds every table's frames in memory before writing (its 3M run
peaked at 18.3 GB) and `scorecard rebuild` reads all the evidence at once, so neither fits this machine at 10M
PRs. This writes one month of the source at a time (the copies of its rows together), so each write and each
upkeep holds about a month of the larger organisation.

Copy 0 is the source row itself; copy k ≥ 1 has the ids suffixed `~k`, PR numbers + k·NUMBER_STEP (urls to
match), merge and deployment shas with a new first 8 hex digits (the same function on both, so a revert's sha
still names its PR's copy), every timestamp `k·shift` seconds later, and the same repos, teams, authors and
titles: the teams are `copies` times as busy, as `--prs` makes them. People, AI spend and usage are written
once (the generator keeps them per team and day whatever `--prs` says). The source's deployment links and
incident causes are copied with the same id map (the demo has none).
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import resource
import time

import polars as pl

NUMBER_STEP = 2_000_000  # above the source's largest PR number
SHA_REF = "(p.revert_ref::json->>'sha')"


def _sha(col: str) -> str:
    return f"CASE WHEN k = 0 OR {col} IS NULL THEN {col} ELSE substr(md5({col} || k::text), 1, 8) || substr({col}, 9) END"


def _id(col: str) -> str:
    return f"CASE WHEN k = 0 OR {col} IS NULL THEN {col} ELSE {col} || '~' || k END"


def _ts(col: str, shift: int) -> str:
    return f"{col} + make_interval(secs => k * {shift})"


def queries(copies: int, shift: int, lo: str, hi: str) -> dict[str, str]:
    """The SQL of each table's rows of [lo, hi) with their copies (a PR's month: its merge, else creation)."""
    ks = f"CROSS JOIN generate_series(0, {copies - 1}) AS k"
    pr_month = f"coalesce(p.merged_at, p.created_at) >= '{lo}' AND coalesce(p.merged_at, p.created_at) < '{hi}'"
    ref = ("CASE WHEN k = 0 OR p.revert_ref IS NULL THEN p.revert_ref ELSE json_build_object("
           "'repo', p.revert_ref::json->>'repo', "
           f"'number', (p.revert_ref::json->>'number')::bigint + k * {NUMBER_STEP}, "
           f"'sha', {_sha(SHA_REF)}, "
           "'title', p.revert_ref::json->>'title')::text END")
    return {
        "pull_requests": (
            f"SELECT {_id('p.id')} AS id, p.source, p.repo, p.number + k * {NUMBER_STEP} AS number, p.title, p.author, "
            f"p.team, CASE WHEN k = 0 THEN p.url ELSE 'https://github.example/' || p.repo || '/pull/' || "
            f"(p.number + k * {NUMBER_STEP}) END AS url, {_ts('p.created_at', shift)} AS created_at, "
            f"{_ts('p.merged_at', shift)} AS merged_at, {_ts('p.closed_at', shift)} AS closed_at, "
            f"{_sha('p.merge_commit_sha')} AS merge_commit_sha, p.labels, p.ai_assisted, p.ai_signals, p.is_revert, "
            f"{_id('p.reverts_pr_id')} AS reverts_pr_id, {ref} AS revert_ref, p.ai_tools, p.ai_mode, p.ai_confidence "
            f"FROM pull_requests p {ks} WHERE {pr_month}"),
        "pull_request_files": (
            f"SELECT {_id('f.pr_id')} AS pr_id, f.path, f.source FROM pull_request_files f "
            f"JOIN pull_requests p ON p.id = f.pr_id {ks} WHERE {pr_month}"),
        "reviews": (
            f"SELECT {_id('r.id')} AS id, r.source, {_id('r.pr_id')} AS pr_id, r.reviewer, r.state, "
            f"{_ts('r.submitted_at', shift)} AS submitted_at FROM reviews r "
            f"JOIN pull_requests p ON p.id = r.pr_id {ks} WHERE {pr_month}"),
        "deployments": (
            f"SELECT {_id('d.id')} AS id, d.source, d.repo, d.team, d.environment, {_sha('d.sha')} AS sha, "
            f"{_ts('d.finished_at', shift)} AS finished_at, d.status, d.is_rollback, d.url, d.original_status "
            f"FROM deployments d {ks} WHERE d.finished_at >= '{lo}' AND d.finished_at < '{hi}'"),
        "deployment_prs": (
            f"SELECT {_id('l.deployment_id')} AS deployment_id, {_id('l.pr_id')} AS pr_id, l.source "
            f"FROM deployment_prs l JOIN deployments d ON d.id = l.deployment_id {ks} "
            f"WHERE d.finished_at >= '{lo}' AND d.finished_at < '{hi}'"),
        "incidents": (
            f"SELECT {_id('i.id')} AS id, i.source, i.title, i.team, i.service, i.severity, "
            f"{_ts('i.started_at', shift)} AS started_at, {_ts('i.resolved_at', shift)} AS resolved_at, i.ai_assisted, "
            f"{_id('i.caused_by_deployment_id')} AS caused_by_deployment_id, i.url, i.original_severity "
            f"FROM incidents i {ks} WHERE i.started_at >= '{lo}' AND i.started_at < '{hi}'"),
        "tickets": (
            f"SELECT {_id('t.id')} AS id, t.source, t.team, {_ts('t.created_at', shift)} AS created_at, "
            f"{_ts('t.resolved_at', shift)} AS resolved_at, t.channel, t.csat, t.original_channel "
            f"FROM tickets t {ks} WHERE t.created_at >= '{lo}' AND t.created_at < '{hi}'"),
        "ai_spend": f"SELECT * FROM ai_spend WHERE date >= '{lo}' AND date < '{hi}'",
        "ai_usage": f"SELECT * FROM ai_usage WHERE date >= '{lo}' AND date < '{hi}'",
        "ai_usage_people": f"SELECT * FROM ai_usage_people WHERE date >= '{lo}' AND date < '{hi}'",
    }


KEYS = {"pull_requests": ["id"], "pull_request_files": ["pr_id", "path"], "reviews": ["id"], "deployments": ["id"],
        "deployment_prs": ["deployment_id", "pr_id"], "incidents": ["id"], "tickets": ["id"], "ai_spend": ["id"],
        "ai_usage": ["id"], "ai_usage_people": ["id"]}


def link_source(target, source_url: str) -> None:
    """The source's evidence tables as foreign tables in the target's schema `src` (postgres_fdw)."""
    from sqlalchemy.engine import make_url

    url = make_url(source_url)
    with target.engine.begin() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
        cur.execute("DROP SCHEMA IF EXISTS src CASCADE")
        cur.execute("DROP SERVER IF EXISTS expand_source CASCADE")
        cur.execute(f"CREATE SERVER expand_source FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{url.host}', "
                    f"port '{url.port or 5432}', dbname '{url.database}', fetch_size '50000')")
        cur.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER expand_source OPTIONS (user '{url.username}')")
        cur.execute("CREATE SCHEMA src")
        cur.execute(f"IMPORT FOREIGN SCHEMA public LIMIT TO ({', '.join(['people', *KEYS])}) FROM SERVER expand_source INTO src")


def write_in_server(target, copies: int, shift: int, lo: str, hi: str) -> int:
    """One span's copies written inside the target (from `src`), each table staged and its reach noted by
    warehouse/reach.py as an import's upsert does (the same staging, the same order), then inserted."""
    from warehouse.reach import note_reach, write_reach
    from warehouse.write import _adbc_transaction

    rows = 0
    with _adbc_transaction(target) as cur:
        for name, sql in queries(copies, shift, lo, hi).items():
            sql = re.sub(rf"\b(FROM|JOIN) ({'|'.join(KEYS)})\b", r"\1 src.\2", sql)
            cur.execute(f"CREATE TEMP TABLE _stage_{name} AS {sql}")
            cur.execute(f"SELECT count(*) FROM _stage_{name}")
            n = cur.fetchone()[0]
            if n:
                cur.execute(f"SELECT * FROM _stage_{name} LIMIT 0")
                cols = [d[0] for d in cur.description]
                cur.fetchall()
                reach = write_reach(cur, "postgresql", name, f"_stage_{name}", KEYS[name], cols)
                col_list = ", ".join(f'"{c}"' for c in cols)
                # In key order: the primary key's B-tree is walked once, not at random pages.
                order = ", ".join(f'"{k}"' for k in KEYS[name])
                cur.execute(f'INSERT INTO "{name}" ({col_list}) SELECT {col_list} FROM _stage_{name} ORDER BY {order}')
                note_reach(cur, "postgresql", reach, spend=name == "ai_spend")
                rows += n
            cur.execute(f"DROP TABLE _stage_{name}")
    return rows


def _read(uri: str, sql: str) -> pl.DataFrame:
    return pl.read_database_uri(sql, uri, engine="connectorx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--shift-seconds", type=int, default=61)
    parser.add_argument("--months", type=int, default=None, help="stop after this many months (a trial)")
    parser.add_argument("--in-server", action="store_true", help="copy inside the target through postgres_fdw "
                        "(no rows through Python), resuming after the target's last PR month")
    parser.add_argument("--unlogged", action="store_true", help="the evidence tables UNLOGGED while copying (no "
                        "WAL for their index pages), set LOGGED again at the end")
    parser.add_argument("--step", type=int, default=1, help="months per write and upkeep (--in-server)")
    args = parser.parse_args()

    from config.load import load_config
    from pipeline import ingest
    from reports.data import refresh_cube
    from warehouse import open_warehouse

    config = load_config()
    target = open_warehouse(args.target)
    bounds = _read(args.source, "SELECT min(created_at) AS lo, max(coalesce(merged_at, created_at)) AS hi FROM pull_requests").row(0)
    first = min(bounds[0], _read(args.source, "SELECT min(started_at) AS s FROM incidents").item(),
                _read(args.source, "SELECT min(created_at) AS s FROM tickets").item(),
                _read(args.source, "SELECT min(finished_at) AS s FROM deployments").item())
    month = dt.date(first.year, first.month, 1)
    if args.in_server:
        link_source(target, args.source)
        with target.engine.connect() as conn:
            import sqlalchemy as sa
            latest = conn.execute(sa.text("SELECT max(coalesce(merged_at, created_at)) FROM pull_requests")).scalar()
        if args.unlogged:
            _set_logged(target, False)
        if latest is None:
            ingest(target, "demo", {"people": _read(args.source, "SELECT * FROM people")}, action="demo")
        else:
            month = dt.date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)
    else:
        ingest(target, "demo", {"people": _read(args.source, "SELECT * FROM people")}, action="demo")
    last = dt.date.today() + dt.timedelta(days=400)
    started = time.perf_counter()
    done = 0
    while month < last and (args.months is None or done < args.months):
        done += 1
        nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        t0 = time.perf_counter()
        if args.in_server:
            for _ in range(args.step - 1):
                nxt = dt.date(nxt.year + nxt.month // 12, nxt.month % 12 + 1, 1)
            rows = write_in_server(target, args.copies, args.shift_seconds, month.isoformat(), nxt.isoformat())
            t2 = time.perf_counter()
            if rows:
                refresh_cube(target, config)
            t3 = time.perf_counter()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{month:%Y-%m}..{nxt:%Y-%m}: {rows:,} rows; write {t2 - t0:.1f} s, upkeep {t3 - t2:.1f} s; "
                  f"peak {peak:,.0f} MB; {time.perf_counter() - started:.0f} s in all", flush=True)
            if not rows and month > bounds[1].date():
                break
            month = nxt
            continue
        frames = {name: _read(args.source, sql) for name, sql in queries(args.copies, args.shift_seconds, month.isoformat(), nxt.isoformat()).items()}
        frames = {name: f for name, f in frames.items() if f.height}
        rows = sum(f.height for f in frames.values())
        if rows:
            t1 = time.perf_counter()
            ingest(target, "demo", frames, action="demo", detail={"expanded_from": "source", "copies": args.copies, "month": month.isoformat()})
            t2 = time.perf_counter()
            refresh_cube(target, config)
            t3 = time.perf_counter()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{month:%Y-%m}: {rows:,} rows (PRs {frames.get('pull_requests', pl.DataFrame()).height:,}); read {t1 - t0:.1f} s, "
                  f"write {t2 - t1:.1f} s, upkeep {t3 - t2:.1f} s; peak {peak:,.0f} MB; {time.perf_counter() - started:.0f} s in all", flush=True)
        elif month > bounds[1].date():
            break
        month = nxt
    if args.in_server and args.unlogged:
        t0 = time.perf_counter()
        _set_logged(target, True)
        print(f"tables LOGGED again in {time.perf_counter() - t0:.0f} s", flush=True)


def _set_logged(target, logged: bool) -> None:
    with target.engine.begin() as conn:
        cur = conn.connection.driver_connection.cursor()
        for name in ["people", *KEYS]:
            cur.execute(f'ALTER TABLE "{name}" SET {"LOGGED" if logged else "UNLOGGED"}')


if __name__ == "__main__":
    main()
