"""Every weekly record of the benchmark's range (every column of `compute`), written by one checkout and
compared with another's: the check that a change to the compute leaves the large organisation's records
as they were.

    python -m benchmarks.weekly_records write URL CACHE_DIR OUT.parquet     # in each checkout
    python -m benchmarks.weekly_records compare BEFORE.parquet AFTER.parquet

Same records in the same order and columns; floats equal to 1e-9 relative (sums may be added in another
order), everything else — text, counts, status, provisional, nulls — exactly. Prints what differs and
exits 1 when anything does.
"""
from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import polars as pl

from benchmarks.probes import END, START
from config import Config, WarehouseConfig
from metrics.scorecard import compute
from reports.data import load_cube
from warehouse import open_warehouse

REL = 1e-9


def write(url: str, cache_dir: str, out: str) -> None:
    config = Config(warehouse=WarehouseConfig(url=url, cache_dir=cache_dir))
    cube = load_cube(open_warehouse(url), config)
    records = compute(cube, config, grain="week", start=dt.date.fromisoformat(START), end=dt.date.fromisoformat(END))
    records.write_parquet(out)
    print(f"{records.height:,} records → {out}")


def differences(before: pl.DataFrame, after: pl.DataFrame) -> list[str]:
    if before.columns != after.columns:
        return [f"columns {before.columns} != {after.columns}"]
    if before.height != after.height:
        return [f"{before.height:,} records before, {after.height:,} after"]
    found = []
    for column in before.columns:
        x, y = before.get_column(column), after.get_column(column)
        if x.dtype != y.dtype:
            found.append(f"{column}: {x.dtype} != {y.dtype}")
            continue
        nulls = x.is_null().to_numpy() != y.is_null().to_numpy()
        if x.dtype == pl.Float64:
            a, b = x.fill_null(0).to_numpy(), y.fill_null(0).to_numpy()
            equal = (a == b) | np.isclose(a, b, rtol=REL, atol=0) | (np.isnan(a) & np.isnan(b))
        else:
            equal = (x == y).fill_null(True).to_numpy()
        bad = np.flatnonzero(nulls | ~equal)
        if len(bad):
            first = before.row(int(bad[0]), named=True)
            found.append(f"{column}: {len(bad):,} records differ, first {first['metric']} {first['period']} "
                         f"{first['team']} {first['segment']}: {x[int(bad[0])]!r} != {y[int(bad[0])]!r}")
    return found


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "write":
        write(*args)
        return 0
    before, after = (pl.read_parquet(path) for path in args)
    found = differences(before, after)
    for line in found:
        print(line)
    if not found:
        print(f"{after.height:,} records equal in {len(after.columns)} columns (floats to {REL:g} relative)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
