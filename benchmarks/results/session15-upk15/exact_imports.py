"""The same imports into two copies of a warehouse, one with each code, then compare_cubes.py:
`python exact_imports.py BASE_DB COPY_BRANCH COPY_MAIN BRANCH_CHECKOUT MAIN_CHECKOUT`. Imports (each `scorecard
import pull_requests FILE` in a fresh process, the CLI's upkeep after it): 1 PR, 1,000 PRs, 1,000 PRs, then 400 of
the last file's PRs again, 300 with their merge moved 30 h earlier and 100 not merged."""
import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

from benchmarks.incremental import write_prs

base, copies, checkouts = sys.argv[1], sys.argv[2:4], sys.argv[4:6]
folder = Path("/tmp/upk15/exact")
folder.mkdir(parents=True, exist_ok=True)
url = f"sqlite:///{base}"
files = []
for n, tag in ((1, "x1"), (1000, "xa"), (1000, "xb")):
    path = folder / f"{tag}.csv"
    write_prs(path, url, n, tag)
    files.append(path)
rows = list(csv.DictReader(files[-1].open()))
moved = []
for i, row in enumerate(rows[:400]):
    row = dict(row)
    if i < 300:
        row["merged_at"] = (dt.datetime.fromisoformat(row["merged_at"]) - dt.timedelta(hours=30)).isoformat()
        row["created_at"] = min(row["created_at"], row["merged_at"])
    else:
        row["merged_at"] = ""
    moved.append(row)
path = folder / "xmoved.csv"
with path.open("w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(moved)
files.append(path)
for copy, checkout in zip(copies, checkouts):
    config = folder / f"{Path(copy).stem}.toml"
    config.write_text(f'[warehouse]\nurl = "sqlite:///{copy}"\ncache_dir = "{folder}/cache-{Path(copy).stem}"\n')
    for f in files:
        subprocess.run([f"{checkout}/.venv/bin/scorecard", "import", "pull_requests", str(f), "--config", str(config)],
                       check=True, cwd=checkout, stdout=subprocess.DEVNULL)
        print(f"{copy}: imported {f.name}", flush=True)
