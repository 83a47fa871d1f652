"""The local warehouse: schema, engine, Arrow-native reads and idempotent upserts, sync state, audit log."""
from warehouse.engine import Warehouse, WarehouseError, open_warehouse
from warehouse.read import data_version, read_table
from warehouse.write import UpsertCounts, upsert_frames

__all__ = [
    "UpsertCounts", "Warehouse", "WarehouseError", "data_version", "open_warehouse", "read_table",
    "upsert_frames",
]
