import time, os, sys
sys.path.insert(0, os.getcwd())
from reports.process import reuse_freed_memory; reuse_freed_memory()
from config import Config
from connectors.csv import read_csv
import warehouse.write as W
from warehouse.schema import TABLES
from warehouse.types import to_storage
F = "benchmarks/data/csv-large/pull_requests.csv"
t = TABLES["pull_requests"]
def whole():
    f = read_csv(F, "pull_requests", Config()).frames["pull_requests"]
    f = f.cast(W.polars_schema(t, f.columns)); f = W._sorted(f, ["id"]); W._repeats_adjacent(f, ["id"])
    to_storage(f, t, "sqlite")
def sliced():
    k = read_csv(F, "pull_requests", Config(), in_key_order=True).frames["pull_requests"]
    s = W.polars_schema(t, k.columns)
    for piece in k.slices():
        p = piece.cast(s)
        for a in range(0, p.height, W.COPY_BATCH_ROWS): to_storage(p.slice(a, W.COPY_BATCH_ROWS), t, "sqlite")
for r in range(3):
    for name, fn in (("whole", whole), ("sliced", sliced)) if r % 2 == 0 else (("sliced", sliced), ("whole", whole)):
        c, w = time.process_time(), time.perf_counter(); fn()
        print(name, f"cpu {time.process_time()-c:.2f} wall {time.perf_counter()-w:.2f} load {os.getloadavg()[0]:.1f}", flush=True)
