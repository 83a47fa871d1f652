"""One page's first run after the server's warm-up, in this process (AppTest): CPU of the page run (process),
cProfile of the script thread, and a dump of what the page shows (every element's proto in the main area,
tables as rows, metrics, texts, charts' specs and data).

    cd CHECKOUT && .venv/bin/python /tmp/gov10/page.py URL PAGE OUT_PREFIX [--params k=v,...] [--no-profile]
"""
import os
import cProfile
import pickle
import pstats
import sys
import threading
import time

url, page, out = sys.argv[1], sys.argv[2], sys.argv[3]
params = {}
if "--params" in sys.argv:
    for kv in sys.argv[sys.argv.index("--params") + 1].split(","):
        k, v = kv.split("=", 1)
        params[k] = v
profile = "--no-profile" not in sys.argv
os.environ["SCORECARD_WAREHOUSE_URL"] = url
os.environ.pop("SCORECARD_CONFIG", None)
sys.path.insert(0, os.getcwd())

from streamlit.testing.v1 import AppTest  # noqa: E402
from app.warmup import warm_up  # noqa: E402

t = time.process_time()
print("warm-up", warm_up(), f"{time.process_time() - t:.2f} CPU-s", flush=True)
at = AppTest.from_file(os.path.join(os.getcwd(), "app", "streamlit_app.py"), default_timeout=900)
for k, v in params.items():
    at.query_params[k] = v
at.switch_page(f"app_pages/{page}.py")  # straight to the page, as the benchmark's URL opens it
# What a real server does at its start (Runtime.__init__), AppTest on its first run: not the page's.
from streamlit.components.v2.component_manager import BidiComponentManager  # noqa: E402
at._bidi_component_manager = BidiComponentManager()
at._bidi_component_manager.discover_and_register_components(start_file_watching=False)
profiles = []


def _start(frame, event, arg):
    sys.setprofile(None)
    p = cProfile.Profile(time.process_time) if "--cpu" in sys.argv else cProfile.Profile()
    profiles.append(p)
    p.enable()


if profile:
    threading.setprofile(_start)
c0, w0 = time.process_time(), time.perf_counter()
at.run()
cpu, wall = time.process_time() - c0, time.perf_counter() - w0
threading.setprofile(None)
assert not at.exception, [e.value for e in at.exception]
import resource  # noqa: E402
print(f"{page} {params}: {cpu:.2f} CPU-s (process), {wall:.2f} s wall, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB", flush=True)
for p in profiles:
    p.disable()
if profiles:
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        stats.add(p)
    stats.dump_stats(out + ".prof")
    stats.sort_stats("cumulative").print_stats(40)

import polars as pl  # noqa: E402


def walk(node, acc):
    children = getattr(node, "children", None)
    if isinstance(children, dict) and children:
        for key in sorted(children):
            walk(children[key], acc)
        return
    proto = getattr(node, "proto", None)
    if proto is not None:
        acc.append((node.type, proto.SerializeToString(deterministic=True)))


elements = []
walk(at.main, elements)
shown = {
    "elements": elements,
    "tables": [pl.from_pandas(d.value.data if hasattr(d.value, "data") else d.value, include_index=False).to_dicts()
               for d in at.main.dataframe],
    "metrics": [(m.label, m.value, m.help) for m in at.main.metric],
    "texts": [str(x.value) for x in [*at.main.markdown, *at.main.caption, *at.main.subheader, *at.main.header,
                                     *at.main.title, *at.main.info, *at.main.success, *at.main.warning]],
    "charts": [(c.proto.spec, [(d.name, bytes(d.data.data)) for d in c.proto.datasets])
               for c in at.main.get("vega_lite_chart")],
}
with open(out + ".pkl", "wb") as f:
    pickle.dump(shown, f)
print("dumped", {k: len(v) for k, v in shown.items()}, "rows", sum(len(t) for t in shown["tables"]))
