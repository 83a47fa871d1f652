"""Step timings of one `scorecard import pull_requests FILE` into SQLite at $SCORECARD_WAREHOUSE_URL (in-process)."""
import os, sys, time, resource, threading, json
T0 = time.perf_counter()
sys.path.insert(0, os.getcwd())
marks = []
from reports.process import reuse_freed_memory; reuse_freed_memory()
def wrap(mod, name, label=None):
    fn = getattr(mod, name)
    def w(*a, **k):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return fn(*a, **k)
        finally:
            marks.append((label or name, round(t0 - T0, 3), round(time.perf_counter() - t0, 3), round(time.process_time() - c0, 3)))
    setattr(mod, name, w)
import warehouse.write as W, connectors.csv.reader as R, connectors.csv.source as S
from app.cli import base, data
wrap(S, "read_csv")
for n in ("_sorted", "_build_sqlite_indexes", "to_storage", "_is_empty"):
    if hasattr(W, n): wrap(W, n)
# time each cursor execute that is slow
orig = W._adbc_connection
import contextlib
@contextlib.contextmanager
def conn(wh):
    with orig(wh) as cur:
        ex, ing = cur.execute, cur.adbc_ingest
        def e(sql, *a, **k):
            t0, c0 = time.perf_counter(), time.process_time()
            try: return ex(sql, *a, **k)
            finally:
                d = time.perf_counter() - t0
                if d > 0.02: marks.append(("SQL " + sql[:70], round(t0 - T0, 3), round(d, 3), round(time.process_time() - c0, 3)))
        def i(*a, **k):
            t0, c0 = time.perf_counter(), time.process_time()
            try: return ing(*a, **k)
            finally: marks.append(("adbc_ingest " + str(a[0]), round(t0 - T0, 3), round(time.perf_counter() - t0, 3), round(time.process_time() - c0, 3)))
        cur.execute, cur.adbc_ingest = e, i
        yield cur
    marks.append(("closed", round(time.perf_counter() - T0, 3), 0, 0))
W._adbc_connection = conn
data._refresh_cube = lambda *a: None
base.app(["import", "pull_requests", sys.argv[1]], standalone_mode=False)
r = resource.getrusage(resource.RUSAGE_SELF)
for m in marks: print(*m, sep="\t")
print("total", round(time.perf_counter() - T0, 3), "cpu", round(r.ru_utime + r.ru_stime, 3), "load", os.getloadavg()[0])
os._exit(0)
