"""Where a secret must never show up after a sync: logs, the report, and every warehouse table."""
from __future__ import annotations

import sqlalchemy as sa

from warehouse.schema import TABLES


def everything_written(warehouse) -> str:
    """Every row of every warehouse table (sync_runs, audit_log and the evidence) as text."""
    parts = []
    with warehouse.engine.connect() as conn:
        for table in TABLES.values():
            parts.extend(repr(tuple(row)) for row in conn.execute(sa.select(table)))
    return "\n".join(parts)


def assert_nowhere(secrets: list[str], **places: str) -> None:
    for secret in secrets:
        for name, text in places.items():
            assert secret not in text, f"a secret appears in {name}"
