"""Every page of the dashboard in a real headless Chromium, against a fresh `streamlit run`.

    python -m benchmarks.pages URL [--starts 3] [--only scorecard,delivery] [--entry serve|script] [--cache-dir DIR] [--out FILE]

For each page of the router (app/streamlit_app.py's PAGES, read from the file) and each of `--starts`
rounds: the warehouse's files are evicted from the page cache (benchmarks/pagecache.py; SQLite only), a
new `streamlit run app/serve.py` (what `make run` starts; `--entry script`: the router
app/streamlit_app.py alone, without the start-up warm-up of app/warmup.py) starts on its own port with a config of its own (the warehouse
URL and a cube cache folder, nothing else: sign-in is off, so everyone is the default `anonymous_role`,
admin, and every page is offered), and once it answers its health check a new browser context (no
HTTP cache, no cookies) opens the page:

- first visit: from `page.goto` until the page's numbers are on screen (`RENDERED` below: Streamlit says
  the script is no longer running, the page's title is shown, no element is stale, every chart and
  table has drawn, and the page's own content is present), held for `SETTLE_MS` so a rerun cannot
  end it early. It includes loading Streamlit's front end, the websocket, the script run (the server's
  cold caches: the cube read from disk, the page's queries) and the browser's drawing;
- warm revisit: `page.goto` of the same URL again in the same context (a new Streamlit session: the
  script runs again, on the server's warm caches).

`--browser returning` opens the page for a visitor who has used the dashboard before the server (re)started:
their browser holds Streamlit's front end, whose hashed scripts the server sends as `immutable, max-age=1
year` (a restart does not change them). Each round then runs a browser with a profile on disk (its HTTP
cache and the scripts it compiled, as a visitor's own browser keeps them), first starts a server on the same
port, opens the page once in that browser (untimed), stops it, and times the first visit against a second
fresh server as above. The default, `new`, is a browser that never opened the dashboard: the first visit also
downloads and compiles the front end (~1.5 CPU-s of Chromium on this machine for an empty page).

Server start: from spawn until the server answers its health check. With app/serve.py that includes the
warm-up it runs before answering (imports, the cube read), so a first visit must be read next to it; the
table prints both and their sum.

The server's CPU seconds (user + system, from /proc) are taken at its health check, after the first visit
and after the warm one: on a busy machine they move much less than wall times. The browser's CPU seconds
over each visit likewise (every Chromium process of the harness): a first visit's wall time is the server's
work, the browser's (loading Streamlit's front end, drawing charts and tables) and waiting (disk, the other
side, a busy machine).

The server's memory: its process tree's resident set (VmRSS of the server and its descendants, from
/proc) sampled every 50 ms from spawn to stop, and the kernel's high-water mark (VmHWM) of the server
process. The single-item pages (Pull request, Deployment, Incident) open with `?id=` of an item from the
warehouse. The cube is built once before the rounds (as `scorecard import`/`sync` leave it), so a
first visit reads a stored cube, as after a real server restart.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from benchmarks.pagecache import evict_warehouse
from warehouse import open_warehouse

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app" / "streamlit_app.py"  # the router: its PAGES literal lists the pages
ENTRIES = {"serve": ROOT / "app" / "serve.py", "script": APP}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 300_000  # a first visit slower than this is recorded as timed out, and the run goes on
SETTLE_MS = 400
# What must be on screen besides the title, per page: the scorecard's and Delivery's tiles (Delivery's two tables
# sit behind closed controls whose rows are sent once opened: app/components.on_open), a single item's subheadings
# (its empty state has none), the definitions' metric headings, every other page's tables.
CONTENT = {"scorecard": '[data-testid="stMetricValue"]', "delivery": '[data-testid="stMetricValue"]', "pr": "h3",
           "deployment": "h3", "incident": "h3", "definitions": "h3"}
TABLE = '[data-testid="stDataFrame"]'
HEADINGS = {"scorecard": "AI impact scorecard"}  # the page's h1 where it is not the menu's title
# The single-item pages and the table their ?id= comes from.
ITEM_TABLES = {"pr": "pull_requests", "deployment": "deployments", "incident": "incidents"}

RENDERED = """([title, content]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return false;
  const h1 = [...main.querySelectorAll('h1')].some(h => h.innerText.trim() === title);
  if (!h1) return false;
  if (main.querySelector('[data-stale="true"]')) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  // (a chart or table inside a closed expander is never drawn until opened: not waited for)
  for (const chart of main.querySelectorAll('[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"]'))
    if (!chart.closest('details:not([open])') && !chart.querySelector('canvas, svg')) return false;
  // a chart drawn as static HTML (app/views/trend_html.py, bars_html.py; sparklines): its plot's image decoded
  for (const image of main.querySelectorAll('[data-testid="stHtml"] img'))
    if (!image.closest('details:not([open])') && !image.complete) return false;
  for (const grid of main.querySelectorAll('[data-testid="stDataFrame"]'))
    if (!grid.closest('details:not([open])') && !grid.querySelector('canvas, table')) return false;
  if (main.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
  return !content || !!main.querySelector(content);
}"""


# Scripts the first visit fetched over the network (not from the browser's cache: transferSize 0).
SCRIPTS_FETCHED = """() => performance.getEntriesByType('resource')
  .filter(e => e.name.split('?')[0].endsWith('.js') && e.transferSize > 0).length"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def router_pages() -> list[dict]:
    """The router's pages as app/streamlit_app.py lists them (its PAGES literal): the script's stem (`path`, the
    page's key in results), title, and `url`, the path a visitor opens: the stem, but "" for the default page,
    which Streamlit serves at the root (its stem's URL answers "Page not found" and then runs the main page)."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
            sections = ast.literal_eval(node.value)
            return [{"path": Path(script).stem, "url": "" if default else Path(script).stem, "title": title,
                     "section": section}
                    for section, entries in sections.items() for script, title, _, _, default in entries]
    raise SystemExit(f"no PAGES in {APP}")


def item_ids(url: str) -> dict[str, str]:
    """One id per single-item page: a merged PR, a production deployment, a resolved incident if any."""
    warehouse = open_warehouse(url)
    queries = {
        "pr": "SELECT id FROM pull_requests WHERE merged_at IS NOT NULL ORDER BY merged_at DESC LIMIT 1",
        "deployment": "SELECT id FROM deployments ORDER BY finished_at DESC LIMIT 1",
        "incident": "SELECT id FROM incidents ORDER BY started_at DESC LIMIT 1",
    }
    try:
        with warehouse.engine.connect() as conn:
            return {page: conn.execute(sa.text(q)).scalar_one() for page, q in queries.items()}
    finally:
        warehouse.engine.dispose()


def write_config(folder: Path, url: str, cache_dir: str) -> Path:
    path = folder / "scorecard.toml"
    path.write_text(f'[warehouse]\nurl = {json.dumps(url)}\ncache_dir = {json.dumps(cache_dir)}\n', encoding="utf-8")
    return path


def build_cube(url: str, cache_dir: str) -> float:
    """The stored cube for the warehouse's data, as the CLI leaves it after an import (untimed setup; in
    a process of its own, so the harness stays small beside the server it measures)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "benchmarks.probes", "product_cold", url, cache_dir], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children (/proc/PID/stat), so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children") if Path(f"/proc/{p}").exists() else []:
            with contextlib.suppress(OSError, ValueError):
                todo += [int(c) for c in task.read_text().split()]
    return pids


def browser_cpu_seconds() -> float:
    """CPU seconds so far of this harness's Chromium (its browser, renderer, GPU and utility processes: the
    descendants of this process named chrom*/headless*), so that a first visit's wall time can be read next
    to what the browser itself spent drawing. A process that exited is counted in its parent's reaped-children
    share (cpu_seconds), so nothing is counted twice."""
    total = 0.0
    for pid in _tree(os.getpid())[1:]:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().startswith(("chrom", "headless")):
                total += cpu_seconds(pid)
    return total


class MemorySampler(threading.Thread):
    """The process tree's total VmRSS every `interval` seconds; `peak_mb` is the largest sample."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb, self.hwm_kb = pid, interval, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, sum(_proc_kb(p, "VmRSS") for p in _tree(self.pid)))
            self.hwm_kb = max(self.hwm_kb, _proc_kb(self.pid, "VmHWM"))
            self.done.wait(self.interval)

    def stop(self) -> dict:
        self.hwm_kb = max(self.hwm_kb, _proc_kb(self.pid, "VmHWM"))
        self.done.set()
        self.join()
        return {"tree_peak_rss_mb": self.peak_kb / 1024, "server_vmhwm_mb": self.hwm_kb / 1024}


@contextlib.contextmanager
def server(config_path: Path, log_path: Path, entry: str = "serve", port: int | None = None):
    """A fresh `streamlit run` on `port` (default: a free one); yields (base URL, seconds to its health check,
    sampler)."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SCORECARD_WAREHOUSE_URL", "PYTHONDONTWRITEBYTECODE")}
    env["SCORECARD_CONFIG"] = str(config_path)
    with log_path.open("w") as out:
        t0 = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ENTRIES[entry]), "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = MemorySampler(process.pid)
        sampler.start()
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                        if answer.status == 200:
                            break
                waited = time.perf_counter() - t0
                if process.poll() is not None or waited > 120:
                    how = (f"it exited with code {process.returncode}" if process.returncode is not None
                           else f"no health check answered in {waited:.0f} s")
                    raise SystemExit(f"streamlit did not start on port {port} ({how}; load {os.getloadavg()[0]:.1f}): "
                                     f"{log_path.read_text()[-2000:]}")
                time.sleep(0.05)
            sampler.started_cpu_s = cpu_seconds(process.pid)
            yield base, time.perf_counter() - t0, sampler
        finally:
            sampler.done.set()
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def visit(page, address: str, title: str, content: str | None) -> float:
    """Seconds from navigation until the page is rendered (RENDERED held for SETTLE_MS)."""
    t0 = time.perf_counter()
    page.goto(address, wait_until="commit")
    while True:
        page.wait_for_function(RENDERED, arg=[title, content], polling=25, timeout=TIMEOUT_MS)
        done = time.perf_counter()
        page.wait_for_timeout(SETTLE_MS)
        if page.evaluate(RENDERED, [title, content]):
            return done - t0


def page_round(new_context, config_path: Path, url: str, cache_dir: str, target: dict, address_suffix: str,
               folder: Path, entry: str = "serve", returning: bool = False, screenshots: str = "") -> dict:
    """One fresh server: evict, start, first visit of `target`, warm revisit; memory over the session.

    `new_context()` gives the browser context the visits run in. `returning`: the visitor has opened the page
    before the server started, so their browser (a profile on disk: its HTTP cache and compiled scripts) holds
    Streamlit's front end (its hashed scripts are served `immutable, max-age=1 year`): a first server on the
    same port serves one untimed visit in the same context, then stops; the timed server starts after it."""
    content, heading = CONTENT.get(target["path"], TABLE), HEADINGS.get(target["path"], target["title"])
    port = free_port()
    context = new_context()
    if returning:
        try:
            with server(config_path, folder / f"streamlit-{target['path']}-before.log", entry, port) as (base, _, sampler):
                before = context.new_page()
                visit(before, f"{base}/{target['url']}{address_suffix}", heading, content)
                before.close()
                sampler.stop()
        except BaseException:
            context.close()
            raise
    evicted = evict_warehouse(url, cache_dir)
    with server(config_path, folder / f"streamlit-{target['path']}.log", entry, port) as (base, started_s, sampler):
        try:
            page = context.new_page()
            address = f"{base}/{target['url']}{address_suffix}"
            cpu = {"server_start_cpu_s": sampler.started_cpu_s}
            try:
                browser_before = browser_cpu_seconds()
                first = visit(page, address, heading, content)
                cpu["first_cpu_s"] = cpu_seconds(sampler.pid) - sampler.started_cpu_s
                cpu["browser_first_cpu_s"] = browser_cpu_seconds() - browser_before
                cpu["scripts_fetched"] = page.evaluate(SCRIPTS_FETCHED)
                if screenshots:  # the first visit as drawn (untimed)
                    Path(screenshots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(screenshots) / f"{target['path']}.png"), full_page=True)
                browser_before = browser_cpu_seconds()
                warm = visit(page, address, heading, content)
                cpu["warm_cpu_s"] = cpu_seconds(sampler.pid) - sampler.started_cpu_s - cpu["first_cpu_s"]
                cpu["browser_warm_cpu_s"] = browser_cpu_seconds() - browser_before
            except PlaywrightTimeout:
                log(f"{target['title']}: not drawn within {TIMEOUT_MS / 1000:.0f} s")
                first = warm = None
            exception = page.locator('[data-testid="stException"]').count()
        finally:
            context.close()
        memory = sampler.stop()
    if exception:
        raise SystemExit(f"the {target['title']} page showed an exception (see {folder})")
    return {"server_start_s": started_s, "first_s": first, "warm_s": warm, **cpu, "evicted_mb": evicted / 1e6,
            "load": os.getloadavg()[0], **memory}


def run(url: str, starts: int, only: list[str] | None = None, cache_dir: str = "", chromium: str = "",
        skip: list[str] | None = None, entry: str = "serve", returning: bool = False, screenshots: str = "",
        cube_build: bool = True) -> dict:

    chromium = chromium or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        raise SystemExit("the page benchmark needs Chromium: apt-get install chromium")
    # An `--only` entry may carry a query (`rollbacks?team=payments`): that page opened with it.
    queries = {}
    for entry_ in only or []:
        path, _, query = entry_.partition("?")
        queries.setdefault(path, []).append(query)
    targets = [{**p, "query": query} for p in router_pages() if p["path"] not in (skip or [])
               for query in (queries.get(p["path"], []) if only else [""])]
    ids = item_ids(url)
    results: dict = {"url": url.split("@")[-1], "entry": entry, "starts": starts,
                     "browser": "returning" if returning else "new", "skipped": skip or [], "load_before": os.getloadavg(), "pages": {}}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        folder = Path(tmp)
        cache_dir = cache_dir or str(folder / "cube")
        config_path = write_config(folder, url, cache_dir)
        results["cube_build_s"] = build_cube(url, cache_dir) if cube_build else None
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        viewport = {"width": 1500, "height": 1000}
        profiles = iter(range(1_000_000))

        def new_context():
            if not returning:
                return browser.new_context(viewport=viewport)
            # A browser of its own with a profile on disk, as a returning visitor's is.
            return playwright.chromium.launch_persistent_context(
                folder / f"profile-{next(profiles)}", executable_path=chromium, args=CHROMIUM_ARGS, viewport=viewport)

        try:
            for target in targets:
                suffix = (f"?{target['query']}" if target["query"] else
                          f"?id={urllib.parse.quote(ids[target['path']])}" if target["path"] in ids else "")
                samples = []
                for _ in range(starts):
                    samples.append(page_round(new_context, config_path, url, cache_dir, target, suffix, folder, entry,
                                              returning, screenshots))
                drawn = [s for s in samples if s["first_s"] is not None] or [{"first_s": None, "warm_s": None}]
                summary = {key: statistics.median(s[key] for s in samples) for key in ("server_start_s", "load")}
                summary.update({key: _median(s.get(key) for s in samples)
                                for key in ("server_start_cpu_s", "first_cpu_s", "warm_cpu_s", "browser_first_cpu_s",
                                            "browser_warm_cpu_s")})
                summary.update(first_s=_median(s["first_s"] for s in drawn), warm_s=_median(s["warm_s"] for s in drawn),
                               timed_out=len(samples) - len([s for s in samples if s["first_s"] is not None]))
                summary.update(tree_peak_rss_mb=max(s["tree_peak_rss_mb"] for s in samples),
                               server_vmhwm_mb=max(s["server_vmhwm_mb"] for s in samples),
                               title=target["title"] + (f" ?{target['query']}" if target["query"] else ""), samples=samples)
                results["pages"][target["path"] + (f"?{target['query']}" if target["query"] else "")] = summary
                log(f"{target['title']}: first visit {_s(summary['first_s'])}, warm {_s(summary['warm_s'])}, "
                    f"server start {summary['server_start_s']:.2f} s, server peak {summary['server_vmhwm_mb']:.0f} MB "
                    f"(load {summary['load']:.1f})")
        finally:
            browser.close()
    pages = results["pages"].values()
    results["slowest_first_s"] = max((p["first_s"] for p in pages if p["first_s"] is not None), default=None)
    results["timed_out"] = sum(p["timed_out"] for p in pages)
    results["server_peak_mb"] = max(max(p["server_vmhwm_mb"], p["tree_peak_rss_mb"]) for p in pages)
    results["load_after"] = os.getloadavg()
    return results


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _s(seconds: float | None) -> str:
    return "timed out" if seconds is None else f"{seconds:.2f} s"


def _cpu(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds:.1f}"


def table(results: dict) -> str:
    lines = [f"{'page':18s} {'first visit':>11s} {'warm':>6s} {'server start':>12s} {'start+first':>11s} "
             f"{'server peak':>11s} {'load':>5s}  server CPU-s: start / first / warm   browser CPU-s: first / warm"]
    for p in results["pages"].values():
        both = None if p["first_s"] is None else p["server_start_s"] + p["first_s"]
        lines.append(f"{p['title']:18s} {_s(p['first_s']):>11s} {_s(p['warm_s']):>6s} {p['server_start_s']:11.2f}s "
                     f"{_s(both):>11s} {max(p['server_vmhwm_mb'], p['tree_peak_rss_mb']):8.0f} MB {p['load']:5.1f}  "
                     f"{_cpu(p.get('server_start_cpu_s'))} / {_cpu(p.get('first_cpu_s'))} / {_cpu(p.get('warm_cpu_s'))}   "
                     f"{_cpu(p.get('browser_first_cpu_s'))} / {_cpu(p.get('browser_warm_cpu_s'))}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the warehouse (sqlite:///… or postgresql://…)")
    parser.add_argument("--starts", type=int, default=3, help="fresh server starts per page (the median is reported)")
    parser.add_argument("--only", default="", help="comma-separated page paths (scorecard,delivery,…), each maybe with "
                        "a query (rollbacks?team=payments); default every page")
    parser.add_argument("--entry", choices=sorted(ENTRIES), default="serve",
                        help="serve: app/serve.py, warm-up at start (default, as `make run`); script: app/streamlit_app.py")
    parser.add_argument("--cache-dir", default="", help="the cube cache folder (default: a temporary one)")
    parser.add_argument("--browser", choices=["new", "returning"], default="new",
                        help="new: a browser that never opened the dashboard (default); returning: one that opened "
                        "it before the server (re)started, so Streamlit's front end is in its cache")
    parser.add_argument("--out", default="")
    parser.add_argument("--screenshots", default="", help="a folder: a full-page screenshot of each page after its first visit")
    parser.add_argument("--no-cube-build", action="store_true", help="the warehouse's cube is current already: skip the "
                        "setup step that reads it and computes every weekly record (minutes at 10M PRs)")
    args = parser.parse_args(argv)
    results = run(args.url, args.starts, [p for p in args.only.split(",") if p], args.cache_dir, entry=args.entry,
                  returning=args.browser == "returning", screenshots=args.screenshots, cube_build=not args.no_cube_build)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return results


if __name__ == "__main__":
    main()
