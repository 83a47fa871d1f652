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
