import time, sys
t0 = time.perf_counter(); c0 = time.process_time()
def mark(name):
    global t0, c0
    t, c = time.perf_counter(), time.process_time()
    print(f"{name:30s} wall {t - t0:6.3f} cpu {c - c0:6.3f}", flush=True)
    t0, c0 = t, c
import polars as pl, pyarrow
from pathlib import Path
import connectors.csv.reader as r
from config.model import Config
mark("imports")
path = Path("benchmarks/data/csv-large/pull_requests.csv")
ent = r.entity_named("pull_requests")
nul = r._has_nul_byte(path); mark("nul")
raw = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False, glob=False); mark("polars read_csv")
short = raw.get_column(raw.columns[-1]).null_count() and r._may_have_short_rows(path, raw.width); mark(f"short rows check {short}")
raw2, w = r._check_header(raw, ent, path); mark("check_header(blank_to_null)")
raw3 = raw2.rechunk(); mark("rechunk")
order = raw3.select(pl.arg_sort_by("id", multithreaded=False)).to_series(); mark("arg_sort")
ids = raw3.get_column("id"); ordered = ids.gather(order); mark("gather ids")
rep = ordered.slice(1).eq(ordered.slice(0, len(ordered) - 1)).any(); mark("repeat check")
cfg = Config()
rows = order.slice(0, r.SLICE_ROWS); piece = raw3[rows]; mark("slice gather")
parsed, problems = r._parse_fields(piece, ent, nul_bytes=nul, rows=rows); mark("parse_fields")
problems += r._row_problems(parsed, piece, ent, rows=rows); mark("row problems")
head = r._to_table(ent, parsed, piece, cfg); mark("to_table")
from warehouse.types import to_storage
from warehouse.schema import TABLES
from warehouse.types import polars_schema
t = TABLES["pull_requests"]
h = head.cast(polars_schema(t, head.columns)); mark("cast")
for s in range(0, h.height, 16384):
    to_storage(h.slice(s, 16384), t, "postgresql")
mark("to_storage x8")
