"""The stored cube read through the read-only connection (reports.cube_months.open_current_cube: what
`scorecard metrics` reads when reading needs no write) equals the ordinary read (reports.data.
load_cube_outline / load_cube_days) on SQLite and PostgreSQL, for the outline and for month sets read one
after another on one connection; and that path is not taken (None) when reading would need a write:
the schema behind the code, the cube stale or built for another config, the config version unrecorded."""
import dataclasses
import datetime as dt
import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from config import Config, WarehouseConfig
from config.load import load_config
from connectors.demo.generator import generate
from governance.changes import record_config_version
from metrics.cube import Cube
from pipeline import ingest
from reports.cube_months import open_current_cube
from reports.data import load_cube, load_cube_days, load_cube_outline
from tests.cli.test_cli import imported_cli
from tests.conftest import POSTGRES_ENV, POSTGRES_SKIP
from warehouse import open_warehouse
from warehouse.schema import cube_state

END = dt.date(2026, 3, 29)  # a Sunday: the demo's last day


def assert_cube_equal(ours: Cube, theirs: Cube) -> None:
    for part in dataclasses.fields(Cube):
        assert_frame_equal(getattr(ours, part.name), getattr(theirs, part.name))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo(request, tmp_path_factory):
    """The small demo, its cube current and its config version recorded, on either warehouse."""
    root = tmp_path_factory.mktemp("cubemonths")
    admin = schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'demo.db'}"
    else:
        if not os.environ.get(POSTGRES_ENV):
            pytest.skip(POSTGRES_SKIP)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(os.environ[POSTGRES_ENV].replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{os.environ[POSTGRES_ENV]}?options={quote(f'-csearch_path={schema}')}"
    config = Config(warehouse=WarehouseConfig(url=url))
    wh = open_warehouse(url)
    try:
        ingest(wh, "demo", generate("small", seed=7, end=END), action="demo")
        load_cube(wh, config)
        record_config_version(wh, config)
        yield wh, config
    finally:
        wh.engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_the_read_only_path_reads_what_the_ordinary_one_reads(demo):
    wh, config = demo
    current = open_current_cube(config)
    assert current is not None
    with current:
        assert_cube_equal(current.outline(), load_cube_outline(wh, config))
        # One month set after another on the same connection: the months read before, the latest month
        # and the whole-history parts are not fetched again, and only the months asked for are given.
        for spans in ([(dt.date(2025, 6, 3), dt.date(2025, 8, 20))],
                      [(dt.date(2025, 12, 29), dt.date(2026, 3, 29)), (dt.date(2025, 7, 1), dt.date(2025, 7, 31))],
                      [(dt.date(2026, 3, 2), dt.date(2026, 3, 8))],  # the latest month only
                      []):
            assert_cube_equal(current.days(spans), load_cube_days(wh, spans))


def test_the_months_values_come_ready_for_the_compute_with_the_same_records(demo):
    """`days` hands the values table's rows, made into arrays and ranked on the workers while the rest is
    assembled (metrics.scorecard.values_ahead), to the cube: the compute reads them, and its records are
    those of the same months read without them."""
    from polars.testing import assert_frame_equal as frames_equal

    from metrics.scorecard import compute
    from metrics.value_groups import ValueRows

    wh, config = demo
    spans = [(dt.date(2025, 12, 29), dt.date(2026, 3, 29)), (dt.date(2025, 7, 1), dt.date(2025, 9, 30))]
    with open_current_cube(config) as current:
        ready = current.days(spans)
    made = ready.__dict__.get("_value_rows", {})
    values_metrics = ready.values.get_column("metric").unique().to_list()
    assert values_metrics and {(m, None) for m in values_metrics} <= set(made)
    plain = load_cube_days(wh, spans)
    assert "_value_rows" not in plain.__dict__
    for cube in (ready, plain):
        assert_cube_equal(cube, ready)
    args = dict(grain="range", start=dt.date(2026, 1, 5), end=dt.date(2026, 3, 29))
    frames_equal(compute(ready, config, **args), compute(plain, config, **args))
    assert all(isinstance(made[(m, None)].result() if hasattr(made[(m, None)], "result") else made[(m, None)],
                          ValueRows) for m in values_metrics)


def test_a_read_only_connection_writes_nothing(demo):
    wh, config = demo
    with open_current_cube(config) as current:
        connection = current._connection
        with pytest.raises(Exception, match="(?i)read-?only"):
            connection.rows("DELETE FROM audit_log")
    with wh.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() > 0


@pytest.fixture
def imported(tmp_path, warehouse_url):
    """The CLI's CSV set imported and `scorecard metrics` run once (cube current, config recorded)."""
    cli, path = imported_cli(tmp_path, warehouse_url)
    assert cli("metrics").exit_code == 0
    wh = open_warehouse(warehouse_url)
    yield cli, path, wh
    wh.engine.dispose()


def config_versions(wh) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'config change'")).scalar_one()


def current_for(path) -> bool:
    current = open_current_cube(load_config(path, env={}))
    if current is None:
        return False
    current.close()
    return True


def test_not_taken_when_reading_needs_a_write(imported, tmp_path):
    cli, path, wh = imported
    assert current_for(path)
    # Another config's cube (one more team: another fingerprint): the ordinary way rebuilds it.
    other = tmp_path / "other.toml"
    other.write_text(path.read_text() + '\n[teams.web]\nrepos = ["acme/*"]\n')
    assert not current_for(other)
    # The same cube, but a config version not yet recorded: the ordinary way records it, once.
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(path.read_text().replace("min_sample = 1", "min_sample = 2"))
    assert not current_for(stricter)
    versions = config_versions(wh)
    assert cli("metrics", config=stricter).exit_code == 0
    assert config_versions(wh) == versions + 1
    assert current_for(stricter)
    # A write pending (as an import leaves it until its upkeep ran): the ordinary way folds it in.
    with wh.engine.begin() as conn:
        conn.execute(sa.update(cube_state).where(cube_state.c.id == 1)
                     .values(pending_from=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)))
    assert not current_for(path)
    result = cli("metrics")
    assert result.exit_code == 0, result.output
    assert current_for(path)
    # A schema revision other than the code's head: the ordinary way migrates (or says it cannot).
    with wh.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0007'"))
    assert not current_for(path)


def test_the_early_read_is_the_read_only_paths_read(demo):
    """reports.early_cube: the read begun before the configuration is loaded gives the same
    outline and months as the ordinary read, months fetched ahead that a report does not ask for left out;
    a configuration of another warehouse, or a cube not current for it, is not read from it."""
    wh, config = demo
    begun = []
    try:
        _early_reads(wh, config, begun)
    finally:  # a connection left in its read transaction would hold up the fixture's DROP SCHEMA
        for early in begun:
            early.abandon()


def _early_reads(wh, config, begun):
    from reports.early_cube import EarlyCube

    def early_cube(*args, **kwargs):
        begun.append(EarlyCube(*args, **kwargs))
        return begun[-1]

    early = early_cube(config.warehouse.url, speculate=True)
    current = early.opening_for(config).result()
    assert current is not None
    with current:
        assert current._months._months == {"2025-12", "2026-01", "2026-02"}  # the three before 2026-03
        assert_cube_equal(current.outline(), load_cube_outline(wh, config))
        for spans in ([(dt.date(2025, 6, 3), dt.date(2025, 8, 20))],  # none of the months fetched ahead
                      [(dt.date(2026, 1, 5), dt.date(2026, 3, 29))]):
            assert_cube_equal(current.days(spans), load_cube_days(wh, spans))
    early.abandon()
    assert current._connection._closed

    other = dataclasses.replace(config, warehouse=WarehouseConfig(url=config.warehouse.url + "&application_name=x"))
    early = early_cube(config.warehouse.url, speculate=False)
    assert early.opening_for(other) is None
    early._thread.join()
    assert early._connection._closed
    if config.warehouse.url.startswith("sqlite"):  # a relative path of another config file's folder
        early = early_cube(config.warehouse.url, speculate=False, base_dir=Path("/elsewhere"))
        assert early.opening_for(config) is None
        early._thread.join()
        assert early._connection._closed

    rules = dataclasses.replace(config.rules, rollback_window_days=config.rules.rollback_window_days + 1)
    early = early_cube(config.warehouse.url, speculate=False)
    assert early.opening_for(dataclasses.replace(config, rules=rules)).result() is None  # another fingerprint
    assert early._connection._closed


def test_the_early_read_is_begun_where_the_url_is_read(tmp_path, monkeypatch):
    from reports.early_cube import EarlyCube, start_early

    monkeypatch.delenv("SCORECARD_WAREHOUSE_URL", raising=False)
    config = tmp_path / "scorecard.toml"
    config.write_text('[warehouse]\nurl = "mysql://x/y"\n')
    assert start_early(config, speculate=True) is None
    config.write_text('[warehouse]\nurl = "sqlite:///w.db"\n')  # relative: in the config file's folder
    early = start_early(config, speculate=True)
    assert early.base_dir == tmp_path.resolve() and early._connection is None  # no such file: the ordinary way
    assert early.opening_for(load_config(config, env={})).result() is None
    early.abandon()
    # A server that does not answer: the thread's error is the command's, once it reads.
    monkeypatch.setenv("SCORECARD_WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:9/none")
    early = start_early(config, speculate=True)
    assert isinstance(early, EarlyCube)
    refused = Config(warehouse=WarehouseConfig(url="postgresql://nobody@127.0.0.1:9/none"))
    with pytest.raises(Exception, match="cannot open the warehouse"):
        early.opening_for(refused).result()


def test_the_early_reads_parts_are_the_registrys():
    from reports.cube_months import whole_history_parts
    from reports.early_cube import WHOLE_HISTORY_PARTS, months_before

    assert list(WHOLE_HISTORY_PARTS) == whole_history_parts()
    assert months_before("2026-02", 3) == {"2026-01", "2025-12", "2025-11"}
