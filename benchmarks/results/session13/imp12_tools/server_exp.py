"""Backend CPU of COPY variants on a scratch schema (sorted PR rows from /tmp/imp12_prs.bin)."""
import os, sys, time, psycopg
from pathlib import Path
def cpu(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
conn = psycopg.connect("postgresql://postgres@127.0.0.1:5432/imp12_x", autocommit=True)
pid = conn.info.backend_pid
conn.execute("SET max_parallel_maintenance_workers = 0")  # all in this backend, so its CPU is the whole cost
conn.execute("SET maintenance_work_mem = '256MB'")
PART = {
 "rev": "CREATE INDEX rev ON x.pull_requests (merged_at) WHERE reverts_pr_id IS NOT NULL OR revert_ref IS NOT NULL",
 "tools": "CREATE INDEX tools ON x.pull_requests (merged_at, closed_at, id, ai_tools) WHERE ai_tools IS NOT NULL AND ai_tools <> '[]'",
 "unm": "CREATE INDEX unm ON x.pull_requests (created_at) WHERE merged_at IS NULL AND ai_signals IS NOT NULL AND ai_signals <> '[]'",
}
def run(variant):
    conn.execute("DROP SCHEMA IF EXISTS x CASCADE; CREATE SCHEMA x; CREATE TABLE x.pull_requests (LIKE ph_this.pull_requests INCLUDING DEFAULTS INCLUDING CONSTRAINTS); ALTER TABLE x.pull_requests ADD PRIMARY KEY (id)")
    conn.execute("CHECKPOINT")
    conn.execute("BEGIN")
    out = {}
    c = cpu(pid); t = time.perf_counter()
    if variant == "kept":
        for d in PART.values(): conn.execute(d)
    conn.execute("COPY x.pull_requests FROM '/tmp/imp12_prs.bin' (FORMAT binary)")
    out["copy"] = (cpu(pid) - c, time.perf_counter() - t)
    c = cpu(pid); t = time.perf_counter()
    if variant == "after":
        for d in PART.values(): conn.execute(d)
    out["partial_after"] = (cpu(pid) - c, time.perf_counter() - t)
    c = cpu(pid); t = time.perf_counter()
    conn.execute("ANALYZE x.pull_requests")
    out["analyze"] = (cpu(pid) - c, time.perf_counter() - t)
    conn.execute("ROLLBACK")
    return out
for r in range(int(sys.argv[1])):
    for v in (["after", "kept"] if r % 2 == 0 else ["kept", "after"]):
        o = run(v)
        print(v, " ".join(f"{k} cpu {a:.2f} wall {b:.2f}" for k, (a, b) in o.items()), "load", round(os.getloadavg()[0], 1), flush=True)
conn.execute("DROP SCHEMA IF EXISTS x CASCADE")
