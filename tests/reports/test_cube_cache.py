"""The scorecard cube kept in the warehouse's tables: reused while nothing is pending, updated for the days a
write reaches, rebuilt when the config that shapes it changes or a write reaches all history, and never a
file beside the warehouse."""
import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner
from polars.testing import assert_frame_equal

import reports.cube_months as cube_months
import reports.data as data
import reports.derived as derived
from config import Config, TeamConfig, WarehouseConfig
from metrics.scorecard import compute, prepare
from pipeline import ingest
from app.cli import app
from tests.factories import make_pr, make_ticket
from warehouse import open_warehouse
from warehouse.cube_store import read_state

WEEK = dict(grain="week", start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 8))


def seed(wh):
    ingest(wh, "csv:pull_requests", {"pull_requests": pl.DataFrame(
        [make_pr(i, repo="acme/pay", merged_at="2026-03-03 10:00", ai=i < 3) for i in range(10)]
    ).drop("ai_signals")})


def ticket(ticket_id: str, resolved_at: str) -> dict:
    return {"tickets": pl.DataFrame([make_ticket(ticket_id, resolved_at=resolved_at, channel="ai_bot")])}


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{what} should not have run")
    return refuse


def test_cube_is_kept_in_the_warehouse_reused_and_updated_by_time(warehouse_url, tmp_path, monkeypatch):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    seed(wh)
    first = data.load_cube(wh, config)
    assert read_state(wh).pending_from is None
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("warehouse.db")) == []

    monkeypatch.setattr(derived, "prepare", _refuse("a build"))
    assert_frame_equal(data.load_cube(wh, config).ratio, first.ratio)
    monkeypatch.undo()

    ingest(wh, "csv:tickets", ticket("t1", "2026-03-04 10:00"))
    # A ticket counts on its own day only: the reach is its resolved_at, nothing earlier.
    assert read_state(wh).pending_from == dt.datetime(2026, 3, 4, 10, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(derived, "rebuild", _refuse("a full rebuild"))
    after = data.load_cube(wh, config)
    assert after.ratio.filter(pl.col("metric") == "deflection_rate")["n"].sum() == 1
    assert read_state(wh).pending_from is None
    wh.engine.dispose()


def test_a_pr_write_reaches_back_by_the_look_back_only_where_it_links_back(sqlite_url, tmp_path):
    """A revert merged on 2026-03-10 can roll back and rework PRs merged up to rework_window_days (21, the
    longest default window: rollback 7 days, incident link 24 h) before it: the reach is its earliest
    instant, created_at (5 h before the merge, tests.factories), minus 21 days. A plain PR (not a revert,
    no files, named by no revert, its author's first merge of the week) reaches its own merge only (10:00:
    no row of a merged PR lies on its creation day); so does one imported from a CSV that leaves columns
    out (the reach reads the stored ones)."""
    config = Config(warehouse=WarehouseConfig(url=sqlite_url))
    wh = open_warehouse(sqlite_url)
    seed(wh)
    data.load_cube(wh, config)
    ingest(wh, "csv:pull_requests", {"pull_requests": pl.DataFrame([make_pr(99, merged_at="2026-03-10 10:00")])})
    assert read_state(wh).pending_from == dt.datetime(2026, 3, 10, 10, tzinfo=dt.timezone.utc)
    data.load_cube(wh, config)
    revert = dict(make_pr(98, merged_at="2026-03-10 10:00"), is_revert=True, title='Revert "Change 1"')
    ingest(wh, "csv:pull_requests", {"pull_requests": pl.DataFrame([revert])})
    assert read_state(wh).pending_from == dt.datetime(2026, 2, 17, 5, tzinfo=dt.timezone.utc)
    data.load_cube(wh, config)
    csv = tmp_path / "prs.csv"
    csv.write_text("id,repo,number,title,author,created_at,merged_at\n"
                   "gh:acme/pay#97,acme/pay,97,Tidy,zed,2026-03-11T08:00:00Z,2026-03-11T09:00:00Z\n", encoding="utf-8")
    (tmp_path / "c.toml").write_text(f'[warehouse]\nurl = "{sqlite_url}"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "pull_requests", str(csv), "--config", str(tmp_path / "c.toml")])
    assert result.exit_code == 0, result.output
    assert read_state(wh).pending_from is None  # the import folded its write in
    assert data.load_cube(wh, config).ratio.filter(pl.col("metric") == "ai_merge_rate")["n"].sum() == 13
    wh.engine.dispose()


def test_people_reach_all_history_and_rebuild(warehouse_url, monkeypatch):
    config = Config(warehouse=WarehouseConfig(url=warehouse_url))
    wh = open_warehouse(warehouse_url)
    seed(wh)
    data.load_cube(wh, config)
    ingest(wh, "csv:people", {"people": pl.DataFrame([{"login": "dev", "source": "csv", "level": "staff"}])})
    assert read_state(wh).pending_full
    rebuilt = []
    real = derived.rebuild
    monkeypatch.setattr(derived, "rebuild", lambda *a, **k: (rebuilt.append(k.get("why")), real(*a, **k)))
    assert data.load_cube(wh, config).seniors.get_column("login").to_list() == ["dev"]
    assert rebuilt == ["a write reached all history"]
    wh.engine.dispose()


def test_a_write_during_an_upkeep_stays_pending(sqlite_url):
    """An upkeep that read the evidence before another write committed must not clear that write's reach."""
    config = Config(warehouse=WarehouseConfig(url=sqlite_url))
    wh = open_warehouse(sqlite_url)
    seed(wh)
    data.load_cube(wh, config)
    ingest(wh, "csv:tickets", ticket("t1", "2026-03-04 10:00"))
    seen = read_state(wh)
    ingest(wh, "csv:tickets", ticket("t2", "2026-03-05 10:00"))  # commits after `seen` was read
    derived._update_from(wh, config, seen, data.CUBE_COLUMNS)
    assert read_state(wh).pending_from is not None
    cube = data.load_cube(wh, config)
    assert cube.ratio.filter(pl.col("metric") == "deflection_rate")["n"].sum() == 2
    assert read_state(wh).pending_from is None


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


@pytest.mark.parametrize("since", [dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc)])
def test_load_evidence_since_filters_by_counting_time_in_sql(sqlite_url, since):
    wh = open_warehouse(sqlite_url)
    seed(wh)
    ingest(wh, "csv:tickets", ticket("t1", "2026-03-04 10:00"))
    ingest(wh, "csv:tickets", ticket("t2", "2026-03-01 10:00"))
    evidence = data.load_evidence(wh, since=since)
    assert evidence.tickets.get_column("id").to_list() == ["t1"]
    assert evidence.pull_requests.height == 0  # every PR merged on 2026-03-03
    assert data.load_evidence(wh, until=since).pull_requests.height == 10


def test_a_cube_stored_in_an_older_format_is_rebuilt_not_read(sqlite_url, monkeypatch, caplog):
    """Format 6 kept the values table's metric, team and segment as strings; format 7 keeps them categorical.
    A warehouse whose cube was stored by format-6 code is rebuilt by the first reader, which says why."""
    import dataclasses

    import metrics.scorecard as scorecard

    config = Config(warehouse=WarehouseConfig(url=sqlite_url))
    wh = open_warehouse(sqlite_url)
    seed(wh)
    build = scorecard.build_cube

    def format_6(*args, **kwargs):
        cube = build(*args, **kwargs)
        return dataclasses.replace(cube, values=cube.values.with_columns(pl.col("metric", "team", "segment").cast(pl.String)))

    monkeypatch.setattr(cube_months, "CUBE_FORMAT", 6)  # the fingerprint (reports.cube_months.cube_fingerprint)
    monkeypatch.setattr(scorecard, "build_cube", format_6)
    assert data.load_cube(wh, config).values.schema["team"] == pl.String
    monkeypatch.undo()

    with caplog.at_level("INFO", logger="reports.derived"):
        assert data.refresh_cube(wh, config) == "rebuilt"
    assert "the configuration or the cube's format changed" in caplog.text
    cube = data.load_cube(wh, config)
    assert cube.values.schema["team"] == pl.Categorical
    direct = compute(prepare(data.load_evidence(wh), config), config, **WEEK)
    assert_frame_equal(compute(cube, config, **WEEK), direct)
    wh.engine.dispose()
