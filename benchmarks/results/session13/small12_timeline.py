"""CPU/wall timeline of `scorecard import` phases, in-process (the quick exit patched to print first)."""
import os, sys, time, resource, functools, importlib
T0w = time.perf_counter()
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
marks = []
def mark(name): marks.append((name, time.perf_counter() - T0w, cpu()))
mark("start")
real_exit = os._exit
def report():
    prev_w, prev_c = 0, 0
    for name, w, c in marks:
        print(f"{name:34s} wall {w:6.3f} (+{w-prev_w:5.3f})  cpu {c:6.3f} (+{c-prev_c:5.3f})", file=sys.stderr); prev_w, prev_c = w, c
def dump_exit(code):
    mark("exit"); report(); real_exit(code)
os._exit = dump_exit
sys.argv = ["scorecard"] + sys.argv[1:]
import app.cli
mark("import app.cli")
if os.environ.get("PREIMPORT"):
    for m in os.environ["PREIMPORT"].split(","):
        importlib.import_module(m); mark(f"import {m}")
def wrap(mod, name):
    m = importlib.import_module(mod); f = getattr(m, name)
    @functools.wraps(f)
    def w(*a, **k):
        mark(f"> {name}")
        try: return f(*a, **k)
        finally: mark(f"< {name}")
    setattr(m, name, w)
for spec in os.environ.get("WRAP", "").split(","):
    if spec: wrap(*spec.rsplit(":", 1))
app.cli.main()
