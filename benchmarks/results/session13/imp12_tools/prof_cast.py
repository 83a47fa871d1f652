import time, polars as pl
from pathlib import Path
import connectors.csv.reader as r
from config.model import Config
from warehouse.schema import TABLES
from warehouse.types import polars_schema, to_storage
path = Path("benchmarks/data/csv-large/pull_requests.csv")
ent = r.entity_named("pull_requests")
raw = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False, glob=False, n_rows=400000)
raw, _ = r._check_header(raw, ent, path)
raw = raw.rechunk()
order = raw.select(pl.arg_sort_by("id", multithreaded=False)).to_series()
t = TABLES["pull_requests"]
for k in range(3):
    rows = order.slice(k * 131072, 131072); piece = raw[rows]
    c = time.process_time()
    parsed, problems = r._parse_fields(piece, ent, nul_bytes=False, rows=rows)
    c1 = time.process_time()
    problems += r._row_problems(parsed, piece, ent, rows=rows)
    c2 = time.process_time()
    head = r._to_table(ent, parsed, piece, Config())
    c3 = time.process_time()
    sch = polars_schema(t, head.columns)
    h = head.cast(sch)
    c4 = time.process_time()
    for s in range(0, h.height, 16384):
        to_storage(h.slice(s, 16384), t, "postgresql")
    c5 = time.process_time()
    print(f"parse {c1-c:.3f} rowprob {c2-c1:.3f} to_table {c3-c2:.3f} cast {c4-c3:.3f} to_storage {c5-c4:.3f}")
print({k: (str(head.schema[k]), str(v)) for k, v in sch.items() if head.schema[k] != v})
