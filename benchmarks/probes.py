"""One measurement per fresh process: `python -m benchmarks.probes NAME ARGS...` prints one JSON line.

Each probe times its own phases with perf_counter after its imports (reported apart as `import_s`),
and reports the process's peak resident memory.
"""
from __future__ import annotations

import json
import resource
import statistics
import sys
import time

_T0 = time.perf_counter()
# Each probe imports the code it measures inside its body: a probe's process loads only its own code
# (the product's or the pandas reference's), and `import_s` is that code's import time.

START, END = "2024-02-26", "2026-11-22"  # from the 14th week of the large demo: every record has a baseline


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dates():
    import datetime as dt

    return dt.date.fromisoformat(START), dt.date.fromisoformat(END)


def product_cold(url: str, cache_dir: str = "") -> dict:
    """A new process computing every weekly record of every team and segment from the stored cube, as
    `scorecard export scorecard --grain week` over the whole history does: its memory faulted in ahead
    on another thread while it imports (reports.process.fault_in_ahead), as that command's is."""
    from reports.process import fault_in_ahead

    fault_in_ahead(url)
    from config import Config, WarehouseConfig
    from metrics.scorecard import compute
    from reports.data import load_cube
    from warehouse import open_warehouse

    imported = time.perf_counter()
    config = Config(warehouse=WarehouseConfig(url=url, cache_dir=cache_dir))
    t0, c0 = time.perf_counter(), time.process_time()
    warehouse = open_warehouse(url)
    cube = load_cube(warehouse, config)
    t1, c1 = time.perf_counter(), time.process_time()
    start, end = _dates()
    records = compute(cube, config, grain="week", start=start, end=end)
    t2, c2 = time.perf_counter(), time.process_time()
    # CPU seconds (user + sys, all threads): a busy machine inflates them less than wall time.
    return {"import_s": imported - _T0, "read_s": t1 - t0, "compute_s": t2 - t1, "total_s": t2 - t0,
            "read_cpu_s": c1 - c0, "compute_cpu_s": c2 - c1, "total_cpu_s": c2 - c0,
            "records": records.height, "peak_mb": _peak_mb()}


def product_rebuild(url: str, cache_dir: str) -> dict:
    """The same with no cube on disk: read the tables, decide rollbacks, build the cube, compute."""
    from config import Config, WarehouseConfig
    from metrics.scorecard import compute, prepare
    from reports.data import CUBE_COLUMNS, load_evidence
    from warehouse import open_warehouse

    imported = time.perf_counter()
    config = Config(warehouse=WarehouseConfig(url=url, cache_dir=cache_dir))
    t0 = time.perf_counter()
    evidence = load_evidence(open_warehouse(url), CUBE_COLUMNS)
    t1 = time.perf_counter()
    prepared = prepare(evidence, config)
    t2 = time.perf_counter()
    cube = prepared.cube
    t3 = time.perf_counter()
    start, end = _dates()
    records = compute(cube, config, grain="week", start=start, end=end)
    t4 = time.perf_counter()
    return {"import_s": imported - _T0, "read_s": t1 - t0, "prepare_s": t2 - t1, "cube_s": t3 - t2,
            "compute_s": t4 - t3, "total_s": t4 - t0, "records": records.height, "peak_mb": _peak_mb()}


def product_warm(url: str, runs: str = "5", cache_dir: str = "") -> dict:
    from config import Config, WarehouseConfig
    from metrics.scorecard import compute
    from reports.data import load_cube
    from warehouse import open_warehouse

    config = Config(warehouse=WarehouseConfig(url=url, cache_dir=cache_dir))
    cube = load_cube(open_warehouse(url), config)
    start, end = _dates()
    times, cpu = [], []
    for _ in range(int(runs)):
        t0, c0 = time.perf_counter(), time.process_time()
        compute(cube, config, grain="week", start=start, end=end)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"median_s": statistics.median(times), "median_cpu_s": statistics.median(cpu), "runs": times}


def _pandas_reader():
    """The reference's input read through the product's own reader (reports.data.load_evidence:
    warehouse.read_table, Arrow), then handed to pandas: both sides pay the same read, so the timed
    compute compares computation with computation. Returns the reader (its imports done)."""
    from benchmarks.reference_pandas import COLUMNS, load_frames_from_polars
    from reports.data import load_evidence
    from warehouse import open_warehouse

    return lambda url: load_frames_from_polars(load_evidence(open_warehouse(url), COLUMNS))


def pandas_cold(url: str, out: str = "") -> dict:
    """The reference: what an analyst would compute, from the same warehouse and reader."""
    from benchmarks.reference_pandas import scorecard

    read = _pandas_reader()
    imported = time.perf_counter()
    t0, c0 = time.perf_counter(), time.process_time()
    frames = read(url)
    t1 = time.perf_counter()
    start, end = _dates()
    records = scorecard(frames, grain="week", start=start, end=end)
    t2, c2 = time.perf_counter(), time.process_time()
    if out:
        records.to_parquet(out)
    return {"import_s": imported - _T0, "read_s": t1 - t0, "compute_s": t2 - t1, "total_s": t2 - t0,
            "total_cpu_s": c2 - c0, "records": len(records), "peak_mb": _peak_mb()}


def pandas_warm(url: str, runs: str = "3") -> dict:
    from benchmarks.reference_pandas import scorecard

    frames = _pandas_reader()(url)
    start, end = _dates()
    times = []
    for _ in range(int(runs)):
        t0 = time.perf_counter()
        scorecard(frames, grain="week", start=start, end=end)
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "runs": times}


def product_records(url: str, out: str, cache_dir: str = "") -> dict:
    from config import Config, WarehouseConfig
    from metrics.scorecard import compute, select_output
    from reports.data import load_cube
    from warehouse import open_warehouse

    config = Config(warehouse=WarehouseConfig(url=url, cache_dir=cache_dir))
    start, end = _dates()
    records = select_output(compute(load_cube(open_warehouse(url), config), config, grain="week", start=start, end=end))
    records.write_parquet(out)
    return {"records": records.height}


def import_csv(entity: str, csv_path: str, url: str) -> dict:
    """`scorecard import` of one file into a fresh warehouse, without the cube rebuild that follows."""
    from config import Config
    from connectors.csv import read_csv
    from warehouse import open_warehouse
    from pipeline import ingest

    warehouse = open_warehouse(url)
    t0 = time.perf_counter()
    parsed = read_csv(csv_path, entity, Config())
    t1 = time.perf_counter()
    ingest(warehouse, f"csv:{entity}", parsed.frames)
    t2 = time.perf_counter()
    return {"rows": parsed.rows, "parse_s": t1 - t0, "write_s": t2 - t1, "total_s": t2 - t0,
            "rows_per_s": parsed.rows / (t2 - t0), "peak_mb": _peak_mb()}


def import_cli(entity: str, csv_path: str) -> dict:
    """`scorecard import ENTITY FILE` as a user runs it (the warehouse from $SCORECARD_WAREHOUSE_URL),
    without the scorecard cache rebuild that follows it today (replaced by incremental maintenance
    elsewhere). The parent times the whole process; this reports the phases inside it: start-up (Python,
    the CLI's imports, config, opening the warehouse), parse + validate (`read_csv`), write (the rest of `pipeline.run_source`:
    upsert, sync_runs, audit; the runner parses the file inside its transaction). The process then ends as
    `main()` ends the command's (without the interpreter's teardown when the command allows it)."""
    import connectors.csv.source
    import pipeline
    from app.cli import base, data

    phases: dict = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            phases.setdefault("started", t0)
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = time.perf_counter() - t0
                phases[name.replace("_s", "_cpu_s")] = time.process_time() - c0
        return wrapper

    connectors.csv.source.read_csv = timed("parse_s", connectors.csv.source.read_csv)
    pipeline.run_source = timed("run_s", pipeline.run_source)
    data._refresh_cube = lambda *args: None
    counts = {}
    base.out.print = lambda text, **_: counts.setdefault("lines", []).append(str(text))
    try:
        base.app(["import", entity, csv_path], standalone_mode=False)
    finally:
        done = time.perf_counter()
    return {"startup_s": phases["started"] - _T0, "parse_s": phases["parse_s"],
            "write_s": phases["run_s"] - phases["parse_s"], "parse_cpu_s": phases["parse_cpu_s"],
            "write_cpu_s": phases["run_cpu_s"] - phases["parse_cpu_s"],
            "in_process_s": done - _T0, "printed": counts.get("lines", []), "peak_mb": _peak_mb()}


def page(url: str, runs: str = "4") -> dict:
    """Server-side render of the scorecard page (Streamlit AppTest): first run cold, then warm."""
    import os

    os.environ["SCORECARD_WAREHOUSE_URL"] = url
    from streamlit.testing.v1 import AppTest

    from pathlib import Path

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"), default_timeout=600)
    times = []
    for _ in range(int(runs)):
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            raise RuntimeError(f"the page raised: {at.exception[0].value}")
    return {"cold_s": times[0], "warm_s": statistics.median(times[1:]), "runs": times, "tiles": len(at.metric)}


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    # A probe that stands for a command asks for memory as the command line does (reports/process.py), the
    # pandas reference's too: the same allocator on both sides of a ratio. The page probe runs the
    # dashboard's script, whose server keeps the allocator as it is.
    if name != "page":
        from reports.process import reuse_freed_memory

        reuse_freed_memory()
    print(json.dumps(globals()[name](*args)))
    if name == "import_cli":  # as `main()` ends the command's process (app/cli/base.py): quickly when allowed
        from app.cli import base

        if base._quick_exit:
            base._exit_now(0)
