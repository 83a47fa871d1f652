"""A 1M-PR (or 2M-ticket) `scorecard import` into PostgreSQL by wall **and** CPU, client and server, for two
checkouts taking turns, beside `psql \\copy` of the same file.

    python -m benchmarks.pg_import_cpu DATABASE_URL [--runs 3] [--entity pull_requests] [--other /work/main]

benchmarks/imports.py times the import's process only (the server's CPU is not the client's); on a loaded
machine wall times say little. Here each timed step also counts the CPU seconds of the server processes that
serve DATABASE_URL's database (its backends and their parallel workers, read from /proc every 20 ms while the
step runs: the server must run on this machine, and nothing else should use that database meanwhile). Each
round: CHECKPOINT, `\\copy` into a bare table with the primary key; then each checkout's `scorecard import`
(through its own interpreter and `benchmarks.probes import_cli`, cwd its checkout) into a fresh migrated schema,
and the same file again (every row unchanged); the checkouts' order alternates by round. After each first
import the table's checksum (md5 of its rows in key order) and its index definitions are recorded, so the
sides can be compared. Prints one JSON line per step and the medians.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import threading
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.imports import REFERENCE_COLUMNS, write_files

ROOT = Path(__file__).resolve().parent.parent


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds used by the server processes serving `database` while the block runs."""

    def __init__(self, database: str, postmaster: int):
        self.tag, self.postmaster = f" {database} ".encode(), postmaster
        self.mine: set[int] = set()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.seconds = 0.0

    def _children(self) -> list[int]:
        out = []
        for path in Path(f"/proc/{self.postmaster}/task").glob("*/children"):
            out += [int(p) for p in path.read_text().split()]
        return out

    def _sample(self, start: bool = False) -> None:
        for pid in self._children():
            if pid not in self.mine:
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                workers_of = [b for b in self.mine if f"parallel worker for PID {b}".encode() in cmd]
                if self.tag not in cmd and not workers_of:
                    continue
                self.mine.add(pid)
            cpu = _cpu(pid)
            if cpu is None:
                continue
            if start or pid not in self.first:
                self.first.setdefault(pid, cpu if start else 0.0)
            self.last[pid] = cpu

    def __enter__(self):
        self._stop = threading.Event()
        self._sample(start=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            self._sample()

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
        self.seconds = sum(self.last[p] - self.first.get(p, 0.0) for p in self.last)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def step(cmd: list[str], database: str, postmaster: int, cwd: Path, env: dict | None = None) -> dict:
    c0, t0 = _children_cpu(), time.perf_counter()
    with ServerCpu(database, postmaster) as server:
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                                env={**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, **(env or {})})
    wall = time.perf_counter() - t0
    if result.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{result.stderr[-3000:]}")
    client = _children_cpu() - c0
    return {"wall_s": wall, "client_cpu_s": client, "server_cpu_s": server.seconds, "cpu_s": client + server.seconds,
            "stdout": result.stdout}


def psql(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entity", default="pull_requests")
    parser.add_argument("--other", default="/work/main", help="the checkout to take turns with")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pg_import_cpu.json"))
    args = parser.parse_args(argv)
    database = make_url(args.url).database
    # The server must run on this machine: its postmaster.pid names the process whose children serve us.
    postmaster = int((Path(psql(args.url, "SHOW data_directory")) / "postmaster.pid").read_text().split()[0])
    path = write_files("large")[args.entity]
    sides = {"this": ROOT, "other": Path(args.other).resolve()}
    sep = "&" if "?" in args.url else "?"
    results: list[dict] = []

    def record(**row):
        row.pop("stdout", None)
        row["load"] = os.getloadavg()[0]
        results.append(row)
        print(json.dumps(row), flush=True)

    for i in range(args.runs):
        psql(args.url, "DROP SCHEMA IF EXISTS bench_ref CASCADE; CREATE SCHEMA bench_ref; CHECKPOINT")
        cols = REFERENCE_COLUMNS[args.entity]
        psql(args.url, f"CREATE TABLE bench_ref.t ({', '.join(f'{n} {t}' for n, _, t in cols)}, PRIMARY KEY (id))")
        ref = step(["psql", args.url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    f"\\copy bench_ref.t FROM '{path}' WITH (FORMAT csv, HEADER true)"], database, postmaster, ROOT)
        record(run=i + 1, side="psql \\copy", **ref)
        for side, root in (list(sides.items()) if i % 2 == 0 else list(sides.items())[::-1]):
            schema = f"bench_{side}"
            psql(args.url, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            url = f"{args.url}{sep}options=-csearch_path%3D{schema}"
            python = str(root / ".venv" / "bin" / "python")
            subprocess.run([python, "-c", f"from warehouse import open_warehouse; open_warehouse({url!r})"], cwd=root,
                           check=True, capture_output=True)
            psql(args.url, "CHECKPOINT")
            env = {"SCORECARD_WAREHOUSE_URL": url}
            cmd = [python, "-m", "benchmarks.probes", "import_cli", args.entity, str(path)]
            first = step(cmd, database, postmaster, root, env)
            inside = json.loads(first["stdout"].strip().splitlines()[-1])
            checksum = psql(url, f"SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {args.entity} t")
            indexes = psql(url, f"SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes "
                                f"WHERE schemaname = '{schema}' AND tablename = '{args.entity}'")
            record(run=i + 1, side=side, step="import", parse_s=inside["parse_s"], write_s=inside["write_s"],
                   peak_mb=inside["peak_mb"], checksum=checksum, indexes=indexes.replace(f"{schema}.", ""), **first)
            psql(args.url, "CHECKPOINT")
            again = step(cmd, database, postmaster, root, env)
            record(run=i + 1, side=side, step="again", **again)
        psql(args.url, "DROP SCHEMA IF EXISTS bench_ref CASCADE")
    for side in ("psql \\copy", "this", "other"):
        for what in ("import", "again"):
            rows = [r for r in results if r["side"] == side and r.get("step", "import") == what]
            if not rows or (side == "psql \\copy" and what == "again"):
                continue
            med = {k: round(statistics.median(r[k] for r in rows), 2)
                   for k in ("wall_s", "client_cpu_s", "server_cpu_s", "cpu_s")}
            print(f"median {side} {what}: {med}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
