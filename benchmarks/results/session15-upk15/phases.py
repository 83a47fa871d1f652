"""The upkeep from a fixed cut, phase by phase (CPU-s of the process), run from a checkout's root with its own
.venv: `python phases.py DB CUT RUNS`. Each run sets cube_state.pending_from to CUT and brings the cube up to
date (reports.derived.bring_up_to_date through reports.data.refresh_cube); the functions below are wrapped and
timed, and the slice's start is logged. DB is written (a copy)."""
import collections
import datetime as dt
import logging
import sys
import time

import sqlalchemy as sa

from config import Config, WarehouseConfig
from reports import derived
from reports.data import refresh_cube
from warehouse import open_warehouse

db, cut, runs = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])
spent = collections.defaultdict(float)
calls = collections.Counter()


def wrap(module, name):
    if not hasattr(module, name):
        return
    inner = getattr(module, name)

    def timed(*a, **k):
        t0 = time.process_time()
        try:
            return inner(*a, **k)
        finally:
            spent[name] += time.process_time() - t0
            calls[name] += 1
    setattr(module, name, timed)


for n in ("read_slice", "prepare", "build_cube", "replace_cube", "_with_kept_causes", "_facts", "slice_starts",
          "_earlier_merges", "_identity_prs", "_shipping"):
    wrap(derived, n)
logging.basicConfig(level=logging.INFO, format="  %(message)s")
logging.getLogger("reports.derived").setLevel(logging.DEBUG)
url = f"sqlite:///{db}"
config = Config(warehouse=WarehouseConfig(url=url))
wh = open_warehouse(url)
refresh_cube(wh, config)
for run in range(runs):
    spent.clear(); calls.clear()
    with wh.engine.begin() as conn:
        micros = int((cut - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)).total_seconds() * 1_000_000)
        conn.execute(sa.text("UPDATE cube_state SET pending_from = :p, pending_seq = pending_seq + 1 WHERE id = 1"), {"p": micros})
    t0, w0 = time.process_time(), time.perf_counter()
    what = refresh_cube(wh, config)
    print(f"run {run}: {what} upkeep {time.process_time() - t0:.3f} cpu {time.perf_counter() - w0:.2f} wall")
    for name, s in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:20s} {s:.3f} cpu x{calls[name]}")
