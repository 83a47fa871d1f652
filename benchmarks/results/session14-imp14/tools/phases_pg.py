"""Alternate this checkout and another: import the 1M-PR file into a fresh schema of DB with every statement
logged; print per run: wall, client/server CPU, time to the COPY's start, COPY, index builds, ANALYZE, VACUUM.
  python phases_pg.py DB ROUNDS THIS OTHER"""
import datetime as dt, json, os, re, resource, subprocess, sys, time
from pathlib import Path
this, other = Path(sys.argv[3]), Path(sys.argv[4])
sys.path.insert(0, str(this))
from benchmarks.pg_import_cpu import ServerCpu, psql
db, rounds = sys.argv[1], int(sys.argv[2])
base = f"postgresql://postgres@127.0.0.1:5432/{db}"
LOG = Path("/var/log/postgresql/postgresql-15-main.log")
FILE = os.environ.get("PR_FILE") or str(this / "benchmarks/data/csv-large/pull_requests.csv")
postmaster = int((Path(psql(base, "SHOW data_directory")) / "postmaster.pid").read_text().split()[0])
psql(base, f"ALTER DATABASE {db} SET log_min_duration_statement = 0")
line = re.compile(r"^(\S+ \S+) UTC \[(\d+)\] \S+@(\S+) LOG:  duration: ([\d.]+) ms  (?:statement|execute [^:]*): (.*)")
def cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN); return u.ru_utime + u.ru_stime
results = []
try:
    for r in range(rounds):
        for side, root in ([("this", this), ("other", other)] if r % 2 == 0 else [("other", other), ("this", this)]):
            schema = f"ph_{side}"
            psql(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            url = f"{base}?options=-csearch_path%3D{schema}"
            py = str(root / ".venv/bin/python")
            subprocess.run([py, "-c", f"from warehouse import open_warehouse; open_warehouse({url!r})"], cwd=root, check=True, capture_output=True)
            psql(base, "CHECKPOINT")
            size = LOG.stat().st_size
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env["SCORECARD_WAREHOUSE_URL"] = url
            c0 = cpu(); t0 = time.time(); w0 = time.perf_counter()
            with ServerCpu(db, postmaster) as server:
                p = subprocess.run([py, "-m", "benchmarks.probes", "import_cli", "pull_requests", FILE], cwd=root, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - w0
            client = cpu() - c0
            assert p.returncode == 0, p.stderr[-2000:]
            with LOG.open() as f:
                f.seek(size); text = f.read()
            ph = {"copy": 0.0, "index": 0.0, "analyze": 0.0, "vacuum": 0.0, "count": 0.0}
            copy_start = None
            for l in text.splitlines():
                m = line.match(l)
                if not m or m.group(3) != db: continue
                end = dt.datetime.fromisoformat(m.group(1)).replace(tzinfo=dt.timezone.utc).timestamp()
                d = float(m.group(4)) / 1000; q = m.group(5)
                if "count(*) FILTER" in q: ph["count"] += d
                elif q.startswith("COPY \""):
                    ph["copy"] += d; copy_start = copy_start or end - d
                elif q.startswith("CREATE INDEX") or "ADD CONSTRAINT" in q: ph["index"] += d
                elif q.startswith("ANALYZE"): ph["analyze"] += d
                elif q.startswith("VACUUM"): ph["vacuum"] += d
            row = {"round": r + 1, "side": side, "wall": round(wall, 2), "client_cpu": round(client, 2), "server_cpu": round(server.seconds, 2),
                   "to_copy": round(copy_start - t0, 2) if copy_start else None, **{k: round(v, 2) for k, v in ph.items()},
                   "load": round(os.getloadavg()[0], 1)}
            results.append(row); print(json.dumps(row), flush=True)
finally:
    psql(base, f"ALTER DATABASE {db} RESET log_min_duration_statement")
import statistics
for side in ("this", "other"):
    rows = [x for x in results if x["side"] == side]
    print(side, {k: round(statistics.median(x[k] for x in rows), 2) for k in rows[0] if k not in ("round", "side") and rows[0][k] is not None})
