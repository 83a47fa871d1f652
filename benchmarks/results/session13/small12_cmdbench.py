"""Alternate runs of one command through two checkouts' venvs: wall, CPU (user+sys of the process), load."""
import json, os, statistics, subprocess, sys, time
runs = int(sys.argv[1]); label = sys.argv[2]; args = sys.argv[3:]
sides = {"this": "/work/wt/small12", "main": "/work/wt/small12-base"}
env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
res = {s: [] for s in sides}
for i in range(runs):
    for side, root in sides.items():
        load = os.getloadavg()[0]
        t = time.perf_counter()
        p = subprocess.Popen([f"{root}/.venv/bin/scorecard", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd="/tmp/small12")
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        assert status == 0, p.stderr.read()
        res[side].append({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "load": load})
out = {s: {"wall_median": round(statistics.median(r["wall"] for r in rs), 3), "cpu_median": round(statistics.median(r["cpu"] for r in rs), 3),
           "walls": [round(r["wall"], 2) for r in rs], "cpus": [round(r["cpu"], 3) for r in rs], "loads": [round(r["load"], 1) for r in rs]} for s, rs in res.items()}
print(label, json.dumps(out))
with open(f"/work/wt/small12/benchmarks/results/session13/small12_cmd_{label}.json", "w") as f: json.dump({"args": args, **out}, f, indent=1)
