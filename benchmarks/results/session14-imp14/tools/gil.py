import threading, time, polars as pl
import connectors.csv.reader as r
from pathlib import Path
P = "benchmarks/data/csv-large/pull_requests.csv"
def spin(sec):
    n = 0; t = time.perf_counter()
    while time.perf_counter() - t < sec: n += 1
    return n
base = spin(1.0); print("alone, loops/s", base, flush=True)
for name, fn in (("_has_nul_byte", lambda: r._has_nul_byte(Path(P))), ("pl.read_csv", lambda: pl.read_csv(P, infer_schema=False))):
    done = threading.Event()
    def work():
        t = time.perf_counter(); fn(); print(f"  {name} took {time.perf_counter()-t:.2f}s", flush=True); done.set()
    th = threading.Thread(target=work); th.start()
    n = 0; t = time.perf_counter()
    while not done.is_set(): n += 1
    el = time.perf_counter() - t
    print(name, "main loops/s while it ran", int(n / el), "=", round(n / el / base, 2), "of alone", flush=True)
    th.join()
