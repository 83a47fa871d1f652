"""Re-keying the CSV rows already stored when the rule that makes their ids changes (migration 0003)."""
from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from connectors.csv.entities import ENTITIES
from connectors.csv.identity import content_ids
from warehouse.schema import TABLES
from warehouse.types import polars_dtype


def rekey_stored_rows(conn, entities: tuple[str, ...]) -> dict[str, int]:
    """Give the CSV rows already in the warehouse the ids their values make now (migration 0003: they
    were keyed by their text before, so re-importing a file after the upgrade would count it twice).
    Rows with equal values become occurrences 1, 2, ... of them. `entities` names the CSV entities to
    re-key (a migration names those that existed at its revision). Returns rows re-keyed per table."""
    done = {}
    for entity in (ENTITIES[name] for name in entities):
        table = TABLES[entity.table]
        prefix = f"csv:{entity.name}"
        columns = [table.c[name] for name in entity.identity]
        rows = conn.execute(sa.select(table.c.id, *columns).where(table.c.id.like(prefix + ":%"))
                            .order_by(table.c.id)).all()
        if not rows:
            continue
        schema = {"id": pl.String} | {c.name: polars_dtype(c) for c in columns}
        frame = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
        new = content_ids(frame, entity.identity, prefix)
        pairs = [(old, fresh) for old, fresh in zip(frame["id"].to_list(), new.to_list()) if old != fresh]
        # Two steps, so that no new id meets an old one that has not moved yet.
        for old, fresh in pairs:
            conn.execute(table.update().where(table.c.id == old).values(id="rekey:" + fresh))
        conn.execute(table.update().where(table.c.id.like("rekey:%"))
                     .values(id=sa.func.substr(table.c.id, len("rekey:") + 1)))
        done[entity.table] = len(pairs)
    return done
