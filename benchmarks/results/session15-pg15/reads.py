"""Time the reads of a first visit after the warm-up, in a bare process (no Streamlit runtime)."""
import os, sys, time, logging, json
url, page = sys.argv[1], sys.argv[2]
cfg = f"/tmp/pg15/cfg_{abs(hash(url))}.toml"
open(cfg, "w").write(f'[warehouse]\nurl = "{url}"\ncache_dir = "/tmp/pg15/cache"\n')
os.environ["SCORECARD_CONFIG"] = cfg
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
logging.disable(logging.WARNING)
import resource
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
t0 = time.perf_counter(); c0 = cpu()
from app.warmup import warm_up
tim = warm_up()
print(f"warm_up {time.perf_counter()-t0:.2f} s wall {cpu()-c0:.2f} cpu {tim}")
from app import state, sidebar
from reports.filters import Filters
state.row_scope = lambda: None
version = state.current_version()
start, end = sidebar.default_range("week")
f = Filters(grain="week", start=start, end=end, team=None)
def T(name, fn, *a):
    t = time.perf_counter(); c = cpu()
    out = fn(*a)
    print(f"  {name:40s} {time.perf_counter()-t:6.3f} s  cpu {cpu()-c:6.3f}")
    return out
if page == "spend":
    T("spend_alerts", state.spend_alerts, version)
    spend = T("spend_since", state.spend_since, version, f.start)
    print("   spend rows", spend.height, spend.estimated_size()/1e6, "MB")
    T("records", state.records, version, "week", start, end, None)
    T("synced", state.synced, version, "ai_spend")
    T("review", state.review, version, "week", start, end, None)
    u = T("usage_rows", state.usage_rows, version)
    print("   usage rows", u.height, u.estimated_size()/1e6, "MB")
    T("trend_figure", state.trend_figure, version, "week", start, end, None, "ai_cost_per_unit")
    T("cost_per_unit_by_team", state.cost_per_unit_by_team, version, "week", start, end, None)
    from app.views.spend import spend_by, spend_over_time, totals, with_seats
    from app.views.charts import stacked_bars
    T("totals", totals, spend, f)
    ot = T("spend_over_time", spend_over_time, spend, "tool", f)
    T("stacked_bars", stacked_bars, ot, "period", "cost_usd", "tool", "usd")
    b = T("spend_by", spend_by, spend, "tool", f)
    T("with_seats", with_seats, b, spend, u, "tool", f)
elif page == "delivery":
    T("delivery_rows", state.delivery_rows, version, f.start)
print(f"total {time.perf_counter()-t0:.2f} s wall {cpu()-c0:.2f} cpu; maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")
