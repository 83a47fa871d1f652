"""The server's memory over the warm-up's steps: python mem.py URL (run from a checkout)"""
import os, sys, time, logging
url = sys.argv[1]
os.makedirs("/tmp/pg16/cache", exist_ok=True)
cfg = f"/tmp/pg16/mem_{abs(hash(url))}.toml"
open(cfg, "w").write(f'[warehouse]\nurl = "{url}"\ncache_dir = "/tmp/pg16/cache"\n')
os.environ["SCORECARD_CONFIG"] = cfg
logging.disable(logging.WARNING)
def rss():
    for l in open("/proc/self/status"):
        if l.startswith("VmRSS"): r = int(l.split()[1]) / 1024
        if l.startswith("VmHWM"): h = int(l.split()[1]) / 1024
    return f"rss {r:.0f} MB hwm {h:.0f} MB"
from app import warmup, state
warmup.import_pages(); print("imports", rss())
orig = state.release_freed_memory
def traced():
    orig(); print("  after a step:", rss(), flush=True)
state.release_freed_memory = traced
t = time.perf_counter(); warmup.read_data(); print(f"read_data {time.perf_counter()-t:.2f}s", rss())
warmup.freeze_what_is_loaded(); print("frozen", rss())
