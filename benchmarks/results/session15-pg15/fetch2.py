import sys, time, resource
from warehouse import open_warehouse, libpq
url, part = sys.argv[1], sys.argv[2]
wh = open_warehouse(url)
lib = libpq.load()
def bcpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split(); return (int(f[11])+int(f[12]))/100
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
for i in range(3):
    c = libpq.connect(lib, wh.arrow_uri())
    pid = c.rows("select pg_backend_pid()")[0][0]
    b0=bcpu(pid); t=time.perf_counter(); c0=cpu()
    rows = c.rows(f"SELECT part, chunk, data FROM cube_chunks WHERE part = '{part}'", bytea_in_place=True)
    print(f"{part}: wall {time.perf_counter()-t:.3f} client cpu {cpu()-c0:.3f} backend cpu {bcpu(pid)-b0:.2f} MB {sum(r[2].size for r in rows)/1e6:.0f}")
    rows=None; c.close()
