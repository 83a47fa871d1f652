import os, sys, time, logging
url = sys.argv[1]
cfg = f"/tmp/pg15/mem_{abs(hash(url))}.toml"
open(cfg, "w").write(f'[warehouse]\nurl = "{url}"\ncache_dir = "/tmp/pg15/cache"\n')
os.environ["SCORECARD_CONFIG"] = cfg
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
logging.disable(logging.WARNING)
def rss():
    for l in open("/proc/self/status"):
        if l.startswith("VmRSS"): r = int(l.split()[1]) / 1024
        if l.startswith("VmHWM"): h = int(l.split()[1]) / 1024
    return f"rss {r:.0f} MB hwm {h:.0f} MB"
from app.warmup import warm_up
t = time.perf_counter(); warm_up(); print(f"warm_up {time.perf_counter()-t:.2f}s", rss())
from app import state, sidebar
state.row_scope = lambda: None
v = state.current_version(); start, end = sidebar.default_range("week")
for name, fn, args in [("usage_rows", state.usage_rows, (v,)), ("_spend_alerts", state._spend_alerts, (v,)),
                       ("_spend_since", state._spend_since, (v, start)),
                       ("_adoption_all", state._adoption_all, (v,)), ("_cohort_rows", state._cohort_rows, (v, start)),
                       ("_delivery_facts", state._delivery_facts, (v, start)), ("_spend_since", state._spend_since, (v, start))]:
    t = time.perf_counter(); fn(*args); state.release_freed_memory(); print(f"{name:16s} {time.perf_counter()-t:.2f}s", rss())
