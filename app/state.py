"""The dashboard's cached access to config, warehouse and computed metrics.

Everything is keyed by the warehouse's data version: a finished sync or import changes it, so the
next page run reads the new rows without a restart. The scorecard records come from the daily cube
(app/data.load_cube: memory-mapped Arrow files beside the warehouse), so tiles and trends never read
the big tables; drill-downs that list single rows use the prepared evidence, read once per version.
`st.cache_resource` holds both without copying (they are never mutated); the per-filter records are
small and go through `st.cache_data`.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from app.data import load_cube, load_evidence, warehouse_for
from config import Config, load_config
from metrics.cube import Cube
from metrics.scorecard import Prepared, compute, prepare
from warehouse import Warehouse, data_version

VERSION_TTL_SECONDS = 30


@st.cache_resource(show_spinner=False)
def config() -> Config:
    return load_config()


@st.cache_resource(show_spinner=False)
def warehouse() -> Warehouse:
    return warehouse_for(config())


@st.cache_data(ttl=VERSION_TTL_SECONDS, show_spinner=False)
def current_version() -> str:
    return data_version(warehouse())


@st.cache_resource(show_spinner="Reading the warehouse…", max_entries=2)
def prepared(version: str) -> Prepared:
    """Every row, teams assigned, rollbacks decided: for pages that list single PRs or incidents."""
    return prepare(load_evidence(warehouse()), config())


@st.cache_resource(show_spinner="Reading the scorecard…", max_entries=2)
def cube(version: str) -> Cube:
    return load_cube(warehouse(), config(), version)


@st.cache_data(show_spinner=False, max_entries=64)
def records(version: str, grain: str, start: dt.date, end: dt.date, team: str | None) -> pl.DataFrame:
    return compute(cube(version), config(), grain=grain, start=start, end=end, team=team)
