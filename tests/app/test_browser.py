"""The dashboard in a real headless Chromium against `streamlit run` on a free local port: the
scorecard shows five tiles with the metrics package's numbers, choosing a team changes them, the demo's
bad team is two clicks away, and an export downloads a CSV with the metric-output header (and is
audit-logged). Screenshots of every page go to tests/artifacts/ for a person to look at."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from metrics.periods import latest_complete_range
from metrics.registry import METRICS, OUTPUT_COLUMNS
from reports.data import load_cube
from reports.format import fmt_value
from reports.review import review
from warehouse import open_warehouse
from warehouse.schema import audit_log

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TILES = [("ai_merge_rate", "all"), ("rollback_share", "ai"), ("mttr_hours", "all"), ("deflection_rate", "all"),
         ("ai_cost_per_unit", "all")]
TIMEOUT_MS = 60_000

if CHROMIUM is None:
    pytest.skip("the browser test needs Debian's Chromium: apt-get install chromium", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(config_path: Path, log_dir: Path):
    """`streamlit run app/serve.py` (what `make run` starts: the router with its start-up warm-up) with
    `config_path` on a free local port; yields its base URL once it answers its health check, and stops it
    afterwards."""
    port = free_port()
    env = {**os.environ, "SCORECARD_CONFIG": str(config_path)}
    env.pop("SCORECARD_WAREHOUSE_URL", None)
    log = (log_dir / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/serve.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # the warm-up runs before the server answers
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def server(demo_warehouse, tmp_path_factory):
    """The dashboard over the demo warehouse."""
    with streamlit_server(demo_warehouse.config_path, tmp_path_factory.mktemp("streamlit")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def expected_tiles(demo_warehouse, team: str | None) -> list[str]:
    """The tiles: the range records of the review window (the last 13 complete weeks of the range)."""
    wh = open_warehouse(demo_warehouse.url)
    try:
        cube = load_cube(wh, demo_warehouse.config)
    finally:
        wh.engine.dispose()
    now = dt.datetime.now(dt.timezone.utc)
    start, end = latest_complete_range(cube.last_day(), now.date(), "week")
    records = review(cube, demo_warehouse.config, grain="week", start=start, end=end, now=now).records
    who = pl.col("team").is_null() if team is None else pl.col("team") == team
    values = []
    for metric, segment in TILES:
        rows = records.filter((pl.col("metric") == metric) & (pl.col("segment") == segment) & who)
        assert rows["grain"].to_list() == ["range"]
        values.append(fmt_value(rows["value"][-1], METRICS[metric].unit))
    return values


def settle(page) -> None:
    """Wait until Streamlit has finished running the script (it says so, and its status widget is gone:
    right after a navigation the widget is not there yet while the script still runs)."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=TIMEOUT_MS)
    page.wait_for_timeout(600)


def tile_values(page) -> list[str]:
    """The five scorecard tiles (the adoption panel's numbers follow them)."""
    return [v.strip() for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts()][:5]


def screenshot(page, name: str) -> None:
    """The whole page (Streamlit scrolls inside its main block, so the viewport is stretched to it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(1490, 5)  # no tooltip in the picture
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1500, "height": min(max(height + 40, 1000), 8000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1500, "height": 1000})


def open_page(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title, level=1).wait_for()
    settle(page)


def test_scorecard_tiles_team_choice_drill_down_and_export(server, page, demo_warehouse):
    page.goto(server)
    page.locator('[data-testid="stMetricValue"]').nth(4).wait_for()
    settle(page)
    assert tile_values(page) == expected_tiles(demo_warehouse, None)
    # Each tile's sparkline is static HTML (app/views/sparkline.py) that Streamlit's sanitizer kept: the line's image
    # drawn, and a strip per period of the default range (26 weeks) whose hover title is that week's value.
    lines = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stHtml"]')]
        .map(h => h.querySelector('[data-values]')).filter(Boolean).map(d => ({
            drawn: d.querySelector('img').complete && d.querySelector('img').naturalWidth > 0,
            height: d.getBoundingClientRect().height,
            values: JSON.parse(d.dataset.values).length,
            titles: [...d.querySelectorAll('span[title]')].map(s => s.title)}))""")
    assert len(lines) == 5
    for line in lines:
        assert line["drawn"] and line["height"] == 56
        assert line["values"] == len(line["titles"]) == 26 and all(line["titles"])
    screenshot(page, "scorecard")

    # Choosing a team in the sidebar changes every tile to that team's numbers, and the URL keeps it.
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="payments", exact=True).click()
    want = expected_tiles(demo_warehouse, "payments")
    page.wait_for_function(
        "first => document.querySelector('[data-testid=\"stMetricValue\"]')?.innerText.trim() === first",
        arg=want[0])
    settle(page)
    assert tile_values(page) == want
    assert "team=payments" in page.url
    screenshot(page, "scorecard_payments")

    for title, name in [("Incidents & MTTR", "incidents"), ("Support", "support"), ("AI spend", "spend"),
                        ("Delivery", "delivery"), ("Adoption", "adoption"), ("Definitions", "definitions")]:
        open_page(page, title)
        assert "team=payments" in page.url  # the selection follows the user across pages
        screenshot(page, name)

    # An export of the scorecard, with the page's filters: the CSV header is DESIGN's metric output.
    open_page(page, "Export")
    button = page.get_by_role("button", name=re.compile(r"Download [\d,]+ rows as CSV"))
    rows = int(re.search(r"([\d,]+) rows", button.inner_text()).group(1).replace(",", ""))
    screenshot(page, "export")
    with page.expect_download() as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == ",".join(OUTPUT_COLUMNS)
    assert len(lines) == rows + 1
    assert all(",payments," in line for line in lines[1:])  # the team filter applied
    wh = open_warehouse(demo_warehouse.url)
    try:
        with wh.engine.connect() as conn:
            exports = conn.execute(sa.select(audit_log.c.actor, audit_log.c.detail).where(audit_log.c.action == "export")).all()
    finally:
        wh.engine.dispose()
    details = [json.loads(d) for _, d in exports]
    assert {"name": "scorecard", "format": "csv", "rows": rows, "team": "payments",
            "destination": "dashboard download"}.items() <= details[-1].items()
    assert exports[-1].actor == "dashboard:anonymous"  # no sign-in configured


def test_the_team_with_the_bad_ai_rollback_share_is_two_clicks_away(server, page):
    page.goto(server)
    page.locator('[data-testid="stMetricValue"]').nth(4).wait_for()
    settle(page)
    open_page(page, "Rollbacks")  # click 1
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    box = table.bounding_box()
    # Click 2: the first row (worst AI-assisted rollback share first), on its row-selection marker.
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    page.get_by_role("heading", name="By repository").wait_for()
    settle(page)
    assert "team=payments" in page.url
    assert page.get_by_text("Repositories of team payments.").is_visible()
    screenshot(page, "rollbacks")
    # Beside the rollback share: the team's rework and senior review load, down to the rows.
    page.get_by_role("heading", name="Rework and senior review load").scroll_into_view_if_needed()
    for label in ("Rework, AI-assisted PRs", "Senior review load", "Senior reviews of AI PRs"):
        assert page.locator('[data-testid="stMetricLabel"]', has_text=label).first.is_visible()
    page.get_by_role("heading", name="Reworked PRs").scroll_into_view_if_needed()
    settle(page)
    screenshot(page, "team_rework")
    # Every rolled-back PR, the reworked PRs and the reviews behind the senior load sit behind closed controls whose
    # rows the server sends once opened (app/components.on_open): two grids on the page (by team, by repository); the
    # latest 10 rolled-back PRs are a static table, each with its link to the single-PR view.
    grids = page.locator('[data-testid="stDataFrame"]')
    assert grids.count() == 2 and page.locator("details").count() == 3 and not page.locator("details[open]").count()
    preview = page.locator('[data-testid="rowsPreview"]')
    assert preview.locator("tbody tr").count() == 10
    assert preview.locator("tbody tr").first.locator("a", has_text="view").get_attribute("href").startswith("pr?id=")
    rolled = page.locator("details", has_text=re.compile(r"Show all [\d,]+ rolled-back PRs"))
    count = int(re.search(r"Show all ([\d,]+) rolled-back", rolled.inner_text()).group(1).replace(",", ""))
    rolled.locator("summary").click()  # the control reruns alone; the grid appears inside with every rolled-back PR
    rolled.locator('[data-testid="stDataFrame"]').wait_for()
    settle(page)
    assert rolled.locator('[role="grid"]').get_attribute("aria-rowcount") == str(count + 1)  # and the header row
    rolled.locator("summary").click()  # closed again: its grid goes
    settle(page)
    assert grids.count() == 2 and not page.locator("details[open]").count()
    reworked = page.locator("details", has_text=re.compile(r"Show the [\d,]+ reworked PRs"))
    count = int(re.search(r"Show the ([\d,]+) reworked", reworked.inner_text()).group(1).replace(",", ""))
    reworked.locator("summary").click()  # the page reruns; the grid appears inside with every reworked PR
    reworked.locator('[data-testid="stDataFrame"]').wait_for()
    settle(page)
    assert grids.count() == 3 and page.locator("details[open]").count() == 1
    assert reworked.locator('[role="grid"]').get_attribute("aria-rowcount") == str(count + 1)  # and the header row
    screenshot(page, "team_rework_opened")


def test_delivery_page_in_the_browser(server, page, demo_warehouse):
    page.goto(server)
    page.locator('[data-testid="stMetricValue"]').nth(4).wait_for()
    open_page(page, "Delivery")
    labels = [t.strip() for t in page.locator('[data-testid="stMetricLabel"]').all_inner_texts()]
    assert labels[:5] == ["Deployment frequency", "Lead time for changes (median)", "Change failure rate",
                          "Time to restore (mean)", "Rework rate"]
    # The five trend charts are static HTML (app/views/trend_html.py) that Streamlit's sanitizer kept: each plot's
    # image drawn as wide as its column leaves it (two columns of a 1500 px window: over 350 px each), a titled strip
    # per week of the default range (26), month labels; and no Vega chart, so Vega's chart code is never fetched.
    charts = page.evaluate("""() => [...document.querySelectorAll('[data-testid="trendChart"]')].map(d => ({
        drawn: d.querySelector('img').complete && d.querySelector('img').naturalWidth > 0,
        width: d.querySelector('img').getBoundingClientRect().width,
        titles: [...d.querySelectorAll('span[title]')].map(s => s.title),
        months: /(January|February|March|April|May|June|July|August|September|October|November|December)/
            .test(d.innerText)}))""")
    assert len(charts) == 5
    for chart in charts:
        assert chart["drawn"] and 350 < chart["width"] < 750 and chart["months"]
        assert len(chart["titles"]) == 26 and all(re.match(r"\d{4}-\d{2}-\d{2}\n", t) for t in chart["titles"])
    fetched = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert not page.locator(".vega-embed").count() and not any("VegaLiteChart" in name for name in fetched)
    page.get_by_role("heading", name="Incidents and the changes that caused them").scroll_into_view_if_needed()
    caption = page.get_by_text(re.compile(r"([\d,]+) incidents started in the selected periods; [\d,]+ linked"))
    assert caption.is_visible()
    incidents = int(re.match(r"([\d,]+)", caption.inner_text()).group(1).replace(",", ""))
    settle(page)
    screenshot(page, "delivery_incidents")
    # The two tables sit behind closed controls whose rows the server sends once opened (app/components.on_open): no
    # grid on the page; the incidents' download beside its control works without opening it.
    control = page.locator("details", has=page.get_by_text(f"Show the {incidents:,} incidents, each with its cause"))
    assert page.locator("details").count() == 2 and not page.locator("details[open]").count()
    assert not page.locator('[data-testid="stDataFrame"]').count()
    downloads = page.locator('[data-testid="stDownloadButton"]').filter(has_text="Download CSV")
    with page.expect_download() as download:
        downloads.first.click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert download.value.suggested_filename.startswith("incidents_with_causes_") and len(lines) == incidents + 1
    settle(page)
    # A click on the control: the page reruns and the grid appears inside it with every incident.
    control.locator("summary").click()
    grid = control.locator('[data-testid="stDataFrame"]')
    grid.wait_for()
    settle(page)
    assert page.locator("details[open]").count() == 1 and page.locator('[data-testid="stDataFrame"]').count() == 1
    assert grid.locator("canvas, table").count()
    rows = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stDataFrame"] [role="grid"]')]
        .map(g => Number(g.getAttribute('aria-rowcount')))""")
    assert rows == [incidents + 1]  # the header row and every incident
    screenshot(page, "delivery_incidents_opened")


@pytest.fixture(scope="module")
def example_server(demo_warehouse, tmp_path_factory):
    """The dashboard over the demo warehouse with the shipped example config (governance, budgets)."""
    root = tmp_path_factory.mktemp("example")
    config = root / "scorecard.toml"
    config.write_text((ROOT / "scorecard.toml.example").read_text().replace("sqlite:///data/scorecard.db", demo_warehouse.url))
    with streamlit_server(config, root) as base:
        yield base


def shown_filters(page) -> tuple[str, str]:
    """(the scope the page header names, the grain of its period count), as the user reads them."""
    header = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    grain = "month" if re.match(r"\d+ months?,", header) else "week"
    return header.split(" · ")[-1], grain


def test_every_in_app_link_lands_on_the_view_its_url_names(example_server, page):
    from urllib.parse import parse_qs, urlsplit

    checked = []
    for start in ("", "governance"):
        page.goto(f"{example_server}/{start}")
        settle(page)
        page.locator('[data-testid="stMain"] [data-testid="stPageLink"]').first.wait_for()
        count = page.locator('[data-testid="stMain"] [data-testid="stPageLink"]').count()
        assert count >= 2
        for i in range(count):
            page.goto(f"{example_server}/{start}")
            settle(page)
            link = page.locator('[data-testid="stMain"] [data-testid="stPageLink"] a').nth(i)
            label = link.inner_text()
            target = urlsplit(link.get_attribute("href"))
            link.click()
            # Streamlit moves to the page, then writes the link's team into the URL (a default range it leaves
            # out): wait until the URL names the link's page and team (under load the team came after the page
            # had settled once), then for the script to finish.
            page.wait_for_url(lambda u, target=target: urlsplit(u).path.endswith(target.path)
                              and parse_qs(urlsplit(u).query).get("team") == parse_qs(target.query).get("team"),
                              timeout=TIMEOUT_MS)
            settle(page)
            url = urlsplit(page.url)
            query = parse_qs(url.query)
            team = query.get("team", [None])[-1]
            scope, grain = shown_filters(page)
            # The screen says what the URL says, without a reload: the team and the grain.
            assert scope == (f"team {team}" if team else "the whole organisation"), (label, page.url, scope)
            assert grain == query.get("grain", ["week"])[-1], (label, page.url)
            checked.append((start, label, url.path, team, grain))
    # The scorecard's drill-down to the demo's bad team and the governance verdicts' rows all landed.
    assert any(t == "payments" and p.endswith("/rollbacks") for _, _, p, t, _ in checked), checked
    assert any(s == "governance" and g == "month" and t in ("payments", "mobile") for s, _, _, t, g in checked), checked


def test_spend_bars_in_the_browser(server, page):
    page.goto(server)
    page.locator('[data-testid="stMetricValue"]').nth(4).wait_for()
    open_page(page, "AI spend")
    # The stacked bars are static HTML (app/views/stacked_html.py) that Streamlit's sanitizer kept: a segment per tool
    # and week of the default range (26 weeks), each as wide as its band and titled as Vega's tooltip was; stacked
    # within the plot; and no Vega chart, so Vega's chart code is never fetched.
    chart = page.evaluate("""() => { const d = document.querySelector('[data-testid="stackedChart"]');
        const spans = [...d.querySelectorAll('span[title]')];
        const plot = spans[0].parentElement.getBoundingClientRect();
        return {titles: spans.map(s => s.title), plot: [plot.top, plot.bottom, plot.width],
                boxes: spans.map(s => { const r = s.getBoundingClientRect(); return [r.top, r.bottom, r.width]; })}; }""")
    assert chart["titles"] and all(re.fullmatch(r"period: \d{4}-\d{2}-\d{2}\ntool: [^\n]+\ncost_usd: \$[\d,]+\.\d\d", t)
                                   for t in chart["titles"])
    assert len({t.split("\n")[0] for t in chart["titles"]}) == 26
    top, bottom, width = chart["plot"]
    assert width > 600 and all(top - 0.5 <= a <= b <= bottom + 0.5 and 0.8 * width / 26 < w < width / 26
                               for a, b, w in chart["boxes"])
    fetched = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert not page.locator(".vega-embed").count() and not any("VegaLiteChart" in name for name in fetched)
