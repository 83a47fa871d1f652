import sys, time, os, adbc_driver_sqlite.dbapi as d
c = d.connect("/tmp/imp16/base.db", autocommit=True); cur = c.cursor()
cur.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='pull_requests' AND sql IS NOT NULL ORDER BY name")
idx = cur.fetchall()
for threads in [int(x) for x in sys.argv[1:]]:
    cur.execute("BEGIN IMMEDIATE")
    for n, _ in idx: cur.execute(f'DROP INDEX "{n}"')
    cur.execute("PRAGMA cache_size=-2000"); cur.execute("PRAGMA temp_store=FILE"); cur.execute(f"PRAGMA threads={threads}")
    t0, c0 = time.perf_counter(), time.process_time(); out = []
    for n, s in idx:
        a, b = time.perf_counter(), time.process_time(); cur.execute(s); out.append(f"{n[16:]} {time.perf_counter()-a:.2f}/{time.process_time()-b:.2f}")
    print(f"threads={threads}: {time.perf_counter()-t0:.2f} s wall {time.process_time()-c0:.2f} CPU-s load {os.getloadavg()[0]:.1f} |", "; ".join(out), flush=True)
    cur.execute("ROLLBACK")
