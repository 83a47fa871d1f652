"""Screenshots of every dashboard page at 1440×900 and 390×844, for docs/screenshots/ and the README.

    .venv/bin/python -m tools.screenshots [--out docs/screenshots] [--page scorecard ...]

Seeds the demo (fixed end date, the example configuration's governance, budgets and markers) into a
temporary folder, starts `streamlit run` on a free port, and drives Debian's Chromium with Playwright.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from config.load import load_config
from connectors.demo.generator import generate
from pipeline import ingest
from reports.data import refresh_cube
from warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[1]
PAGES = {  # file name → URL path of the page (Streamlit names pages by their script)
    "scorecard": "", "governance": "governance", "rollbacks": "rollbacks", "incidents": "incidents",
    "support": "support", "spend": "spend", "export": "export", "definitions": "definitions", "pr": "pr",
    "deployment": "deployment", "incident": "incident", "delivery": "delivery", "adoption": "adoption",
}
# The single views open on a demo object worth showing: a rolled-back AI PR, the deployment that shipped
# it (rolled back, 12 PRs) and an incident that deployment's neighbour caused (inferred link, its PRs).
DEFAULT_QUERY = {"pr": "id=demo%3Aacme%2Fpayments-svc%235705", "deployment": "id=demo%3Adeploy%3A2990",
                 "incident": "id=demo%3Aincident%3A119"}
SIZES = {"desktop": (1440, 900), "mobile": (390, 844)}
DEMO_END = dt.date(2026, 3, 29)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
log = logging.getLogger("screenshots")


def seed(folder: Path) -> Path:
    """The demo warehouse with the example configuration (its [warehouse] pointed into `folder`)."""
    example = (ROOT / "scorecard.toml.example").read_text(encoding="utf-8")
    url = f"sqlite:///{folder / 'warehouse.db'}"
    config_path = folder / "scorecard.toml"
    config_path.write_text(example.replace('url = "sqlite:///data/scorecard.db"', f'url = "{url}"', 1), encoding="utf-8")
    config = load_config(config_path, env={})
    wh = open_warehouse(url)
    try:
        ingest(wh, "demo", generate("small", end=DEMO_END), action="demo")
        refresh_cube(wh, config)
    finally:
        wh.engine.dispose()
    return config_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(config_path: Path):
    port = free_port()
    env = {**os.environ, "SCORECARD_CONFIG": str(config_path)}
    env.pop("SCORECARD_WAREHOUSE_URL", None)
    logfile = (config_path.parent / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        logfile.close()


def wait_for_page(page) -> None:
    page.wait_for_selector("[data-testid='stSidebar']", state="attached", timeout=90_000)
    # Streamlit draws skeletons until the script run has produced every element.
    for _ in range(360):
        busy = page.locator("[data-testid='stSkeleton']").count() + page.locator("[data-testid='stStatusWidget']").count()
        if busy == 0:
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(int(os.environ.get("SCREENSHOT_SETTLE_MS", "8000")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--page", action="append", choices=list(PAGES))
    parser.add_argument("--query", default="", help="extra query string for every page, e.g. team=payments")
    parser.add_argument("--tall", type=int, default=0, help="a desktop viewport this tall instead (to read a whole page)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp:
        config_path = seed(Path(tmp))
        with server(config_path) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            sizes = {"tall": (1440, args.tall)} if args.tall else SIZES
            for size, (width, height) in sizes.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                for name in args.page or PAGES:
                    query = args.query or DEFAULT_QUERY.get(name, "")
                    page.goto(f"{base}/{PAGES[name]}" + (f"?{query}" if query else ""))
                    wait_for_page(page)
                    target = out / f"{name}-{size}.png"
                    page.screenshot(path=str(target))
                    log.info("%s", target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
