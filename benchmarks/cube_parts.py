"""Every part of a warehouse's stored cube, the parts kept beside it (metrics.cube.facts) and the shipping
verdicts (`cube_deployments`), written to Parquet by one checkout and compared with another's: the check
that two ways of building the cube (a rebuild at once, window by window, the upkeep) store the same rows.

    python -m benchmarks.cube_parts write URL OUT_DIR
    python -m benchmarks.cube_parts compare BEFORE_DIR AFTER_DIR

Each part is compared in its stored order and, where that differs, sorted by every column (a part's rows
in another order are the same rows; the readers sort or group them). Floats equal to 1e-9 relative,
everything else exactly. Prints what differs and exits 1 when anything does.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from warehouse import open_warehouse, read_table
from warehouse.cube_chunks import FACT_PARTS
from warehouse.cube_store import read_cube_parts, read_facts


def write(url: str, out: str) -> None:
    warehouse = open_warehouse(url)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    parts = dict(read_cube_parts(warehouse))
    for part in FACT_PARTS:
        parts[part] = read_facts(warehouse, part, dt.date(1900, 1, 1))
    parts["cube_deployments"] = read_table(warehouse, "cube_deployments")
    for name, frame in parts.items():
        frame = frame.with_columns(pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Categorical)
        frame.write_parquet(folder / f"{name}.parquet")
        print(f"{name}: {frame.height:,} rows")


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def compare(before: str, after: str) -> int:
    names = sorted({p.stem for p in Path(before).glob("*.parquet")} | {p.stem for p in Path(after).glob("*.parquet")})
    bad = 0
    for name in names:
        a, b = Path(before) / f"{name}.parquet", Path(after) / f"{name}.parquet"
        if not a.exists() or not b.exists():
            print(f"{name}: only in {'after' if not a.exists() else 'before'}")
            bad += 1
            continue
        x, y = pl.read_parquet(a), pl.read_parquet(b)
        order = "same order"
        try:
            assert_frame_equal(x, y, check_exact=False, rel_tol=1e-9, abs_tol=0)
        except AssertionError:
            order = "other order"
            try:
                assert_frame_equal(_sorted(x), _sorted(y.select(x.columns)), check_exact=False, rel_tol=1e-9, abs_tol=0)
            except AssertionError as exc:
                print(f"{name}: DIFFERS ({x.height:,} rows before, {y.height:,} after): {str(exc)[:600]}")
                bad += 1
                continue
        print(f"{name}: equal, {x.height:,} rows ({order})")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "write":
        write(argv[1], argv[2])
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(argv[1], argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
