import time, resource
t0 = time.perf_counter()
import polars as pl
from config import Config
from connectors.csv.reader import read_csv
from warehouse.schema import TABLES
from warehouse.types import to_storage, polars_schema
p = read_csv("benchmarks/data/csv-large/pull_requests.csv", "pull_requests", Config(), in_key_order=True)
c1 = time.process_time()
rows = p.frames["pull_requests"]
t = TABLES["pull_requests"]
sch = polars_schema(t, rows.columns)
n = 0
for piece in rows.slices():
    piece = piece.cast(sch)
    for s in range(0, piece.height, 16384):
        n += to_storage(piece.slice(s, 16384), t, "postgresql").num_rows
u = resource.getrusage(resource.RUSAGE_SELF)
print(f"rows {n} parse_cpu {c1:.2f} total_cpu {u.ru_utime + u.ru_stime:.2f} (sys {u.ru_stime:.2f}) wall {time.perf_counter() - t0:.2f} peak {u.ru_maxrss/1024:.0f} MB minflt {u.ru_minflt}")
