"""Ids for CSV rows without one (`ai_spend`, `ai_usage`): what makes two rows the same.

A row is identified by the *parsed* values of its entity's identity columns (a date as a date, a cost as
a number: `12.50` and `12.5` are the same spend; a column outside the identity, such as `tokens`,
changes nothing) plus its occurrence among the rows with the same values, so re-importing the same
data, however it is spelled, writes nothing twice, and two identical rows in one file stay two rows.
"""
from __future__ import annotations

import hashlib

import polars as pl


def content_ids(parsed: pl.DataFrame, identity: tuple[str, ...], prefix: str) -> pl.Series:
    """`<prefix>:<hash of the identity values>:<occurrence>` for every row of `parsed` (in its order)."""
    values = [
        (pl.col(c).cast(pl.String) if c in parsed.columns else pl.lit(None, dtype=pl.String)).fill_null("\x00")
        for c in identity
    ]
    content = parsed.select(pl.concat_str(values, separator="\x1f").alias("content")).get_column("content")
    digests = pl.Series("d", [hashlib.blake2b(v.encode(), digest_size=10).hexdigest() for v in content.to_list()],
                        dtype=pl.String)
    return pl.DataFrame(digests).select(
        pl.format("{}:{}:{}", pl.lit(prefix), pl.col("d"), pl.int_range(pl.len()).over("d") + 1)
    ).to_series().alias("id")


def rekey_stored_rows(conn, entities: tuple[str, ...]) -> dict[str, int]:
    """Give the CSV rows already in the warehouse the ids their values make now (migration 0003: they
    were keyed by their text before, so re-importing a file after the upgrade would count it twice).
    Rows with equal values become occurrences 1, 2, ... of them. `entities` names the CSV entities to
    re-key (a migration names those that existed at its revision). Returns rows re-keyed per table."""
    import sqlalchemy as sa

    from connectors.csv.entities import ENTITIES
    from warehouse.schema import TABLES
    from warehouse.types import polars_dtype

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
