"""The reads of one page's first run after the warm-up, each with wall and CPU: python trace.py URL PAGE [query]"""
import os, sys, time, resource, threading, logging, json
url, page = sys.argv[1], sys.argv[2]
query = sys.argv[3] if len(sys.argv) > 3 else ""
cfg = f"/tmp/pg16/trace_{abs(hash(url))}.toml"
open(cfg, "w").write(f'[warehouse]\nurl = "{url}"\ncache_dir = "/tmp/pg16/cache"\n')
os.environ["SCORECARD_CONFIG"] = cfg
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
logging.disable(logging.WARNING)
def cpu():
    return time.thread_time()
LOG = []
ON = [False]
def wrap(mod, name, label):
    f = getattr(mod, name)
    def g(*a, **k):
        if not ON[0]:
            return f(*a, **k)
        t = time.perf_counter(); c = cpu()
        try:
            return f(*a, **k)
        finally:
            what = ""
            for x in list(a[:3]) + list(k.values()):
                if isinstance(x, str) and ("SELECT" in x.upper() or "INSERT" in x.upper() or "UPDATE" in x.upper()):
                    what = x; break
            LOG.append((t, label, time.perf_counter() - t, cpu() - c, what[:150].replace("\n", " "), threading.current_thread().name))
    setattr(mod, name, g)
import connectorx, warehouse.cube_store as cs, warehouse.libpq as lp, warehouse.read as rd
wrap(connectorx, "read_sql", "cx")
wrap(lp.Connection, "rows", "libpq")
wrap(lp, "connect", "libpq-connect")
import sqlalchemy as sa
from sqlalchemy import event
@event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _b(conn, cursor, statement, parameters, context, executemany):
    conn.info.setdefault("t", []).append((time.perf_counter(), cpu()))
@event.listens_for(sa.engine.Engine, "after_cursor_execute")
def _a(conn, cursor, statement, parameters, context, executemany):
    t, c = conn.info["t"].pop()
    if ON[0]:
        LOG.append((t, "sa", time.perf_counter() - t, cpu() - c, statement[:150].replace("\n", " "), threading.current_thread().name))
@event.listens_for(sa.pool.Pool, "connect")
def _c(dbapi_conn, rec):
    if ON[0]:
        LOG.append((time.perf_counter(), "sa-connect", 0, 0, "", threading.current_thread().name))
from app.warmup import warm_up
t0 = time.perf_counter()
print("warm_up", warm_up(), f"{time.perf_counter()-t0:.2f} s")
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(os.getcwd() + "/app/streamlit_app.py", default_timeout=600)
for pair in filter(None, query.split("&")):
    k, _, v = pair.partition("="); at.query_params[k] = v
at.switch_page(f"app_pages/{page}.py")
ON[0] = True
r0 = resource.getrusage(resource.RUSAGE_SELF); T0 = time.perf_counter()
at.run()
T1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_SELF)
ON[0] = False
print("exception:", [e.value for e in at.exception][:1])
print(f"page run {T1-T0:.3f} s, process cpu {(r1.ru_utime+r1.ru_stime)-(r0.ru_utime+r0.ru_stime):.3f}")
tot = 0
for t, label, wall, c, what, th in sorted(LOG):
    print(f"{t-T0:7.3f} {label:13s} {wall:6.3f} s cpu {c:6.3f} [{th[:12]}] {what}")
    tot += wall
print(f"reads: {len(LOG)}, {tot:.3f} s")
