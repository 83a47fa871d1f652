"""Reading what a revert PR reverts from its title and body (DESIGN.md "Revert"), vectorised.

Which PR the reference points at is resolved by the metrics against whatever PRs the warehouse holds
then: the reverted PR may arrive in a later import than its revert. Keywords are matched as DESIGN.md
writes them (case-sensitive), as `git revert` and GitHub's revert button produce them.
"""
from __future__ import annotations

import polars as pl

TITLE = r'(?s)^Revert "(.*)"$'
COMMIT = r"This reverts commit ([0-9a-fA-F]{7,40})\b"
PR = r"\bReverts (?:([\w.-]+/[\w.-]+))?#(\d+)\b"


def revert_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `revert_ref` (JSON {"repo","number","sha","title"} or null) and `is_revert` (merged and
    referring to a reverted change) from `title`, `body` and `merged_at`."""
    title = pl.col("title").str.strip_chars() if "title" in frame.columns else pl.lit(None, pl.String)
    body = pl.col("body") if "body" in frame.columns else pl.lit(None, pl.String)
    ref = pl.struct(
        repo=body.str.extract(PR, 1),
        number=body.str.extract(PR, 2).cast(pl.Int64),
        sha=body.str.extract(COMMIT, 1).str.to_lowercase(),
        title=title.str.extract(TITLE, 1),
    )
    has_ref = pl.any_horizontal(
        body.str.contains(PR).fill_null(False),
        body.str.contains(COMMIT).fill_null(False),
        title.str.contains(TITLE).fill_null(False),
    )
    merged = pl.col("merged_at").is_not_null() if "merged_at" in frame.columns else pl.lit(False)
    return frame.with_columns(
        revert_ref=pl.when(has_ref).then(ref.struct.json_encode()).otherwise(None),
        is_revert=has_ref & merged,
    )
