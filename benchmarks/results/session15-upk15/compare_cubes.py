"""Every stored cube part, every part kept beside the cube and cube_deployments of two warehouses, equal row for
row (each sorted by all its columns): `python compare_cubes.py DB_A DB_B`."""
import datetime as dt
import sys

import polars as pl
from polars.testing import assert_frame_equal

from reports.derived import stored_cube
from warehouse import open_warehouse, read_table
from warehouse.cube_chunks import FACT_PARTS
from warehouse.cube_store import read_facts

a, b = (open_warehouse(f"sqlite:///{p}") for p in sys.argv[1:3])


def same(name, x, y):
    keys = [c for c in x.columns if x.schema[c] != pl.Object]
    x = x.with_columns(pl.col(pl.Categorical).cast(pl.String)).sort(keys, nulls_last=True)
    y = y.select(x.columns).with_columns(pl.col(pl.Categorical).cast(pl.String)).sort(keys, nulls_last=True)
    assert_frame_equal(x, y, check_exact=True)
    print(f"{name}: {x.height} rows equal")


ca, cb = stored_cube(a), stored_cube(b)
for part in ("ratio", "mean", "values", "spend", "units", "span", "seniors"):
    same(part, getattr(ca, part), getattr(cb, part))
for part in FACT_PARTS:
    same(part, read_facts(a, part, dt.date(1970, 1, 1)), read_facts(b, part, dt.date(1970, 1, 1)))
same("cube_deployments", read_table(a, "cube_deployments"), read_table(b, "cube_deployments"))
