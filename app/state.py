"""The dashboard's cached access to config, warehouse and computed metrics.

The prepared evidence (tables read, teams assigned, rollbacks decided) is cached per warehouse data
version: a finished sync or import changes the version, so the next page run reads the new rows
without a restart. `st.cache_resource` holds it without copying (the frames are never mutated); the
per-filter records are small and go through `st.cache_data`.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from app.data import load_evidence, warehouse_for
from config import Config, load_config
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
    return prepare(load_evidence(warehouse()), config())


@st.cache_data(show_spinner=False, max_entries=64)
def records(version: str, grain: str, start: dt.date, end: dt.date, team: str | None) -> pl.DataFrame:
    return compute(prepared(version), config(), grain=grain, start=start, end=end, team=team)
