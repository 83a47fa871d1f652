"""The benchmark harness at toy scale: what it measures is real (the page is drawn, the imported PRs
land, the files are the warehouse's), never how fast. make bench runs it at full size."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks import pagecache, pages, run
from connectors.demo.generator import SCALES, resized
from tests.app.conftest import seed_demo

ROOT = Path(__file__).resolve().parents[2]


def test_resized_keeps_the_large_shape():
    # 100,000 of the large scale's 1,000,000 PRs is a tenth: 300,000 deployments → 30,000, 50,000
    # incidents → 5,000, 2,000,000 tickets → 200,000; 50 teams, 400 repos, 156 weeks, 90 spend rows kept.
    small = resized(SCALES["large"], 100_000)
    assert (small.prs, small.deployments, small.incidents, small.tickets) == (100_000, 30_000, 5_000, 200_000)
    assert (small.teams, small.repos, small.weeks, small.spend_rows_per_team_day) == (50, 400, 156, 90)


def test_warehouse_files_are_the_database_its_wal_and_the_cube_cache(tmp_path):
    db = tmp_path / "w.db"
    db.write_bytes(b"x" * 1000)
    Path(f"{db}-wal").write_bytes(b"y" * 200)
    cache = tmp_path / "cube" / "abc"
    cache.mkdir(parents=True)
    (cache / "values.arrow").write_bytes(b"z" * 30)
    (tmp_path / "other.db").write_bytes(b"not this one")
    files = pagecache.warehouse_files(f"sqlite:///{db}", tmp_path / "cube")
    assert files == [db, Path(f"{db}-wal"), cache / "values.arrow"]
    assert pagecache.evict(files) == 1000 + 200 + 30
    assert pagecache.warehouse_files("postgresql://h/db") == []  # a server's files are not ours to evict


def test_the_router_pages_are_every_page_script():
    listed = {p["path"] for p in pages.router_pages()}
    assert listed == {p.stem for p in (ROOT / "app" / "app_pages").glob("*.py")}


def test_the_default_page_is_opened_at_the_root():
    # Streamlit serves the default page (the Scorecard) at "/": its stem's URL shows "Page not found" first.
    urls = {p["path"]: p["url"] for p in pages.router_pages()}
    assert urls["scorecard"] == ""
    assert urls["delivery"] == "delivery" and urls["rollbacks"] == "rollbacks"


def test_end_to_end_imports_land_and_leave_a_fresh_scorecard(tmp_path):
    demo = seed_demo(tmp_path)
    result = run.import_end_to_end(demo.url, runs=1)
    engine = sa.create_engine(demo.url)
    with engine.connect() as conn:
        imported = conn.execute(sa.text("SELECT count(*) FROM pull_requests WHERE id LIKE 'bench:%'")).scalar_one()
    engine.dispose()
    assert imported == 1 + 1000
    assert set(result) == {"1", "1000"}
    assert all(v["wall_s"] > 0 and v["next_read_s"] >= 0 for v in result.values())


@pytest.mark.browser
@pytest.mark.skipif(not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()),
                    reason="the page benchmark needs Debian's Chromium: apt-get install chromium")
def test_page_probe_draws_the_scorecard_in_chromium(tmp_path):
    demo = seed_demo(tmp_path)
    result = pages.run(demo.url, starts=1, only=["scorecard"], cache_dir=str(tmp_path / "cube"))
    scorecard = result["pages"]["scorecard"]
    assert list(result["pages"]) == ["scorecard"]
    assert scorecard["first_s"] > 0 and scorecard["warm_s"] > 0
    # A running Streamlit server holds well over 50 MB: a sampler that read nothing would say 0.
    assert scorecard["server_vmhwm_mb"] > 50 and scorecard["tree_peak_rss_mb"] > 50
    # Chromium draws the page too: its CPU over the first visit is counted apart from the server's.
    assert scorecard["browser_first_cpu_s"] > 0.05
    assert result["browser"] == "new"
    assert scorecard["samples"][0]["scripts_fetched"] > 10  # a new browser fetches Streamlit's front end


@pytest.mark.browser
@pytest.mark.skipif(not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()),
                    reason="the page benchmark needs Debian's Chromium: apt-get install chromium")
def test_page_probe_as_a_returning_visitor_reuses_the_front_end_the_browser_cached(tmp_path):
    demo = seed_demo(tmp_path)
    result = pages.run(demo.url, starts=1, only=["definitions"], cache_dir=str(tmp_path / "cube"), returning=True)
    definitions = result["pages"]["definitions"]
    assert result["browser"] == "returning"
    assert definitions["first_s"] > 0 and definitions["first_cpu_s"] > 0
    # The untimed visit to the first server left Streamlit's scripts in the browser's cache: the timed first
    # visit, to a new server on the same port, fetched none of them.
    assert definitions["samples"][0]["scripts_fetched"] == 0
