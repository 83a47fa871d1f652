"""Shared fixtures: a fresh warehouse per test, on SQLite and (when configured) on PostgreSQL."""
from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from config import Config, WarehouseConfig
from warehouse import Warehouse, open_warehouse

POSTGRES_ENV = "SCORECARD_TEST_POSTGRES_URL"
POSTGRES_SKIP = (
    f"PostgreSQL tests need {POSTGRES_ENV} (e.g. {POSTGRES_ENV}=postgresql://postgres@127.0.0.1:5432/test); "
    ".ci/run sets it"
)


def _postgres_url(schema: str) -> str:
    base = os.environ[POSTGRES_ENV]
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def postgres_schema_url():
    """A URL whose connections live in a new, empty schema (dropped afterwards)."""
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(POSTGRES_SKIP)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(os.environ[POSTGRES_ENV].replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    """Parametrised over both backends: every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def warehouse(warehouse_url) -> Warehouse:
    wh = open_warehouse(warehouse_url)
    yield wh
    wh.engine.dispose()


@pytest.fixture
def sqlite_warehouse(sqlite_url) -> Warehouse:
    wh = open_warehouse(sqlite_url)
    yield wh
    wh.engine.dispose()


@pytest.fixture
def config_for(tmp_path):
    """Config pointing at a warehouse URL (what the CLI would load)."""
    def make(url: str, **kw) -> Config:
        return Config(warehouse=WarehouseConfig(url=url), **kw)
    return make
