"""Table of pages_<tag>_<i>_<side>.json: per page and side, each round's first-visit server CPU-s / browser CPU-s /
wall / server peak / load, and the medians. python summ.py TAG"""
import glob, json, re, statistics, sys
tag = sys.argv[1]
rows = {}
for f in sorted(glob.glob(f"pages_{tag}_*_?.json"), key=lambda f: int(re.search(r"_(\d+)_[bm]\.json", f).group(1))):
    side = f[-6]
    for page, r in json.load(open(f))["pages"].items():
        rows.setdefault(page, {}).setdefault(side, []).append(r)
fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
for page, sides in rows.items():
    print(page)
    for side in ("m", "b"):
        rs = sides.get(side, [])
        if not rs: continue
        get = lambda k: [r[k] for r in rs]
        print(f"  {'main' if side == 'm' else 'pg16'}: server first CPU-s {fmt(get('first_cpu_s'))} (med {statistics.median(get('first_cpu_s')):.2f});"
              f" browser {fmt(get('browser_first_cpu_s'))}; wall {fmt(get('first_s'))}; start CPU-s {fmt(get('server_start_cpu_s'))};"
              f" peak MB {', '.join(f'{x:.0f}' for x in get('server_vmhwm_mb'))}; load {', '.join(f'{x:.1f}' for x in get('load'))}")
