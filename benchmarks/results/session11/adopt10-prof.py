"""Profile one page's first run after the server's warm-up (AppTest in this process): CPU of the page run,
cProfile of the script thread, and optionally dump what the page shows (tables, metrics, texts, charts).

    python /work/bench/adopt10-prof.py URL PAGE OUT_PREFIX [--dump] [--params k=v,...]
"""
import os
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
import cProfile
import json
import pickle
import pstats
import sys
import threading
import time

url, page, out = sys.argv[1], sys.argv[2], sys.argv[3]
dump = "--dump" in sys.argv
params = {}
if "--params" in sys.argv:
    for kv in sys.argv[sys.argv.index("--params") + 1].split(","):
        k, v = kv.split("=", 1)
        params[k] = v
os.environ["SCORECARD_WAREHOUSE_URL"] = url
os.environ.pop("SCORECARD_CONFIG", None)
sys.path.insert(0, os.getcwd())

from streamlit.testing.v1 import AppTest  # noqa: E402

from app.warmup import warm_up  # noqa: E402

t = time.process_time()
print("warm-up", warm_up(), f"{time.process_time() - t:.2f} CPU-s", flush=True)

APP = os.path.join(os.getcwd(), "app", "streamlit_app.py")
at = AppTest.from_file(APP, default_timeout=600)
for k, v in params.items():
    at.query_params[k] = v
at.run()  # the router's first page (the Scorecard), as a visitor's session begins
assert not at.exception, [e.value for e in at.exception]

profiles = []


def _start(frame, event, arg):
    sys.setprofile(None)
    p = cProfile.Profile()
    profiles.append(p)
    p.enable()


threading.setprofile(_start)
c0, w0 = time.process_time(), time.perf_counter()
at.switch_page(f"app_pages/{page}.py").run()
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
threading.setprofile(None)
assert not at.exception, [e.value for e in at.exception]
print(f"{page}: {cpu:.2f} CPU-s (process), {wall:.2f} s wall", flush=True)
for p in profiles:
    p.disable()
if profiles:
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        stats.add(p)
    stats.dump_stats(out + ".prof")
    stats.sort_stats("cumulative").print_stats(45)

if dump:
    import polars as pl

    def walk(node, out):
        children = getattr(node, "children", None)
        if isinstance(children, dict) and children:
            for key in sorted(children):
                walk(children[key], out)
            return
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append((node.type, proto.SerializeToString(deterministic=True)))

    elements = []
    walk(at.main, elements)
    shown = {
        "elements": elements,
        "tables": [pl.from_pandas(d.value.data if hasattr(d.value, "data") else d.value, include_index=False).to_dicts()
                   for d in at.dataframe],
        "metrics": [(m.label, m.value, m.help) for m in at.metric],
        "texts": [str(x.value) for x in [*at.markdown, *at.caption, *at.subheader, *at.header, *at.title]],
        "charts": [(c.proto.spec, [(d.name, bytes(d.data.data)) for d in c.proto.datasets])
                   for c in at.get("vega_lite_chart")],
    }
    with open(out + ".pkl", "wb") as f:
        pickle.dump(shown, f)
    print("dumped", {k: len(v) for k, v in shown.items()})
