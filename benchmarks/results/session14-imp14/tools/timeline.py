"""Timeline of one `scorecard import` into a fresh schema of DB: every 50 ms, client CPU, server CPU
(backends of DB + parallel workers), the backend's state/wait_event/query head. Usage:
  python timeline.py ROOT DB SCHEMA FILE [entity]"""
import json, os, subprocess, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from benchmarks.pg_import_cpu import ServerCpu, _cpu, psql
import psycopg

root, db, schema, path = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
entity = sys.argv[5] if len(sys.argv) > 5 else "pull_requests"
base = f"postgresql://postgres@127.0.0.1:5432/{db}"
url = f"{base}?options=-csearch_path%3D{schema}"
psql(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
py = str(root / ".venv/bin/python")
subprocess.run([py, "-c", f"from warehouse import open_warehouse; open_warehouse({url!r})"], cwd=root, check=True)
psql(base, "CHECKPOINT")
postmaster = int((Path(psql(base, "SHOW data_directory")) / "postmaster.pid").read_text().split()[0])
mon = psycopg.connect(base, autocommit=True)
lsn0 = mon.execute("select pg_current_wal_lsn()").fetchone()[0]
env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
env["SCORECARD_WAREHOUSE_URL"] = url
t0 = time.perf_counter()
proc = subprocess.Popen([py, "-m", "benchmarks.probes", "import_cli", entity, path], cwd=root, env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
rows = []
server = ServerCpu(db, postmaster)
server._sample(start=True)
monpid = mon.info.backend_pid
while proc.poll() is None:
    t = time.perf_counter() - t0
    c = _cpu(proc.pid) or 0.0
    server._sample()
    s = sum(server.last[p] - server.first.get(p, 0.0) for p in server.last if p != monpid)
    acts = mon.execute("select pid, state, wait_event_type, wait_event, left(query, 60), backend_type from pg_stat_activity "
                       "where datname = %s and pid <> pg_backend_pid()", (db,)).fetchall()
    rows.append((round(t, 3), c, round(s, 3), [a for a in acts if a[1] != 'idle' or a[5] != 'client backend']))
    time.sleep(0.05)
out, err = proc.communicate()
wall = time.perf_counter() - t0
lsn1 = mon.execute("select pg_current_wal_lsn()").fetchone()[0]
wal = mon.execute("select pg_wal_lsn_diff(%s, %s)", (lsn1, lsn0)).fetchone()[0]
print("wall", round(wall, 2), "wal_MB", round(float(wal) / 1e6, 1), "rc", proc.returncode)
print(out.strip().splitlines()[-1] if out.strip() else err[-2000:])
prev = (0, 0, 0)
for t, c, s, acts in rows:
    dt = t - prev[0]
    if dt <= 0: continue
    cu, su = (c - prev[1]) / dt, (s - prev[2]) / dt
    prev = (t, c, s)
    desc = " | ".join(f"{a[1]}/{a[3]}:{(a[4] or '').replace(chr(10),' ')[:40]}" for a in acts if a[5] == 'client backend')
    print(f"{t:6.2f} client {cu:4.2f} server {su:4.2f}  {desc}")
