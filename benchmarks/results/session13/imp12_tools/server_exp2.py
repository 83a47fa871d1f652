import os, sys, time, psycopg
from pathlib import Path
def cpu(pid):
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
conn = psycopg.connect("postgresql://postgres@127.0.0.1:5432/imp12_x", autocommit=True)
pid = conn.info.backend_pid
conn.execute("SET max_parallel_maintenance_workers = 0"); conn.execute("SET maintenance_work_mem = '256MB'")
def run(variant):
    unlogged = "UNLOGGED" if variant == "unlogged" else ""
    conn.execute(f"DROP SCHEMA IF EXISTS x CASCADE; CREATE SCHEMA x; CREATE {unlogged} TABLE x.pull_requests (LIKE ph_this.pull_requests INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    if variant in ("pk", "unlogged"): conn.execute("ALTER TABLE x.pull_requests ADD PRIMARY KEY (id)")
    if variant == "pk_c": conn.execute('ALTER TABLE x.pull_requests ALTER COLUMN id TYPE varchar COLLATE "C"; ALTER TABLE x.pull_requests ADD PRIMARY KEY (id)')
    conn.execute("CHECKPOINT")
    conn.execute("BEGIN")
    l0 = conn.execute("select pg_current_wal_insert_lsn()").fetchone()[0]
    c = cpu(pid); t = time.perf_counter()
    conn.execute("COPY x.pull_requests FROM '/tmp/imp12_prs.bin' (FORMAT binary)")
    out = [("copy", cpu(pid) - c, time.perf_counter() - t)]
    wal = conn.execute("select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (l0,)).fetchone()[0]
    if variant == "nopk":
        c = cpu(pid); t = time.perf_counter()
        conn.execute("ALTER TABLE x.pull_requests ADD PRIMARY KEY (id)")
        out.append(("pk_after", cpu(pid) - c, time.perf_counter() - t))
    conn.execute("ROLLBACK")
    print(variant, " ".join(f"{k} cpu {a:.2f} wall {b:.2f}" for k, a, b in out), "wal MB", round(float(wal) / 1e6), "load", round(os.getloadavg()[0], 1), flush=True)
for v in sys.argv[1:]:
    run(v)
conn.execute("DROP SCHEMA IF EXISTS x CASCADE")
