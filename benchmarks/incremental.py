"""A small import into a large warehouse, end to end until the scorecard reads fresh numbers: this code's
time-scoped upkeep of the cube against a reference checkout's import plus full cube rebuild.

    python -m benchmarks.incremental --db big.db [--reference-db big_main.db --reference /work/main] [--runs 3]
    python -m benchmarks.incremental --db postgresql://postgres@127.0.0.1:5432/copy_a \
        [--reference-db postgresql://postgres@127.0.0.1:5432/copy_b --reference /work/main]

`--db` is a copy of the large demo warehouse (`sqlite3 /work/bench/large.db ".backup big.db"`, or a PostgreSQL
database made with `createdb -T bench1m copy_a` and analysed: its URL), opened once
by this code before timing (migration 0008 and the first full build of its cube are not timed). Each run
imports, in a fresh process (`scorecard import pull_requests FILE`: Python start-up, the CLI's imports,
parse + validate, the upsert, sync_runs and audit, and the upkeep the CLI runs after a write), a file of
new PRs merged in the warehouse's last two days: 1 row, then 1,000 rows (`--table ai_spend`: new spend rows
on its last two spend days, `scorecard import ai_spend FILE`). New ids every run, so every run writes. After each run the benchmark checks that nothing is pending (`scorecard metrics` would read fresh
numbers without building anything). The reference (`--reference`, a checkout with its own .venv, and its
own warehouse copy `--reference-db`) does the same import; its CLI rebuilds the whole cube afterwards.
Runs alternate between the two sides. Wall time, CPU time (user + sys of the process and its threads)
and the load average at the start of each run are recorded; figures are medians. On PostgreSQL with the server
on this machine (its processes readable in /proc), the CPU time of the server's processes that serve the
side's database (its backends and their parallel workers, sampled every 20 ms while the import runs) is
recorded too as `server_cpu`: the client's CPU time leaves out the server's share of the work.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from config.model import Config, WarehouseConfig
from reports.data import load_cube
from warehouse import open_warehouse
from warehouse.cube_store import read_state

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "incremental.json"
COLUMNS = ["id", "repo", "number", "title", "author", "created_at", "merged_at", "merge_commit_sha", "ai_assisted"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def url_of(db: str) -> str:
    """A warehouse URL from `--db`: a PostgreSQL URL as it is, else a SQLite file's path."""
    return db if "://" in db else f"sqlite:///{Path(db).resolve()}"


_REPOS = "SELECT repo FROM pull_requests GROUP BY repo ORDER BY count(*) DESC LIMIT 20"
_busiest: dict[str, list[str]] = {}


def write_prs(path: Path, url: str, rows: int, tag: str) -> None:
    """`rows` new PRs merged within the warehouse's last two days, in its busiest repos."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            last_us = conn.execute("SELECT max(merged_at) FROM pull_requests").fetchone()[0]
            repos = _busiest.get(url) or [r[0] for r in conn.execute(_REPOS)]
        last = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=last_us)
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            last = conn.execute("SELECT max(merged_at) FROM pull_requests").fetchone()[0]
            repos = _busiest.get(url) or [r[0] for r in conn.execute(_REPOS)]
    _busiest[url] = repos  # the same each run (reading them costs the server a scan of the PRs)
    rng = random.Random(tag)
    lines = [",".join(COLUMNS)]
    for i in range(rows):
        merged = last - dt.timedelta(minutes=rng.randrange(0, 2 * 24 * 60))
        created = merged - dt.timedelta(hours=rng.randrange(1, 48))
        number = 9_000_000 + i
        lines.append(",".join([f"bench:{tag}#{i}", rng.choice(repos), str(number), f"Bench change {tag} {i}", "bench-dev",
                               created.isoformat(), merged.isoformat(), f"{rng.getrandbits(64):016x}",
                               rng.choice(["true", "false"])]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


SPEND_COLUMNS = ["id", "date", "team", "tool", "model", "workflow", "cost_usd", "tokens", "requests"]


def write_spend(path: Path, url: str, rows: int, tag: str) -> None:
    """`rows` new spend rows (`--table ai_spend`) dated on the warehouse's last two spend days, in its teams,
    tools and models."""
    query = "SELECT max(date) FROM ai_spend"
    kinds = "SELECT team, tool, model, workflow FROM ai_spend GROUP BY team, tool, model, workflow LIMIT 50"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            last = dt.date(1970, 1, 1) + dt.timedelta(days=conn.execute(query).fetchone()[0])  # days since 1970
            seen = _busiest.get(url) or conn.execute(kinds).fetchall()
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            last = conn.execute(query).fetchone()[0]
            seen = _busiest.get(url) or conn.execute(kinds).fetchall()
    _busiest[url] = seen
    rng = random.Random(tag)
    lines = [",".join(SPEND_COLUMNS)]
    for i in range(rows):
        team, tool, model, workflow = (v or "" for v in rng.choice(seen))
        day = last - dt.timedelta(days=rng.randrange(0, 2))
        lines.append(",".join([f"bench:{tag}#{i}", day.isoformat(), team, tool, model, workflow,
                               f"{rng.uniform(0.01, 40):.2f}", str(rng.randrange(1000, 100000)), str(rng.randrange(1, 50))]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class ServerCpu:
    """CPU seconds of a local PostgreSQL server's processes serving `database`: its backends (named after
    the database in their command line) and their parallel workers, each the last figure seen in a sample
    every 20 ms (a process's last few milliseconds before it exits are missed). None where the server's
    processes cannot be read (another machine, no postmaster.pid readable, no /proc children lists)."""

    def __init__(self, database: str):
        self.database = database
        self.postmaster = self._postmaster()
        self.seen: dict[int, float] = {}
        self.ours: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _postmaster() -> int | None:
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                    stat = Path(f"/proc/{pid}/stat").read_text()
                    parent = stat.rsplit(")", 1)[1].split()[1]
                    if Path(f"/proc/{parent}/comm").read_text().strip() != "postgres":
                        return int(pid)
            except OSError:
                continue
        return None

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        try:
            children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split()
        except OSError:
            return
        for pid in map(int, children):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            words = command.split()
            if f" {self.database} " in f" {command} ":
                self.ours.add(pid)
            elif "parallel worker for PID" in command and words and words[-1].isdigit() and int(words[-1]) in self.ours:
                pass
            else:
                continue
            self.seen[pid] = (int(fields[11]) + int(fields[12])) / tick

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self._sample()

    def __enter__(self) -> ServerCpu:
        if self.postmaster:
            self._sample()
            self.before = dict(self.seen)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.postmaster:
            self._stop.set()
            self._thread.join()
            self._sample()

    @property
    def seconds(self) -> float | None:
        if not self.postmaster:
            return None
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())


def timed(argv: list[str], env: dict[str, str], url: str) -> dict:
    load = os.getloadavg()[0]
    database = None if url.startswith("sqlite") else urlsplit(url).path.lstrip("/")
    server = ServerCpu(database) if database else None
    started = time.perf_counter()
    with server or contextlib.nullcontext():
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {process.stderr.read().decode()[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "load": load,
            **({"server_cpu": server.seconds} if server else {})}


def config_file(folder: Path, url: str, name: str) -> Path:
    cache = folder / f"cache-{name}"  # the reference's cube files (this code keeps none)
    path = folder / f"{name}.toml"
    path.write_text(f'[warehouse]\nurl = "{url}"\ncache_dir = "{cache}"\n', encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="a SQLite file or a PostgreSQL URL (a copy: it is written)")
    parser.add_argument("--reference-db", help="the reference's own copy, as --db")
    parser.add_argument("--reference", type=Path, help="a checkout with .venv (e.g. /work/main)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference-runs", type=int, default=3, help="fewer for the reference (each rebuilds the cube)")
    parser.add_argument("--sizes", default="1,1000")
    parser.add_argument("--table", default="pull_requests", choices=["pull_requests", "ai_spend"],
                        help="what each run imports: new PRs (default) or new spend rows")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the figures go (JSON)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="incremental-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    url = url_of(args.db)
    sides = {"this": (ROOT / ".venv" / "bin" / "scorecard", config_file(folder, url, "this"), url)}
    if args.reference:
        reference_url = url_of(args.reference_db)
        sides["reference"] = (args.reference / ".venv" / "bin" / "scorecard",
                              config_file(folder, reference_url, "reference"), reference_url)
    log("bringing this side's cube up to date (not timed)")
    load_cube(open_warehouse(url), Config(warehouse=WarehouseConfig(url=url)))
    results: dict[str, dict[str, list[dict]]] = {name: {} for name in sides}
    for size in (int(s) for s in args.sizes.split(",")):
        for run in range(args.runs):
            for name, (scorecard, config, side_url) in sides.items():
                if name == "reference" and run >= args.reference_runs:
                    continue
                tag = f"{name}-{size}-{run}-{time.time_ns()}"
                csv = folder / f"{tag}.csv"
                (write_spend if args.table == "ai_spend" else write_prs)(csv, side_url, size, tag)
                figure = timed([str(scorecard), "import", args.table, str(csv), "--config", str(config)], env,
                               side_url)
                if name == "this":
                    state = read_state(open_warehouse(side_url))
                    assert state.pending_from is None and not state.pending_full, "the import left work pending"
                results[name].setdefault(str(size), []).append(figure)
                server = f", server {figure['server_cpu']:.2f} CPU-s" if figure.get("server_cpu") is not None else ""
                log(f"{name} {size} rows run {run + 1}: {figure['wall']:.2f} s wall, {figure['cpu']:.2f} s CPU{server}, "
                    f"load {figure['load']:.1f}")
    summary = {name: {size: {"wall_median": statistics.median(r["wall"] for r in runs),
                             "cpu_median": statistics.median(r["cpu"] for r in runs),
                             **({"server_cpu_median": statistics.median(r["server_cpu"] for r in runs)}
                                if all(r.get("server_cpu") is not None for r in runs) else {}),
                             "load": [round(r["load"], 1) for r in runs], "runs": runs}
                      for size, runs in by_size.items()} for name, by_size in results.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps({n: {s: {k: v for k, v in f.items() if k != "runs"} for s, f in b.items()} for n, b in summary.items()},
                     indent=2))


if __name__ == "__main__":
    main()
