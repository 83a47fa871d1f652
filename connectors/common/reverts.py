"""Reading what a revert PR reverts from its title and body (DESIGN.md "Revert", revision 2), vectorised.

Forms read, as people and tools write them:
- a title `Revert "<title>"` after any text ending in whitespace, `:` or `]` (`[1.2] Revert "…"`), `Revert`
  in any case, an optional ` (#<n>)` after the closing quote (a squash merge's subject);
- `reverts #<n>` / `reverts <owner>/<repo>#<n>` in any case, inside prose too ("This PR partially reverts
  #16471"); the first reference in the title, then the body, wins; a `(#<n>)` at the end of the quoted title
  names the number only when the text names none;
- `This reverts commit <sha>` (7–40 hex characters), kept as a reference that makes a revert only when the
  metrics find the sha to be the merge commit of a PR of the same repo merged before it: a squash body that
  quotes a `git revert` of a commit inside the PR's own branch reverts nothing on the main line.

Which PR a reference points at is resolved by the metrics (`metrics.linking.resolve_reverts`) against
whatever PRs the warehouse holds then: the reverted PR may arrive in a later import than its revert.
"""
from __future__ import annotations

import polars as pl

TITLE = r'(?is)^(?:.*?[\s:\]])?revert\s+"(.*)"\s*(?:\(#\d+\))?\s*$'
COMMIT = r"(?i)\bthis reverts commit ([0-9a-f]{7,40})\b"
PR = r"(?i)\breverts\s+([\w.-]+/[\w.-]+)?#(\d+)\b"
QUOTED_NUMBER = r"\(#(\d+)\)\s*$"
TRAILING_NUMBER = r"\s*\(#\d+\)\s*$"  # compared without it: a squash subject's ` (#n)`


def revert_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `revert_ref` (JSON {"repo","number","sha","title"} or null) and `is_revert` (merged and
    naming what it reverts by title or number; a bare commit sha waits for the metrics) from `title`,
    `body` and `merged_at`."""
    title = pl.col("title").str.strip_chars() if "title" in frame.columns else pl.lit(None, pl.String)
    body = pl.col("body") if "body" in frame.columns else pl.lit(None, pl.String)
    quoted = title.str.extract(TITLE, 1)
    in_title = title.str.extract(PR, 2).is_not_null()
    ref = pl.struct(
        repo=pl.when(in_title).then(title.str.extract(PR, 1)).otherwise(body.str.extract(PR, 1)),
        number=pl.coalesce(
            title.str.extract(PR, 2), body.str.extract(PR, 2), quoted.str.extract(QUOTED_NUMBER, 1)
        ).cast(pl.Int64),
        sha=body.str.extract(COMMIT, 1).str.to_lowercase(),
        title=quoted,
    )
    named = quoted.is_not_null() | title.str.contains(PR).fill_null(False) | body.str.contains(PR).fill_null(False)
    has_ref = named | body.str.contains(COMMIT).fill_null(False)
    merged = pl.col("merged_at").is_not_null() if "merged_at" in frame.columns else pl.lit(False)
    return frame.with_columns(
        revert_ref=pl.when(has_ref).then(ref.struct.json_encode()).otherwise(None),
        is_revert=(named & merged).fill_null(False),
    )


def comparable_title(expr: pl.Expr) -> pl.Expr:
    """A title as the revert lookup compares it: trimmed, without a trailing ` (#<n>)`."""
    return expr.str.replace(TRAILING_NUMBER, "").str.strip_chars()
