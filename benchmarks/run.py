"""`make bench`: the scorecard at the scale of a large organisation, side by side with a pandas reference.

Every figure is the median of several runs, each in a fresh process (benchmarks/probes.py); ratios
compare the product and the reference measured in the same run. Results print as a table and go to
benchmarks/results/latest.json.

    python -m benchmarks.run [--scale large|small] [--runs 3] [--reuse | --warehouse FILE] [--skip-pandas]
                             [--postgres URL] [--only-cli] [--page-starts 3] [--scaling 100000,3000000]

Cold figures start from a page cache without the warehouse: before each, the SQLite file, its -wal and
the cube cache are evicted (benchmarks/pagecache.py; the run first checks that eviction slows a read of
the file). The dashboard's pages are timed in a real headless Chromium against a fresh `streamlit run`
(benchmarks/pages.py). `--scaling` seeds organisations of other sizes (`scorecard demo --scale large
--prs N`, same shape) and times the CLI, the cold compute, the pages and the server's memory on each.

With a PostgreSQL URL (`--postgres`, or $SCORECARD_BENCH_POSTGRES_URL) the same organisation is also
seeded into its schema `scorecard_bench` and the scorecard timed there.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import imports, pagecache, pages

# polars and SQLAlchemy are imported in the steps that use them: the runner stays light beside the
# fresh processes it times.

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results"
END = "2026-11-22"
START = "2024-02-26"  # as benchmarks.probes: from the 14th week, every record has a baseline
TARGETS = {
    "cold_s": 1.0, "warm_s": 0.3, "speedup_vs_pandas": 6.0, "memory_ratio_vs_pandas": 4.0,
    "import_ratio": 0.6, "page_warm_s": 0.5,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def probe(name: str, *args: str, env: dict | None = None, evict: str = "") -> dict:
    """One probe in a fresh process; with `evict` (a warehouse URL), its files leave the page cache first."""
    if evict:
        pagecache.evict_warehouse(evict)
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.probes", name, *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise SystemExit(f"probe {name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def seed(scale: str, path: Path, reuse: bool, prs: int | None = None) -> dict:
    url = f"sqlite:///{path}"
    if reuse and path.exists():
        log(f"reusing {path}")
        return {"url": url, "seconds": None, "bytes": path.stat().st_size}
    for leftover in path.parent.glob(path.name + "*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    log(f"generating the {scale} demo organisation{f' with {prs:,} PRs' if prs else ''} into {path}")
    t0 = time.perf_counter()
    size = ["--prs", str(prs)] if prs else []
    subprocess.run([sys.executable, "-m", "app.cli", "demo", "--scale", scale, *size, "--end", END], cwd=ROOT, check=True,
                   env={**os.environ, "SCORECARD_WAREHOUSE_URL": url}, stdout=subprocess.DEVNULL)
    return {"url": url, "seconds": time.perf_counter() - t0, "bytes": path.stat().st_size}


def seed_postgres(scale: str, base_url: str, reuse: bool) -> dict:
    """The same organisation in PostgreSQL, in a schema of its own (dropped and refilled unless reused)."""
    import sqlalchemy as sa

    schema = "scorecard_bench"
    admin = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        exists = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": f"{schema}.pull_requests"}).scalar()
        if not (reuse and exists):
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options=-csearch_path%3D{schema}"
    if reuse and exists:
        log("reusing the PostgreSQL benchmark schema")
        return {"url": url, "seconds": None}
    log(f"generating the {scale} demo organisation into PostgreSQL")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app.cli", "demo", "--scale", scale, "--end", END], cwd=ROOT, check=True,
                   env={**os.environ, "SCORECARD_WAREHOUSE_URL": url}, stdout=subprocess.DEVNULL)
    return {"url": url, "seconds": time.perf_counter() - t0}


def postgres_timings(url: str, runs: int) -> dict:
    probe("product_cold", url)
    cold = [probe("product_cold", url) for _ in range(runs)]  # PostgreSQL's buffers cannot be evicted from here
    rebuild = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(dir=DATA) as tmp:
            rebuild.append(probe("product_rebuild", url, tmp))
    out = {
        "product_cold": {k: median_of(cold, k) for k in ("read_s", "compute_s", "total_s", "import_s", "peak_mb")},
        "product_rebuild": {k: median_of(rebuild, k) for k in ("read_s", "prepare_s", "cube_s", "compute_s", "total_s", "peak_mb")},
    }
    log(f"PostgreSQL: cold {out['product_cold']['total_s']:.3f} s, without a stored cube {out['product_rebuild']['total_s']:.2f} s")
    return out


def postgres_small_imports(url: str, runs: int) -> dict:
    """A 1-PR and a 1,000-PR `scorecard import` into the PostgreSQL organisation, each a new process until the
    scorecard is fresh (benchmarks/incremental.py: client CPU, wall, and the server's CPU where it runs here)."""
    out = ROOT / "benchmarks" / "results" / "incremental-postgres.json"
    subprocess.run([sys.executable, "-m", "benchmarks.incremental", "--db", url, "--runs", str(runs), "--out", str(out)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))["this"]


def import_rates(scale: str, runs: int, postgres: str = "") -> dict:
    """`scorecard import` of 2M tickets and 1M PRs against sqlite3 .import (and psql \\copy) of the same
    files in the same run (benchmarks/imports.py says what each figure includes)."""
    files = imports.write_files(scale)
    imports.warm_up(files)
    out = {"sqlite": imports.run_sqlite(files, runs)}
    if postgres:
        out["postgresql"] = imports.run_postgres(files, runs, postgres)
    log(imports.table(out))
    return out


def check_reference(url: str, path: Path) -> dict:
    """The pandas reference must agree with the product on the same data before it is timed."""
    import polars as pl

    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        probe("product_records", url, f"{tmp}/product.parquet")
        probe("pandas_cold", url, f"{tmp}/pandas.parquet")
        product = pl.read_parquet(f"{tmp}/product.parquet")
        reference = pl.read_parquet(f"{tmp}/pandas.parquet").with_columns(pl.col("period").cast(pl.Date))
    keys = ["metric", "period", "team", "segment"]
    joined = product.join(reference, on=keys, how="full", suffix="_ref", nulls_equal=True, coalesce=True)
    missing = joined.filter(pl.col("n").is_null() | pl.col("n_ref").is_null()).height
    numbers = ["value", "numerator", "denominator", "baseline", "ci_low", "ci_high", "median", "p90"]
    differing = joined.filter(
        pl.any_horizontal(
            ((pl.col(c) - pl.col(f"{c}_ref")).abs() > 1e-9 * (1 + pl.col(c).abs())).fill_null(
                pl.col(c).is_null() != pl.col(f"{c}_ref").is_null()
            )
            for c in numbers
        )
        | (pl.col("status") != pl.col("status_ref")).fill_null(True)
        | (pl.col("n") != pl.col("n_ref")).fill_null(True)
    ).height
    result = {"records": product.height, "reference_records": reference.height, "unmatched": missing, "differing": differing}
    if missing or differing:
        raise SystemExit(f"the pandas reference disagrees with the product: {result}")
    log(f"reference agrees with the product on all {product.height:,} records")
    return result


def scorecard_timings(url: str, path: Path, runs: int, skip_pandas: bool) -> dict:
    out: dict = {}
    probe("product_cold", url)  # make sure the stored cube exists (the writer builds it after a sync)
    cold = [probe("product_cold", url, evict=url) for _ in range(runs)]
    out["product_cold"] = {k: median_of(cold, k) for k in ("read_s", "compute_s", "total_s", "import_s", "peak_mb")}
    log(f"product cold: {out['product_cold']['total_s']:.3f} s (+{out['product_cold']['import_s']:.2f} s imports)")
    rebuild = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(dir=DATA) as tmp:
            rebuild.append(probe("product_rebuild", url, tmp, evict=url))
    out["product_rebuild"] = {k: median_of(rebuild, k) for k in
                              ("read_s", "prepare_s", "cube_s", "compute_s", "total_s", "peak_mb")}
    log(f"product cold without a stored cube: {out['product_rebuild']['total_s']:.2f} s")
    out["product_warm"] = probe("product_warm", url, "7")
    log(f"product warm: {out['product_warm']['median_s']:.3f} s")
    if not skip_pandas:
        pandas_cold = [probe("pandas_cold", url, evict=url) for _ in range(runs)]
        out["pandas_cold"] = {k: median_of(pandas_cold, k) for k in ("read_s", "compute_s", "total_s", "import_s", "peak_mb")}
        log(f"pandas cold: {out['pandas_cold']['total_s']:.2f} s")
        out["pandas_warm"] = probe("pandas_warm", url, "3")
        log(f"pandas warm: {out['pandas_warm']['median_s']:.2f} s")
    return out


def cli_command() -> list[str]:
    exe = Path(sys.executable).with_name("scorecard")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]


def cli_env(url: str) -> dict:
    env = {**os.environ, "SCORECARD_WAREHOUSE_URL": url}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: the bytecode cache is written once, then used
    env.pop("SCORECARD_CONFIG", None)
    return env


def timed_cli(args: list[str], url: str, evict: bool) -> tuple[float, float]:
    """Wall and CPU seconds (user + sys, all threads) of one `scorecard ARGS` process, output to /dev/null;
    with `evict`, the warehouse's files leave the page cache first."""
    if evict:
        pagecache.evict_warehouse(url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([*cli_command(), *args], cwd=ROOT, env=cli_env(url), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


CLI_COMMANDS = {  # name → (arguments, whether the page cache is evicted before each run)
    "help": (["--help"], False),
    "status": (["status"], True),
    "metrics": (["metrics"], True),
    "metrics_warm": (["metrics"], False),
    "metrics_json_all_weeks": (["metrics", "--format", "json", "--start", START, "--end", END], True),
}


def cli_timings(url: str, runs: int, names: tuple[str, ...] = tuple(CLI_COMMANDS)) -> dict:
    """What a user waits for at the terminal: each command in a new process, Python start-up and imports
    included; the median wall time of `runs` and the median CPU time of the same runs, which a busy
    machine inflates less than wall time. The first, untimed run writes the bytecode cache and the
    stored cube; the warehouse's files are then evicted from the page cache before each timed run of a
    command that reads them (`metrics_warm`: the same command with them cached)."""
    out = {}
    for name in names:
        args, evict = CLI_COMMANDS[name]
        timed_cli(args, url, evict=False)
        samples = [timed_cli(args, url, evict) for _ in range(runs)]
        out[name] = {"wall_s": statistics.median(w for w, _ in samples), "cpu_s": statistics.median(c for _, c in samples),
                     "runs": runs, "page_cache_evicted": evict, "load": os.getloadavg()[0]}
        log(f"scorecard {' '.join(args)}{' (evicted)' if evict else ''}: {out[name]['wall_s']:.2f} s wall, "
            f"{out[name]['cpu_s']:.2f} s CPU (load {out[name]['load']:.1f})")
    return out


def new_prs_csv(path: Path, count: int, tag: str) -> Path:
    """`count` new merged PRs (ids never seen before) as a `scorecard import pull_requests` file."""
    header = "id,repo,team,number,title,author,created_at,merged_at,merge_commit_sha,labels\n"
    rows = [f"bench:{tag}:{i},acme/payments-svc,payments,{9_000_000 + i},Benchmark change {i},bench-dev,"
            f"2026-11-18T09:00:00Z,2026-11-19T{i % 24:02d}:00:00Z,{tag}{i:08x},\n" for i in range(count)]
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


def import_end_to_end(url: str, runs: int) -> dict:
    """A one-row and a 1,000-PR `scorecard import` into the warehouse (new PRs each time), end to end as
    a user waits until the dashboard's numbers are fresh: a new process (start-up, parse, write, and the
    cube rebuild the CLI runs after every import), the page cache evicted before; then the first read
    of the scorecard by a new process (product_cold: the stored cube found, or rebuilt, and computed)."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (1, 1000):
            samples = []
            for run in range(runs):
                tag = f"{int(time.time() * 1000):x}r{run}"
                csv = new_prs_csv(Path(tmp) / f"prs-{count}-{run}.csv", count, tag)
                wall, cpu = timed_cli(["import", "pull_requests", str(csv)], url, evict=True)
                after = probe("product_cold", url, evict=url)
                samples.append({"wall_s": wall, "cpu_s": cpu, "next_read_s": after["read_s"],
                                "next_compute_s": after["compute_s"], "load": os.getloadavg()[0]})
            out[str(count)] = {k: statistics.median(s[k] for s in samples) for k in samples[0]} | {"samples": samples}
            log(f"import of {count} PR(s) end to end: {out[str(count)]['wall_s']:.2f} s wall ({out[str(count)]['cpu_s']:.2f} s CPU); "
                f"the next process reads the scorecard in {out[str(count)]['next_read_s']:.2f} s")
    return out


def scaling(sizes: list[int], runs: int, page_starts: int, reuse: bool, progress=lambda out: None,
            skip_pages: list[str] | None = None, only_pages: list[str] | None = None) -> dict:
    """The same shape at other sizes: `scorecard metrics` (evicted), the cold compute and every page
    (`progress` is called with the figures so far after each size)."""
    out = {}
    for prs in sizes:
        path = DATA / f"prs{prs}.db"
        url = seed("large", path, reuse, prs=prs)["url"]
        probe("product_cold", url)
        cold = [probe("product_cold", url, evict=url) for _ in range(runs)]
        out[str(prs)] = {
            "prs": pr_count(url),
            "cli": cli_timings(url, runs, ("metrics",)),
            "product_cold": {k: median_of(cold, k) for k in ("read_s", "compute_s", "total_s", "import_s", "peak_mb")},
            # the cube folder the probes above built (building a second one at 3M PRs needs another ~11 GB)
            "pages": pages.run(url, page_starts, only_pages, cache_dir=f"{path}.cache", skip=skip_pages),
        }
        progress(out)
        log(f"{prs:,} PRs: metrics {out[str(prs)]['cli']['metrics']['wall_s']:.2f} s, slowest first visit "
            f"{pages._s(out[str(prs)]['pages']['slowest_first_s'])}, server peak {out[str(prs)]['pages']['server_peak_mb']:.0f} MB")
    return out


def pr_count(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM pull_requests")).scalar_one()
    finally:
        engine.dispose()


STAGES = ("evict_check", "import", "scorecard", "cli", "pages", "import_end_to_end", "postgres", "scaling")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", choices=["small", "large"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="reuse benchmarks/data/<scale>.db if present")
    parser.add_argument("--warehouse", default="", help="an existing SQLite warehouse file to measure instead "
                        "(written to by the end-to-end imports: give a copy)")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"which parts to run, of {', '.join(STAGES)}")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--only-cli", action="store_true", help="only the CLI's commands, from new processes")
    parser.add_argument("--page-starts", type=int, default=3, help="fresh server starts per page")
    parser.add_argument("--scaling", default="100000,3000000", help="other organisation sizes, in PRs ('' for none)")
    parser.add_argument("--scaling-page-starts", type=int, default=1)
    parser.add_argument("--scaling-pages", default="", help="only these pages in the scaling run (default: every page)")
    parser.add_argument("--scaling-skip-pages", default="", help="pages not opened in the scaling run (e.g. one "
                        "whose server would not fit in memory), comma-separated paths")
    parser.add_argument("--out", default=str(RESULTS / "latest.json"))
    parser.add_argument("--postgres", default=os.environ.get("SCORECARD_BENCH_POSTGRES_URL", ""),
                        help="also time the scorecard on this PostgreSQL server")
    args = parser.parse_args(argv)
    stages = set(args.stages.split(",")) - ({"import"} if args.skip_import else set())
    stages = {"cli"} if args.only_cli else stages
    DATA.mkdir(parents=True, exist_ok=True)
    import polars

    results: dict = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "polars": polars.__version__},
        "scale": args.scale, "runs": args.runs, "targets": TARGETS, "load_before": os.getloadavg(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every stage: a run cut short keeps what it measured
        results["load_after"] = os.getloadavg()
        out.write_text(json.dumps(results, indent=2) + "\n")

    path = Path(args.warehouse).resolve() if args.warehouse else DATA / f"{args.scale}.db"
    results["seed"] = seed(args.scale, path, args.reuse or bool(args.warehouse))
    url = results["seed"]["url"]
    if "evict_check" in stages:
        results["evict_check"] = pagecache.check(path)
        log(f"page-cache eviction: a read of {path.name} takes {results['evict_check']['cold_after_evict_s']:.2f} s "
            f"after eviction, {results['evict_check']['warm_s']:.2f} s cached")
        save()
    if "import" in stages:
        results["import"] = import_rates(args.scale, args.runs, args.postgres)
        save()
    if "scorecard" in stages:
        if not args.skip_pandas:
            results["reference_check"] = check_reference(url, path)
        results["scorecard"] = scorecard_timings(url, path, args.runs, args.skip_pandas)
        results["ratios"] = ratios(results)
        save()
    if "cli" in stages:
        results["cli"] = cli_timings(url, max(args.runs, 5))
        save()
    if "pages" in stages:
        results["pages"] = pages.run(url, args.page_starts)
        save()
    if "import_end_to_end" in stages:
        results["import_end_to_end"] = import_end_to_end(url, args.runs)
        save()
    if "postgres" in stages and args.postgres:
        results["postgres"] = {"seed": seed_postgres(args.scale, args.postgres, args.reuse)}
        results["postgres"].update(postgres_timings(results["postgres"]["seed"]["url"], args.runs))
        results["postgres"]["small_imports"] = postgres_small_imports(results["postgres"]["seed"]["url"], args.runs)
        results["postgres"]["seed"]["url"] = results["postgres"]["seed"]["url"].split("@")[-1]  # no credentials
        save()
    if "scaling" in stages and args.scaling:
        sizes = [int(n) for n in args.scaling.split(",")]
        results["scaling"] = scaling(sizes, args.runs, args.scaling_page_starts, reuse=True,
                                     progress=lambda out: (results.update(scaling=out), save()),
                                     skip_pages=[p for p in args.scaling_skip_pages.split(",") if p],
                                     only_pages=[p for p in args.scaling_pages.split(",") if p])
        save()
    print(table(results))


def ratios(results: dict) -> dict:
    s = results["scorecard"]
    if "pandas_cold" not in s:
        return {}
    pr = s["product_rebuild"]
    return {
        # Computation against computation: both read the same tables through the same reader; the product
        # then decides rollbacks, builds its cube and computes, pandas computes.
        "compute_speedup_vs_pandas": s["pandas_cold"]["compute_s"] / (pr["prepare_s"] + pr["cube_s"] + pr["compute_s"]),
        "cold_speedup_vs_pandas": s["pandas_cold"]["total_s"] / s["product_cold"]["total_s"],
        "cold_speedup_vs_pandas_without_stored_cube": s["pandas_cold"]["total_s"] / pr["total_s"],
        "warm_speedup_vs_pandas": s["pandas_warm"]["median_s"] / s["product_warm"]["median_s"],
        "memory_ratio_vs_pandas": s["pandas_cold"]["peak_mb"] / s["product_cold"]["peak_mb"],
        "memory_ratio_vs_pandas_without_stored_cube": s["pandas_cold"]["peak_mb"] / pr["peak_mb"],
    }


CLI_LABELS = {"help": "scorecard --help", "status": "scorecard status", "metrics": "scorecard metrics (default range, table)",
              "metrics_warm": "scorecard metrics, warehouse cached", "metrics_json_all_weeks": "scorecard metrics --format json, every week"}


def table(results: dict) -> str:
    t = TARGETS
    rows = [("figure", "measured", "target")]
    if "evict_check" in results:
        e = results["evict_check"]
        rows.append((f"read {e['mb']:,} MB warehouse file: cached / evicted", f"{e['warm_s']:.2f} s / {e['cold_after_evict_s']:.2f} s", ""))
    for backend, reference in (("sqlite", "sqlite3 .import"), ("postgresql", "psql \\copy")):
        for entity, v in results.get("import", {}).get(backend, {}).items():
            rows.append((f"import {entity} ({v['rows']:,} rows), {backend}",
                         f"{v['scorecard_rows_per_s']:,.0f} rows/s = {v['ratio']:.0%} of {reference} ({v['reference_rows_per_s']:,.0f})",
                         f"≥ {t['import_ratio']:.0%}"))
    for count, v in results.get("import_end_to_end", {}).items():
        rows.append((f"import {count} new PR(s) end to end (+ cube rebuild), evicted", f"{v['wall_s']:.2f} s wall ({v['cpu_s']:.2f} s CPU); next read {v['next_read_s']:.2f} s", ""))
    s = results.get("scorecard")
    if s:
        pc, pr = s["product_cold"], s["product_rebuild"]
        rows += [
            ("scorecard cold, evicted: read stored cube + compute", f"{pc['total_s']:.3f} s (read {pc['read_s']:.3f}, compute {pc['compute_s']:.3f})", f"≤ {t['cold_s']} s"),
            ("  + Python imports in that new process", f"{pc['import_s']:.2f} s", ""),
            ("scorecard cold without a stored cube, evicted", f"{pr['total_s']:.2f} s (read {pr['read_s']:.2f}, rollbacks {pr['prepare_s']:.2f}, cube {pr['cube_s']:.2f}, compute {pr['compute_s']:.2f})", ""),
            ("scorecard warm (data in memory)", f"{s['product_warm']['median_s']:.3f} s", f"≤ {t['warm_s']} s"),
            ("peak memory (cold / without stored cube)", f"{pc['peak_mb']:.0f} MB / {pr['peak_mb']:.0f} MB", ""),
        ]
    if s and "pandas_cold" in s:
        r = results["ratios"]
        rows += [
            ("pandas reference cold, evicted (same reader)", f"{s['pandas_cold']['total_s']:.2f} s (read {s['pandas_cold']['read_s']:.2f}, compute {s['pandas_cold']['compute_s']:.2f})", ""),
            ("pandas reference warm", f"{s['pandas_warm']['median_s']:.2f} s", ""),
            ("pandas reference peak memory", f"{s['pandas_cold']['peak_mb']:.0f} MB", ""),
            ("speed-up vs pandas, computation only", f"{r['compute_speedup_vs_pandas']:.1f}×", f"≥ {t['speedup_vs_pandas']}×"),
            ("speed-up vs pandas, cold (without stored cube)", f"{r['cold_speedup_vs_pandas']:.1f}× ({r['cold_speedup_vs_pandas_without_stored_cube']:.1f}×)", ""),
            ("speed-up vs pandas, warm", f"{r['warm_speedup_vs_pandas']:.1f}×", f"≥ {t['speedup_vs_pandas']}×"),
            ("less memory than pandas (without stored cube)", f"{r['memory_ratio_vs_pandas']:.1f}× ({r['memory_ratio_vs_pandas_without_stored_cube']:.1f}×)", f"≥ {t['memory_ratio_vs_pandas']}×"),
        ]
    if "postgres" in results:
        pg = results["postgres"]
        rows += [
            ("PostgreSQL: scorecard cold (stored cube; buffers not evicted)", f"{pg['product_cold']['total_s']:.3f} s", f"≤ {t['cold_s']} s"),
            ("PostgreSQL: cold without a stored cube", f"{pg['product_rebuild']['total_s']:.2f} s (read {pg['product_rebuild']['read_s']:.2f})", ""),
        ]
        for size, v in pg.get("small_imports", {}).items():
            server = f", server {v['server_cpu_median']:.2f} CPU-s" if "server_cpu_median" in v else ""
            rows.append((f"PostgreSQL: import {size} new PR(s) until fresh", f"{v['wall_median']:.2f} s wall "
                         f"({v['cpu_median']:.2f} s CPU{server}, load {max(v['load']):.1f})", "≤ 1.5 s"))
    for name, c in results.get("cli", {}).items():
        target = {"help": "≤ 0.3 s", "metrics": "≤ 0.8 s"}.get(name, "")
        rows.append((f"{CLI_LABELS[name]}, new process", f"{c['wall_s']:.2f} s wall ({c['cpu_s']:.2f} s CPU, load {c['load']:.1f})", target))
    if "pages" in results:
        for p in results["pages"]["pages"].values():
            rows.append((f"page {p['title']}: first visit after server start / warm", f"{pages._s(p['first_s'])} / {pages._s(p['warm_s'])} (load {p['load']:.1f})", "first ≤ 2 s"))
        rows.append(("dashboard server peak memory", f"{results['pages']['server_peak_mb']:.0f} MB", "< 1 GB"))
    for size, v in results.get("scaling", {}).items():
        rows.append((f"{v['prs']:,} PRs: metrics / cold compute / slowest first visit / server peak",
                     f"{v['cli']['metrics']['wall_s']:.2f} s / {v['product_cold']['total_s']:.2f} s / "
                     f"{pages._s(v['pages']['slowest_first_s'])} / {v['pages']['server_peak_mb']:.0f} MB", ""))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, width)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in width))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
