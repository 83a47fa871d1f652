"""The scorecard cube kept beside the warehouse: reused while the data and config are the same, rebuilt
when either changes, never trusted when damaged."""
import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

import reports.data as data
from config import Config, TeamConfig, WarehouseConfig
from metrics.scorecard import compute, prepare
from pipeline import ingest
from tests.factories import make_pr, make_ticket
from warehouse import open_warehouse

WEEK = dict(grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8))


def seed(wh):
    ingest(wh, "csv:pull_requests", {"pull_requests": pl.DataFrame(
        [make_pr(i, repo="acme/pay", merged_at="2026-03-03 10:00", ai=i < 3) for i in range(10)]
    ).drop("ai_signals")})


def test_cube_is_stored_reused_and_rebuilt_after_a_write(sqlite_url, monkeypatch):
    config = Config(warehouse=WarehouseConfig(url=sqlite_url))
    wh = open_warehouse(sqlite_url)
    seed(wh)
    first = data.load_cube(wh, config)
    folders = [p for p in data.cube_root(wh, config).iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1 and (folders[0] / "complete").exists()

    def no_reads(*a, **k):
        raise AssertionError("the stored cube should have been used")

    monkeypatch.setattr(data, "load_evidence", no_reads)
    assert_frame_equal(data.load_cube(wh, config).ratio, first.ratio)
    monkeypatch.undo()

    ingest(wh, "csv:tickets", {"tickets": pl.DataFrame([make_ticket("t1", resolved_at="2026-03-04 10:00", channel="ai_bot")])})
    after = data.load_cube(wh, config)
    assert after.ratio.filter(pl.col("metric") == "deflection_rate")["n"].sum() == 1
    remaining = [p for p in data.cube_root(wh, config).iterdir() if not p.name.startswith(".")]
    assert len(remaining) == 1 and remaining[0] != folders[0]  # the stale cube is gone


def test_cube_follows_the_team_mapping_and_equals_direct_computation(sqlite_url):
    wh = open_warehouse(sqlite_url)
    seed(wh)
    plain = Config(warehouse=WarehouseConfig(url=sqlite_url))
    mapped = Config(warehouse=WarehouseConfig(url=sqlite_url), teams={"payments": TeamConfig(repos=("acme/pay",))})
    assert data.load_cube(wh, plain).teams() == ["unassigned"]
    cube = data.load_cube(wh, mapped)
    assert cube.teams() == ["payments"]
    direct = compute(prepare(data.load_evidence(wh), mapped), mapped, **WEEK)
    assert_frame_equal(compute(cube, mapped, **WEEK), direct)


def test_a_damaged_cube_is_rebuilt(sqlite_url):
    config = Config(warehouse=WarehouseConfig(url=sqlite_url))
    wh = open_warehouse(sqlite_url)
    seed(wh)
    data.load_cube(wh, config)
    folder = next(p for p in data.cube_root(wh, config).iterdir() if not p.name.startswith("."))
    (folder / "ratio.arrow").write_bytes(b"not arrow")
    cube = data.load_cube(wh, config)
    assert cube.ratio.filter(pl.col("metric") == "ai_merge_rate")["x"].sum() == 3
    assert data.Cube.read(folder).ratio.height == cube.ratio.height  # stored anew, readable again
