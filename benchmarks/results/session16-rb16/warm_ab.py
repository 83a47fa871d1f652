"""Scratch (session 16, rb16): the browser's CPU for the same page drawn by main's code and the branch's, interleaved.

Two servers at once (main's checkout and this one, each its own `streamlit run app/serve.py` on the same warehouse
copy), one Chromium with a profile on disk (the front end cached, as a returning visitor's), then N rounds: in each,
a new tab opens the page on one server, then on the other (the order swapped every round), and the browser's CPU
(every Chromium process, /proc) from navigation until the page is drawn (benchmarks.pages RENDERED, held 400 ms) is
recorded, with the server's CPU over the visit. Every visit after the first two is a new session on warm caches:
the server's part is small and the same on both, so the difference is what the browser draws.

    python benchmarks/results/session16-rb16/warm_ab.py URL MAIN_CHECKOUT N OUT.json
"""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from benchmarks.pages import (CHROMIUM_ARGS, RENDERED, SETTLE_MS, browser_cpu_seconds, cpu_seconds, free_port,  # noqa: E402
                              write_config)
import urllib.request  # noqa: E402


def start(checkout: Path, config: Path, log: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SCORECARD_WAREHOUSE_URL", "PYTHONDONTWRITEBYTECODE")}
    env["SCORECARD_CONFIG"] = str(config)
    proc = subprocess.Popen([str(checkout / ".venv/bin/python"), "-m", "streamlit", "run", str(checkout / "app/serve.py"),
                             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=checkout, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(2400):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{checkout}: no health check")


def main(url, main_checkout, rounds, out):
    from playwright.sync_api import sync_playwright
    folder = Path(tempfile.mkdtemp(prefix="warm_ab_"))
    servers = {}
    for side, checkout in (("main", Path(main_checkout)), ("branch", ROOT)):
        (folder / side).mkdir()
        config = write_config(folder / side, url, str(folder / side / "cache"))
        servers[side] = start(checkout, config, folder / f"{side}.log")
    results = {"main": [], "branch": []}
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(str(folder / "profile"), executable_path="/usr/bin/chromium",
                                                           args=CHROMIUM_ARGS, viewport={"width": 1500, "height": 1000})
            for r in range(rounds + 1):
                order = ("main", "branch") if r % 2 == 0 else ("branch", "main")
                for side in order:
                    proc, base = servers[side]
                    page = context.new_page()
                    b0, s0, t0 = browser_cpu_seconds(), cpu_seconds(proc.pid), time.perf_counter()
                    page.goto(f"{base}/rollbacks?team=payments", wait_until="commit")
                    while True:
                        page.wait_for_function(RENDERED, arg=["Rollbacks", '[data-testid="stDataFrame"]'], polling=25,
                                               timeout=300_000)
                        done = time.perf_counter()
                        page.wait_for_timeout(SETTLE_MS)
                        if page.evaluate(RENDERED, ["Rollbacks", '[data-testid="stDataFrame"]']):
                            break
                    row = {"round": r, "wall_s": done - t0, "browser_cpu_s": browser_cpu_seconds() - b0,
                           "server_cpu_s": cpu_seconds(proc.pid) - s0, "load": os.getloadavg()[0]}
                    page.close()
                    if r > 0:  # round 0 warms the front end's cache and each server's caches
                        results[side].append(row)
                    print(side, r, {k: round(v, 2) for k, v in row.items()}, flush=True)
            context.close()
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=15)
    summary = {}
    for side, rows in results.items():
        cpu = sorted(x["browser_cpu_s"] for x in rows)
        summary[side] = {"browser_cpu_median": cpu[len(cpu) // 2], "browser_cpu_mean": sum(cpu) / len(cpu),
                         "wall_median": sorted(x["wall_s"] for x in rows)[len(rows) // 2], "n": len(rows)}
    print(json.dumps(summary, indent=1))
    Path(out).write_text(json.dumps({"rounds": results, "summary": summary}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
