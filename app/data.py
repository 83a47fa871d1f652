"""The one way from the warehouse to the metrics: read the evidence tables into an `Evidence`.

The CLI and the dashboard both call `load_evidence`; the dashboard wraps it in `st.cache_data` keyed by
the warehouse's data version, so a finished sync shows without a restart.
"""
from __future__ import annotations

import polars as pl

from config.model import Config
from metrics.evidence import SCHEMAS, Evidence
from warehouse import Warehouse, open_warehouse, read_table


def warehouse_for(config: Config) -> Warehouse:
    base_dir = None
    if config.source_path:
        from pathlib import Path

        base_dir = Path(config.source_path).parent
    return open_warehouse(config.warehouse.url, base_dir=base_dir)


def load_evidence(warehouse: Warehouse) -> Evidence:
    """Every evidence table, with just the columns the metrics read."""
    tables: dict[str, pl.DataFrame] = {}
    for name, schema in SCHEMAS.items():
        tables[name] = read_table(warehouse, name, list(schema))
    return Evidence.of(**tables)
