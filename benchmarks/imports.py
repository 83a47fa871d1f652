"""Import rows/s of `scorecard import` against the stock loaders, on the same file in the same run.

    python -m benchmarks.imports [--runs 3] [--scale large|small] [--postgres URL] [--only tickets,pull_requests]
                                 [--baseline CHECKOUT]

For each file (the large demo's 2M tickets and 1M PRs, written as CSV once into benchmarks/data/):

- `scorecard import ENTITY FILE` in a fresh process into an empty, migrated warehouse (the process's
  wall time from spawn to exit: Python start-up, the CLI's imports, config, parse + validate, write,
  sync_runs and audit; the scorecard cache rebuild the CLI runs afterwards today is left out — see
  benchmarks/probes.py import_cli), then the same file again into the filled warehouse (every row
  looked up by key and found unchanged: the upsert path);
- `sqlite3 DB '.import --csv --skip 1 FILE t'` into a fresh database holding an equivalent table (the
  file's columns, SQLite types, the same primary key), the CLI's defaults otherwise;
- on PostgreSQL (`--postgres`, or $SCORECARD_BENCH_POSTGRES_URL): the same import into a fresh schema,
  against `psql -c '\\copy t FROM FILE (FORMAT csv, HEADER)'` into an equivalent table (timestamptz for
  timestamps, so COPY parses them as the product does);
- the checkouts (this one, `--baseline`) take turns going first, run by run; on PostgreSQL a CHECKPOINT
  (untimed) comes before every timed load, so none pays for writing out the one before;
- then, on the stock loader's table, the secondary indexes the warehouse keeps on that table (migration
  0008's counting-time indexes, warehouse.schema.TIME_INDEXES: one on tickets, four on pull_requests),
  created after the load in one transaction, timed apart (SQLite: the shell's defaults; PostgreSQL: the
  maintenance_work_mem `scorecard import` gives its own builds).
  `scorecard import` builds them too (the upkeep reads by them), the bare stock loader does not: two ratios
  are reported, against the bare load (the issue's figure) and against load + the same indexes (the same
  end state: a table a warehouse can be read from).

Each figure is the median of `--runs` fresh processes; rows/s is rows in the file / wall seconds. The
files are read from the page cache by both sides (written just before, not evicted). `--baseline` names
another checkout of the product (e.g. a `git worktree` of main): its `scorecard import` runs too, in the
same rounds, right after this checkout's (same interpreter and packages, that checkout's code), so a
change is measured before and after in the same minutes. Every run logs the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
END = "2026-11-22"
TARGET_RATIO = 0.6  # issue 15: at least 60% of sqlite3 .import's rows/s

# The reference tables: the CSV's columns in file order, typed as a careful user would, keyed as ours.
REFERENCE_COLUMNS = {
    "tickets": [("id", "TEXT", "text"), ("team", "TEXT", "text"), ("channel", "TEXT", "text"),
                ("csat", "REAL", "double precision"), ("created_at", "TEXT", "timestamptz"),
                ("resolved_at", "TEXT", "timestamptz")],
    "pull_requests": [("id", "TEXT", "text"), ("repo", "TEXT", "text"), ("team", "TEXT", "text"),
                      ("number", "INTEGER", "bigint"), ("title", "TEXT", "text"), ("author", "TEXT", "text"),
                      ("created_at", "TEXT", "timestamptz"), ("merged_at", "TEXT", "timestamptz"),
                      ("merge_commit_sha", "TEXT", "text"), ("labels", "TEXT", "text")],
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_files(scale: str) -> dict[str, Path]:
    """The demo organisation's tickets and PRs as CSV, as an export would have them (written once)."""
    folder = DATA / f"csv-{scale}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {"tickets": folder / "tickets.csv", "pull_requests": folder / "pull_requests.csv"}
    if not all(f.exists() for f in files.values()):
        log(f"writing the {scale} demo's tickets and PRs as CSV into {folder}")
        code = (
            "import datetime as dt, polars as pl\n"
            "from connectors.demo.generator import generate\n"
            f"f = generate({scale!r}, end=dt.date.fromisoformat({END!r}))\n"
            f"f['tickets'].drop('source').write_csv({str(files['tickets'])!r})\n"
            f"f['pull_requests'].select('id','repo','team','number','title','author','created_at','merged_at',"
            f"'merge_commit_sha', pl.col('labels').str.json_decode(pl.List(pl.String)).list.join(';'))"
            f".write_csv({str(files['pull_requests'])!r})\n"
        )
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return files


def rows_in(path: Path) -> int:
    import polars as pl  # as in benchmarks/run.py: only the step that counts rows needs polars

    return pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()


def child_env(extra: dict | None = None) -> dict:
    # Compiled modules are cached as an installed package's are (pip and uv write them): a session with
    # PYTHONDONTWRITEBYTECODE would otherwise compile every module of every process anew (~15 s here).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def warm_up(files: dict[str, Path], root: Path = ROOT) -> None:
    """One untimed import of a few rows of each file, so every module's bytecode is cached."""
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        url = f"sqlite:///{tmp}/warm.db"
        prepare_warehouse(url)
        for entity, path in files.items():
            head = Path(tmp) / f"{entity}.csv"
            with path.open() as src, head.open("w") as dst:
                for _, line in zip(range(100), src):
                    dst.write(line)
            scorecard_import(entity, head, url, root)


def timed(cmd: list[str], env: dict | None = None, cwd: Path = ROOT) -> tuple[float, str]:
    t0 = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=child_env(env))
    wall = time.perf_counter() - t0
    timed.cpu = _children_cpu() - timed.cpu_before  # the CPU seconds the process used (all its threads)
    timed.cpu_before += timed.cpu
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed:\n{result.stderr[-3000:]}")
    return wall, result.stdout


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


timed.cpu_before = 0.0


def prepare_warehouse(url: str) -> None:
    """Create and migrate the warehouse before the timed run, as a user's would be."""
    timed([sys.executable, "-c", f"from warehouse import open_warehouse; open_warehouse({url!r})"])


def scorecard_import(entity: str, path: Path, url: str, root: Path = ROOT) -> dict:
    wall, stdout = timed([sys.executable, "-m", "benchmarks.probes", "import_cli", entity, str(path)],
                         env={"SCORECARD_WAREHOUSE_URL": url}, cwd=root)
    inside = json.loads(stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "cpu_s": timed.cpu, "parse_cpu_s": inside["parse_cpu_s"], "write_cpu_s": inside["write_cpu_s"], "parse_s": inside["parse_s"], "write_s": inside["write_s"],
            "other_s": wall - inside["parse_s"] - inside["write_s"], "peak_mb": inside["peak_mb"],
            "printed": inside["printed"]}


def reference_indexes(entity: str) -> list[str]:
    """CREATE INDEX statements for the warehouse's secondary indexes on `entity` (the same names and
    columns), for the stock loader's table: of its columns, those the file has (the AI flag in the PRs'
    merged_at index is decided by the import, not read from the file; partial indexes are left out)."""
    from warehouse.schema import TIME_INDEXES

    have = {name for name, _, _ in REFERENCE_COLUMNS[entity]}
    # A partial index (the PRs naming a revert: columns the import decides) holds a few of the rows: left out
    # of the reference, as a whole-table index there would not be its equal.
    return [f"CREATE INDEX {ix.name} ON {{table}} ({', '.join(c.name for c in ix.columns if c.name in have)});"
            for ix in TIME_INDEXES if ix.table.name == entity and ix.dialect_options["sqlite"].get("where") is None]


def sqlite_reference(entity: str, path: Path, folder: Path) -> tuple[float, float, float, float]:
    """(wall, CPU) of `.import` into a bare table, then (wall, CPU) of building the warehouse's indexes
    on it (the shell's defaults: its 2 MB cache and temp files sort fastest, see warehouse/write.py)."""
    db = folder / "reference.db"
    cols = REFERENCE_COLUMNS[entity]
    ddl = f"CREATE TABLE {entity} ({', '.join(f'{n} {t}' for n, t, _ in cols)}, PRIMARY KEY (id));"
    timed(["sqlite3", str(db), ddl])
    wall, _ = timed(["sqlite3", str(db), f".import --csv --skip 1 {path} {entity}"])
    cpu = timed.cpu
    build = "BEGIN; " + " ".join(ix.format(table=entity) for ix in reference_indexes(entity)) + " COMMIT;"
    index_wall, _ = timed(["sqlite3", str(db), build])
    return wall, cpu, index_wall, timed.cpu


def postgres_reference(entity: str, path: Path, base_url: str, schema: str) -> tuple:
    """Wall of `\\copy` into a bare table, then of building the warehouse's indexes on it (in one
    transaction with the maintenance_work_mem `scorecard import` sets). The server's CPU is not the
    client's, so no CPU figures."""
    cols = REFERENCE_COLUMNS[entity]
    table = f"{schema}.{entity}"
    ddl = (f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; "
           f"CREATE TABLE {table} ({', '.join(f'{n} {t}' for n, _, t in cols)}, PRIMARY KEY (id));")
    timed(["psql", base_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", ddl])
    wall, _ = timed(["psql", base_url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                     f"\\copy {table} FROM '{path}' WITH (FORMAT csv, HEADER true)"])
    build = ("BEGIN; SET LOCAL maintenance_work_mem = '256MB'; "
             + " ".join(ix.format(table=table) for ix in reference_indexes(entity)) + " COMMIT;")
    index_wall, _ = timed(["psql", base_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", build])
    return wall, None, index_wall, None


def in_turn(roots: dict[str, Path], run: int) -> list[tuple[str, Path]]:
    """The checkouts in run `run`'s order: reversed every other run, so no side always follows the stock
    loader (on PostgreSQL the server may still be writing the previous load out)."""
    sides = list(roots.items())
    return sides if run % 2 == 0 else sides[::-1]


def checkpoint(base_url: str) -> None:
    """PostgreSQL's CHECKPOINT before a timed load (untimed): the dirty buffers and WAL of the previous
    step are written out, so each load starts from the same state, not paying for the one before."""
    subprocess.run(["psql", base_url, "-q", "-c", "CHECKPOINT"], check=True, capture_output=True)


def fresh_postgres_schema(base_url: str, schema: str) -> str:
    subprocess.run(["psql", base_url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"], check=True, capture_output=True)
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}"


def summarise(rows: int, samples: list[dict], reference: list[tuple]) -> dict:
    def median(key: str) -> float:
        return statistics.median(s[key] for s in samples)

    wall, ref = median("wall_s"), statistics.median(r[0] for r in reference)
    ref_cpu = [r[1] for r in reference if r[1] is not None]
    # load + the same indexes: each run's two parts summed, then the median
    indexed = statistics.median(r[0] + r[2] for r in reference)
    indexed_cpu = [r[1] + r[3] for r in reference if r[1] is not None]
    return {
        "rows": rows,
        "scorecard_s": wall, "scorecard_rows_per_s": rows / wall,
        "parse_s": median("parse_s"), "write_s": median("write_s"), "startup_and_rest_s": median("other_s"),
        "cpu_s": median("cpu_s"), "parse_cpu_s": median("parse_cpu_s"), "write_cpu_s": median("write_cpu_s"),
        "peak_mb": median("peak_mb"),
        "reimport_s": median("reimport_wall_s"), "reimport_rows_per_s": rows / median("reimport_wall_s"),
        "reference_s": ref, "reference_rows_per_s": rows / ref,
        "reference_cpu_s": statistics.median(ref_cpu) if ref_cpu else None,
        "ratio": ref / wall,
        "reference_index_s": statistics.median(r[2] for r in reference),
        "reference_indexed_s": indexed, "reference_indexed_cpu_s": statistics.median(indexed_cpu) if indexed_cpu else None,
        "ratio_indexed": indexed / wall,
        "cpu_ratio": (statistics.median(ref_cpu) / median("cpu_s")) if ref_cpu else None,
        "cpu_ratio_indexed": (statistics.median(indexed_cpu) / median("cpu_s")) if indexed_cpu else None,
        "samples": [{k: v for k, v in s.items() if "printed" not in k} for s in samples],
        "reference_samples": reference,
    }


def import_twice(entity: str, path: Path, url: str, root: Path) -> dict:
    """The file into the fresh warehouse at `url`, then again (every row found unchanged)."""
    prepare_warehouse(url)
    sample = scorecard_import(entity, path, url, root)
    again = scorecard_import(entity, path, url, root)
    sample["reimport_wall_s"], sample["reimport_printed"] = again["wall_s"], again["printed"]
    sample["load"] = os.getloadavg()[0]
    return sample


def describe(backend: str, entity: str, i: int, side: str, sample: dict) -> str:
    return (f"{backend} {entity} run {i + 1}, {side}: {sample['wall_s']:.2f} s (parse {sample['parse_s']:.2f}, "
            f"write {sample['write_s']:.2f}; CPU {sample['cpu_s']:.2f} s), again {sample['reimport_wall_s']:.2f} s; "
            f"load {sample['load']:.1f}")


def summaries(rows: int, samples: dict[str, list[dict]], reference: list) -> dict:
    out = summarise(rows, samples["scorecard"], reference)
    out["printed"] = samples["scorecard"][-1]["printed"] + samples["scorecard"][-1]["reimport_printed"]
    if samples.get("baseline"):
        out["baseline"] = summarise(rows, samples["baseline"], reference)
    return out


def run_sqlite(files: dict[str, Path], runs: int, roots: dict[str, Path]) -> dict:
    out = {}
    for entity, path in files.items():
        rows = rows_in(path)
        samples, reference = {side: [] for side in roots}, []
        for i in range(runs):  # alternate, so every side sees the same machine load
            with tempfile.TemporaryDirectory(dir=DATA) as tmp:
                reference.append(sqlite_reference(entity, path, Path(tmp)))
            r = reference[-1]
            log(f"SQLite {entity} run {i + 1}: sqlite3 .import {r[0]:.2f} s (CPU {r[1]:.2f} s), then its indexes "
                f"{r[2]:.2f} s (CPU {r[3]:.2f} s); load {os.getloadavg()[0]:.1f}")
            for side, root in in_turn(roots, i):
                with tempfile.TemporaryDirectory(dir=DATA) as tmp:
                    samples[side].append(import_twice(entity, path, f"sqlite:///{tmp}/import.db", root))
                log(describe("SQLite", entity, i, side, samples[side][-1]))
        out[entity] = summaries(rows, samples, reference)
    return out


def run_postgres(files: dict[str, Path], runs: int, base_url: str, roots: dict[str, Path]) -> dict:
    out = {}
    schema = f"scorecard_bench_import_{os.getpid()}"  # two runs at once do not share one
    for entity, path in files.items():
        rows = rows_in(path)
        samples, reference = {side: [] for side in roots}, []
        for i in range(runs):
            checkpoint(base_url)
            reference.append(postgres_reference(entity, path, base_url, schema))
            log(f"PostgreSQL {entity} run {i + 1}: psql \\copy {reference[-1][0]:.2f} s, then its indexes "
                f"{reference[-1][2]:.2f} s; load {os.getloadavg()[0]:.1f}")
            for side, root in in_turn(roots, i):
                url = fresh_postgres_schema(base_url, schema)
                checkpoint(base_url)
                samples[side].append(import_twice(entity, path, url, root))
                log(describe("PostgreSQL", entity, i, side, samples[side][-1]))
        subprocess.run(["psql", base_url, "-q", "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE"], check=True, capture_output=True)
        out[entity] = summaries(rows, samples, reference)
    return out


def table(results: dict) -> str:
    lines = []
    for backend, reference in (("sqlite", "sqlite3 .import"), ("postgresql", "psql \\copy")):
        for entity, v in results.get(backend, {}).items():
            lines.append(
                f"{backend:10s} {entity:13s} {v['rows']:>9,} rows: scorecard import {v['scorecard_s']:6.2f} s "
                f"= {v['scorecard_rows_per_s']:>9,.0f} rows/s (parse {v['parse_s']:.2f}, write {v['write_s']:.2f}, "
                f"start-up and rest {v['startup_and_rest_s']:.2f}); {reference} {v['reference_s']:6.2f} s "
                f"= {v['reference_rows_per_s']:>9,.0f} rows/s; ratio {v['ratio']:.0%} (target ≥ {TARGET_RATIO:.0%}); "
                f"re-import (all unchanged) {v['reimport_s']:.2f} s"
                + (f"; CPU {v['cpu_s']:.2f} s vs {v['reference_cpu_s']:.2f} s" if v["reference_cpu_s"] else "")
            )
            lines.append(f"{'':24s} {reference} + the same indexes {v['reference_indexed_s']:6.2f} s "
                         f"(indexes {v['reference_index_s']:.2f} s): ratio {v['ratio_indexed']:.0%}"
                         + (f"; CPU {v['reference_indexed_cpu_s']:.2f} s, CPU ratio {v['cpu_ratio_indexed']:.0%}"
                            if v["reference_indexed_cpu_s"] else ""))
            if "baseline" in v:
                b_ = v["baseline"]
                lines.append(f"{'':24s} baseline checkout {b_['scorecard_s']:6.2f} s = {b_['scorecard_rows_per_s']:>9,.0f} rows/s, "
                             f"CPU {b_['cpu_s']:.2f} s; ratio {b_['ratio']:.0%}, with indexes {b_['ratio_indexed']:.0%}; re-import {b_['reimport_s']:.2f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", choices=["small", "large"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="tickets,pull_requests")
    parser.add_argument("--postgres", default=os.environ.get("SCORECARD_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--baseline", default="", help="another checkout whose import runs in the same rounds")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "imports.json"))
    args = parser.parse_args(argv)
    if not shutil.which("sqlite3") and not args.skip_sqlite:
        raise SystemExit("the sqlite3 command-line shell is needed (Debian: apt-get install sqlite3)")
    DATA.mkdir(parents=True, exist_ok=True)
    files = {k: v for k, v in write_files(args.scale).items() if k in args.only.split(",")}
    results: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": args.runs,
                     "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    roots = {"scorecard": ROOT, **({"baseline": Path(args.baseline).resolve()} if args.baseline else {})}
    for root in roots.values():
        warm_up(files, root)
    if not args.skip_sqlite:
        results["sqlite"] = run_sqlite(files, args.runs, roots)
        out.write_text(json.dumps(results, indent=2) + "\n")  # kept if the PostgreSQL part is cut short
    if args.postgres:
        results["postgresql"] = run_postgres(files, args.runs, args.postgres, roots)
    results["load_after"] = os.getloadavg()
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return results


if __name__ == "__main__":
    main()
