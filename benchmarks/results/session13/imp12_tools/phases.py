import time, sys
T0 = time.perf_counter()
marks = []
def mark(n): marks.append((n, time.perf_counter() - T0, time.process_time()))
import benchmarks.probes as probes
mark("probes imported")
import app.cli.data as data, app.cli.base as base
mark("cli imported")
import connectors.csv.source as src, pipeline, pipeline.runner as runner
mark("csv+pipeline imported")
def wrap(mod, name):
    f = getattr(mod, name)
    def w(*a, **k):
        mark(f"> {name}")
        try: return f(*a, **k)
        finally: mark(f"< {name}")
    setattr(mod, name, w)
wrap(data, "_config"); wrap(data, "_warehouse"); wrap(src, "read_csv"); wrap(runner, "start_run"); wrap(runner, "upsert_batches"); wrap(runner, "cursors_of"); wrap(runner, "finish_run")
import warehouse.write as w
wrap(w, "_secondary_indexes_built_after")
data._refresh_cube = lambda *a: None
base.out.print = lambda *a, **k: None
base.app(["import", "pull_requests", sys.argv[1]], standalone_mode=False)
mark("end")
for n, t, c in marks: print(f"{t:7.3f} cpu {c:6.3f} {n}")
