"""A small import into a large warehouse, end to end until the scorecard reads fresh numbers: this code's
time-scoped upkeep of the cube against a reference checkout's import plus full cube rebuild.

    python -m benchmarks.incremental --db big.db [--reference-db big_main.db --reference /work/main] [--runs 3]

`--db` is a copy of the large demo warehouse (`sqlite3 /work/bench/large.db ".backup big.db"`), opened once
by this code before timing (migration 0008 and the first full build of its cube are not timed). Each run
imports, in a fresh process (`scorecard import pull_requests FILE`: Python start-up, the CLI's imports,
parse + validate, the upsert, sync_runs and audit, and the upkeep the CLI runs after a write), a file of
new PRs merged in the warehouse's last two days: 1 row, then 1,000 rows. New ids every run, so every run
writes. After each run the benchmark checks that nothing is pending (`scorecard metrics` would read fresh
numbers without building anything). The reference (`--reference`, a checkout with its own .venv, and its
own warehouse copy `--reference-db`) does the same import; its CLI rebuilds the whole cube afterwards.
Runs alternate between the two sides. Wall time, CPU time (user + sys of the process and its threads)
and the load average at the start of each run are recorded; figures are medians.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config.model import Config, WarehouseConfig
from reports.data import load_cube
from warehouse import open_warehouse
from warehouse.cube_store import read_state

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "incremental.json"
COLUMNS = ["id", "repo", "number", "title", "author", "created_at", "merged_at", "merge_commit_sha", "ai_assisted"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_prs(path: Path, db: Path, rows: int, tag: str) -> None:
    """`rows` new PRs merged within the warehouse's last two days, in its busiest repos."""
    with sqlite3.connect(db) as conn:
        last_us = conn.execute("SELECT max(merged_at) FROM pull_requests").fetchone()[0]
        repos = [r[0] for r in conn.execute("SELECT repo FROM pull_requests GROUP BY repo ORDER BY count(*) DESC LIMIT 20")]
    last = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=last_us)
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


def timed(argv: list[str], env: dict[str, str]) -> dict:
    load = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {process.stderr.read().decode()[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "load": load}


def config_file(folder: Path, db: Path, name: str) -> Path:
    cache = folder / f"cache-{name}"  # the reference's cube files (this code keeps none)
    path = folder / f"{name}.toml"
    path.write_text(f'[warehouse]\nurl = "sqlite:///{db}"\ncache_dir = "{cache}"\n', encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--reference-db", type=Path)
    parser.add_argument("--reference", type=Path, help="a checkout with .venv (e.g. /work/main)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reference-runs", type=int, default=3, help="fewer for the reference (each rebuilds the cube)")
    parser.add_argument("--sizes", default="1,1000")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="incremental-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    sides = {"this": (ROOT / ".venv" / "bin" / "scorecard", config_file(folder, args.db.resolve(), "this"), args.db)}
    if args.reference:
        sides["reference"] = (args.reference / ".venv" / "bin" / "scorecard",
                              config_file(folder, args.reference_db.resolve(), "reference"), args.reference_db)
    log("bringing this side's cube up to date (not timed)")
    url = f"sqlite:///{args.db.resolve()}"
    load_cube(open_warehouse(url), Config(warehouse=WarehouseConfig(url=url)))
    results: dict[str, dict[str, list[dict]]] = {name: {} for name in sides}
    for size in (int(s) for s in args.sizes.split(",")):
        for run in range(args.runs):
            for name, (scorecard, config, db) in sides.items():
                if name == "reference" and run >= args.reference_runs:
                    continue
                tag = f"{name}-{size}-{run}-{time.time_ns()}"
                csv = folder / f"{tag}.csv"
                write_prs(csv, db, size, tag)
                figure = timed([str(scorecard), "import", "pull_requests", str(csv), "--config", str(config)], env)
                if name == "this":
                    state = read_state(open_warehouse(f"sqlite:///{db.resolve()}"))
                    assert state.pending_from is None and not state.pending_full, "the import left work pending"
                results[name].setdefault(str(size), []).append(figure)
                log(f"{name} {size} rows run {run + 1}: {figure['wall']:.2f} s wall, {figure['cpu']:.2f} s CPU, "
                    f"load {figure['load']:.1f}")
    summary = {name: {size: {"wall_median": statistics.median(r["wall"] for r in runs),
                             "cpu_median": statistics.median(r["cpu"] for r in runs),
                             "load": [round(r["load"], 1) for r in runs], "runs": runs}
                      for size, runs in by_size.items()} for name, by_size in results.items()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps({n: {s: {k: v for k, v in f.items() if k != "runs"} for s, f in b.items()} for n, b in summary.items()},
                     indent=2))


if __name__ == "__main__":
    main()
