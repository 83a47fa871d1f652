"""`make bench`: the scorecard at the scale of a large organisation, side by side with a pandas reference.

Every figure is the median of several runs, each in a fresh process (benchmarks/probes.py); ratios
compare the product and the reference measured in the same run. Results print as a table and go to
benchmarks/results/latest.json.

    python -m benchmarks.run [--scale large|small] [--runs 3] [--reuse] [--skip-pandas] [--postgres URL]
                             [--only-cli]

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

from benchmarks import imports

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


def probe(name: str, *args: str, env: dict | None = None) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.probes", name, *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise SystemExit(f"probe {name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def seed(scale: str, path: Path, reuse: bool) -> dict:
    url = f"sqlite:///{path}"
    if reuse and path.exists():
        log(f"reusing {path}")
        return {"url": url, "seconds": None, "bytes": path.stat().st_size}
    for leftover in path.parent.glob(path.name + "*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    log(f"generating the {scale} demo organisation into {path}")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "app.cli", "demo", "--scale", scale, "--end", END], cwd=ROOT, check=True,
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


def postgres_timings(url: str, runs: int, cache_dir: str) -> dict:
    probe("product_cold", url, cache_dir)
    cold = [probe("product_cold", url, cache_dir) for _ in range(runs)]
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


def check_reference(url: str, path: Path, cache_dir: str) -> dict:
    """The pandas reference must agree with the product on the same data before it is timed."""
    import polars as pl

    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        probe("product_records", url, f"{tmp}/product.parquet", cache_dir)
        probe("pandas_cold", str(path), f"{tmp}/pandas.parquet")
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


def scorecard_timings(url: str, path: Path, runs: int, skip_pandas: bool, cache_dir: str, rebuild: bool = True,
                      pandas_runs: int | None = None) -> dict:
    out: dict = {}
    probe("product_cold", url, cache_dir)  # make sure the stored cube exists (the writer builds it after a sync)
    cold = [probe("product_cold", url, cache_dir) for _ in range(runs)]
    out["product_cold"] = {k: median_of(cold, k) for k in
                           ("read_s", "compute_s", "total_s", "import_s", "read_cpu_s", "compute_cpu_s", "total_cpu_s", "peak_mb")}
    log(f"product cold: {out['product_cold']['total_s']:.3f} s (+{out['product_cold']['import_s']:.2f} s imports)")
    if rebuild:
        rebuilt = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory(dir=DATA) as tmp:
                rebuilt.append(probe("product_rebuild", url, tmp))
        out["product_rebuild"] = {k: median_of(rebuilt, k) for k in
                                  ("read_s", "prepare_s", "cube_s", "compute_s", "total_s", "peak_mb")}
        log(f"product cold without a stored cube: {out['product_rebuild']['total_s']:.2f} s")
    out["product_warm"] = probe("product_warm", url, "7", cache_dir)
    log(f"product warm: {out['product_warm']['median_s']:.3f} s")
    if not skip_pandas:
        pandas_cold = [probe("pandas_cold", str(path)) for _ in range(pandas_runs or runs)]
        out["pandas_cold"] = {k: median_of(pandas_cold, k) for k in ("read_s", "compute_s", "total_s", "total_cpu_s", "import_s", "peak_mb")}
        log(f"pandas cold: {out['pandas_cold']['total_s']:.2f} s")
        out["pandas_warm"] = probe("pandas_warm", str(path), str(min(3, pandas_runs or runs)))
        log(f"pandas warm: {out['pandas_warm']['median_s']:.2f} s")
    return out


def cli_timings(url: str, runs: int) -> dict:
    """What a user waits for at the terminal: each command in a new process, Python start-up and imports
    included, output to /dev/null; the median wall time of `runs` and the median CPU time (user + sys,
    all threads) of the same runs, which a busy machine inflates less than wall time. The page cache
    holds the warehouse (the first, untimed run reads it)."""
    exe = Path(sys.executable).with_name("scorecard")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]
    env = {**os.environ, "SCORECARD_WAREHOUSE_URL": url}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: the bytecode cache is written once, then used
    out = {}
    for name, args in (("help", ["--help"]), ("status", ["status"]), ("metrics", ["metrics"]),
                       ("metrics_json_all_weeks", ["metrics", "--format", "json", "--start", START, "--end", END])):
        walls, cpus = [], []
        for i in range(runs + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([*command, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=True)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:  # the first run warms the page cache and writes the bytecode cache
                walls.append(wall)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out[name] = {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus), "runs": runs}
        log(f"scorecard {' '.join(args)}: {out[name]['wall_s']:.2f} s wall, {out[name]['cpu_s']:.2f} s CPU")
    return out


def page_timings(url: str, runs: int) -> dict:
    samples = [probe("page", url, "4") for _ in range(runs)]
    return {"cold_s": median_of(samples, "cold_s"), "warm_s": median_of(samples, "warm_s"), "tiles": samples[0]["tiles"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="large", choices=["small", "large"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="reuse benchmarks/data/<scale>.db if present")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--only-cli", action="store_true", help="only the CLI's commands, from new processes")
    parser.add_argument("--skip-rebuild", action="store_true", help="no timing of the scorecard without a stored cube")
    parser.add_argument("--skip-page", action="store_true", help="no timing of the dashboard page")
    parser.add_argument("--pandas-runs", type=int, help="runs of the pandas reference (default --runs; it takes minutes each)")
    parser.add_argument("--cache-dir", default=str(DATA / "cache"),
                        help="the cube cache folder of every timed process (default benchmarks/data/cache)")
    parser.add_argument("--postgres", default=os.environ.get("SCORECARD_BENCH_POSTGRES_URL", ""),
                        help="also time the scorecard on this PostgreSQL server")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    # Every timed process keeps its cube in the benchmark's own cache folder: the probes take it as an
    # argument, the CLI and the page read it from this configuration file.
    config = DATA / "bench-scorecard.toml"
    config.write_text(f"[warehouse]\ncache_dir = {json.dumps(str(Path(args.cache_dir).resolve()))}\n")
    os.environ["SCORECARD_CONFIG"] = str(config)
    import polars

    results: dict = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "polars": polars.__version__},
        "scale": args.scale, "runs": args.runs, "targets": TARGETS,
    }
    path = DATA / f"{args.scale}.db"
    results["seed"] = seed(args.scale, path, args.reuse)
    url = results["seed"]["url"]
    if args.only_cli:
        results["cli"] = cli_timings(url, max(args.runs, 5))
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "cli.json").write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results["cli"], indent=2))
        return
    if not args.skip_import:
        results["import"] = import_rates(args.scale, args.runs, args.postgres)
    if not args.skip_pandas:
        results["reference_check"] = check_reference(url, path, args.cache_dir)
    results["scorecard"] = scorecard_timings(url, path, args.runs, args.skip_pandas, args.cache_dir, not args.skip_rebuild,
                                             args.pandas_runs)
    results["cli"] = cli_timings(url, max(args.runs, 5))
    small = DATA / "small.db"
    if args.skip_page:
        pass
    elif args.scale == "small":
        results["page"] = {"small": page_timings(url, args.runs)}
    else:
        small_seed = seed("small", small, reuse=True)
        results["page"] = {"small": page_timings(small_seed["url"], args.runs), args.scale: page_timings(url, args.runs)}
    if args.postgres:
        results["postgres"] = {"seed": seed_postgres(args.scale, args.postgres, args.reuse)}
        results["postgres"].update(postgres_timings(results["postgres"]["seed"]["url"], args.runs, args.cache_dir))
        results["postgres"]["seed"]["url"] = results["postgres"]["seed"]["url"].split("@")[-1]  # no credentials
    results["ratios"] = ratios(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


def ratios(results: dict) -> dict:
    s = results["scorecard"]
    if "pandas_cold" not in s:
        return {}
    return {
        "cold_speedup_vs_pandas": s["pandas_cold"]["total_s"] / s["product_cold"]["total_s"],
        **({"cold_speedup_vs_pandas_without_stored_cube": s["pandas_cold"]["total_s"] / s["product_rebuild"]["total_s"],
            "memory_ratio_vs_pandas_without_stored_cube": s["pandas_cold"]["peak_mb"] / s["product_rebuild"]["peak_mb"]}
           if "product_rebuild" in s else {}),
        "warm_speedup_vs_pandas": s["pandas_warm"]["median_s"] / s["product_warm"]["median_s"],
        "memory_ratio_vs_pandas": s["pandas_cold"]["peak_mb"] / s["product_cold"]["peak_mb"],
    }


def table(results: dict) -> str:
    s, t = results["scorecard"], TARGETS
    rows = [("figure", "measured", "target")]
    for backend, reference in (("sqlite", "sqlite3 .import"), ("postgresql", "psql \\copy")):
        for entity, v in results.get("import", {}).get(backend, {}).items():
            rows.append((f"import {entity} ({v['rows']:,} rows), {backend}",
                         f"{v['scorecard_rows_per_s']:,.0f} rows/s = {v['ratio']:.0%} of {reference} ({v['reference_rows_per_s']:,.0f})",
                         f"≥ {t['import_ratio']:.0%}"))
    pc, pr = s["product_cold"], s.get("product_rebuild")
    rows += [
        ("scorecard cold: read stored cube + compute", f"{pc['total_s']:.3f} s (read {pc['read_s']:.3f}, compute {pc['compute_s']:.3f}); "
         f"{pc['total_cpu_s']:.3f} CPU-s", f"≤ {t['cold_s']} s"),
        ("  + Python imports in that new process", f"{pc['import_s']:.2f} s", ""),
        *([("scorecard cold without a stored cube", f"{pr['total_s']:.2f} s (read {pr['read_s']:.2f}, rollbacks {pr['prepare_s']:.2f}, cube {pr['cube_s']:.2f}, compute {pr['compute_s']:.2f})", "")]
          if pr else []),
        ("scorecard warm (data in memory)", f"{s['product_warm']['median_s']:.3f} s ({s['product_warm']['median_cpu_s']:.3f} CPU-s)", f"≤ {t['warm_s']} s"),
        ("peak memory (cold / without stored cube)", f"{pc['peak_mb']:.0f} MB / {pr['peak_mb']:.0f} MB" if pr else f"{pc['peak_mb']:.0f} MB", ""),
    ]
    if "pandas_cold" in s:
        r = results["ratios"]
        rows += [
            ("pandas reference cold", f"{s['pandas_cold']['total_s']:.2f} s (read {s['pandas_cold']['read_s']:.2f}, compute {s['pandas_cold']['compute_s']:.2f}); "
             f"{s['pandas_cold']['total_cpu_s']:.2f} CPU-s", ""),
            ("pandas reference warm", f"{s['pandas_warm']['median_s']:.2f} s", ""),
            ("pandas reference peak memory", f"{s['pandas_cold']['peak_mb']:.0f} MB", ""),
            ("speed-up vs pandas, cold (without stored cube)", f"{r['cold_speedup_vs_pandas']:.1f}×"
             + (f" ({r['cold_speedup_vs_pandas_without_stored_cube']:.1f}×)" if pr else ""), f"≥ {t['speedup_vs_pandas']}×"),
            ("speed-up vs pandas, warm", f"{r['warm_speedup_vs_pandas']:.1f}×", f"≥ {t['speedup_vs_pandas']}×"),
            ("less memory than pandas (without stored cube)", f"{r['memory_ratio_vs_pandas']:.1f}×"
             + (f" ({r['memory_ratio_vs_pandas_without_stored_cube']:.1f}×)" if pr else ""), f"≥ {t['memory_ratio_vs_pandas']}×"),
        ]
    if "postgres" in results:
        pg = results["postgres"]
        rows += [
            ("PostgreSQL: scorecard cold (stored cube)", f"{pg['product_cold']['total_s']:.3f} s", f"≤ {t['cold_s']} s"),
            ("PostgreSQL: cold without a stored cube", f"{pg['product_rebuild']['total_s']:.2f} s (read {pg['product_rebuild']['read_s']:.2f})", ""),
        ]
    for name, c in results.get("cli", {}).items():
        label = {"help": "scorecard --help", "status": "scorecard status", "metrics": "scorecard metrics (default range, table)",
                 "metrics_json_all_weeks": "scorecard metrics --format json, every week"}[name]
        target = {"help": "≤ 0.3 s", "metrics": "≤ 0.8 s"}.get(name, "")
        rows.append((f"{label}, new process", f"{c['wall_s']:.2f} s wall ({c['cpu_s']:.2f} s CPU)", target))
    for name, p in results.get("page", {}).items():
        rows.append((f"scorecard page render, {name} (cold / warm)", f"{p['cold_s']:.2f} s / {p['warm_s']:.3f} s", f"warm ≤ {t['page_warm_s']} s"))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, width)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in width))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
