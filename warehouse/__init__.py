"""The local warehouse: schema, engine, Arrow-native reads and idempotent upserts, sync state, audit log.

The names below load on first use (PEP 562): `warehouse.readonly`, the reader without SQLAlchemy that
`scorecard metrics` uses, must not pull in the engine, the schema and the writer with their package."""
import importlib

_HOME = {
    "Warehouse": "warehouse.engine", "WarehouseError": "warehouse.engine", "open_warehouse": "warehouse.engine",
    "data_version": "warehouse.read", "read_table": "warehouse.read",
    "UpsertCounts": "warehouse.write", "upsert_frames": "warehouse.write",
    "open_postgres_ahead": "warehouse.write",  # opens a connection handle; writes nothing
}

__all__ = [
    "UpsertCounts", "Warehouse", "WarehouseError", "data_version", "open_postgres_ahead", "open_warehouse",
    "read_table", "upsert_frames",
]


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'warehouse' has no attribute '{name}'")
