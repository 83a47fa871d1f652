"""Reading what a revert PR reverts from its title and body (DESIGN.md "Revert", revision 2), vectorised.

Forms read, as people and tools write them:
- a title `Revert "<title>"` after any text ending in whitespace, `:` or `]` (`[1.2] Revert "…"`), `Revert`
  in any case, an optional ` (#<n>)` after the closing quote (a squash merge's subject);
- `reverts #<n>` / `reverts <owner>/<repo>#<n>` in any case, inside prose too ("This PR partially reverts
  #16471"); also written as a link to the PR (`Reverts https://github.com/<owner>/<repo>/pull/<n>`), in the
  imperative or gerund (`Revert #20402.`, "reverting #21048"), and as a partial revert in one sentence
  ("Reverts the name normalization part of #25937") — forms seen in real revert PRs;
- the first reference in the title, then the body, wins; a `(#<n>)` (or a bare ` #<n>`) ending the quoted
  title names the number only when the text names none;
- `This reverts commit <sha> (#<n>)` names PR n by its number, as a squash subject would;
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
# `This reverts commit <sha> (#<n>)`: the number people add after the sha, as in a squash merge's subject.
COMMIT_NUMBER = r"(?i)\bthis reverts commit [0-9a-f]{7,40}\b\.?[ \t]*\(#(\d+)\)"
PR = r"(?i)\brevert(?:s|ing)?\s+([\w.-]+/[\w.-]+)?#(\d+)\b"
# A partial revert in one sentence: "Reverts the name normalization part of #25937", "Revert some docs
# changes from #13457" (a determiner after the verb, then `of`/`from` the PR).
PR_PART = r"(?i)\brevert(?:s|ing)?\s+(?:the|some|part|parts|much|most|all)\b[^.\n#]{0,80}?\b(?:of|from)\s+([\w.-]+/[\w.-]+)?#(\d+)\b"
PR_LINK = r"https?://[^\s/]+/([\w.-]+/[\w.-]+)/pull/(\d+)[^\s)\]]*"  # read as <owner>/<repo>#<n>
QUOTED_NUMBER = r"(?:\(#(\d+)\)|\s#(\d+))\s*$"  # `(#n)` or a bare ` #n` ending the quoted title


def revert_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `revert_ref` (JSON {"repo","number","sha","title"} or null) and `is_revert` (merged and
    naming what it reverts by title or number; a bare commit sha waits for the metrics) from `title`,
    `body` and `merged_at`.

    Every form names the verb, so the expressions run only on the PRs whose title or body holds
    "revert" (one literal pass over the texts); the others get no reference."""
    texts = [pl.col(c) for c in ("title", "body") if c in frame.columns]
    if not texts or frame.height < _SMALL:
        return _revert_columns(frame)
    mention = pl.any_horizontal(t.str.contains_any(["revert"], ascii_case_insensitive=True) for t in texts).fill_null(False)
    rows = frame.select(mention).to_series().arg_true()
    found = _revert_columns(frame.gather(rows))
    ref = pl.Series("revert_ref", [None] * frame.height, dtype=pl.String).scatter(rows, found["revert_ref"])
    is_revert = pl.Series("is_revert", [False] * frame.height, dtype=pl.Boolean).scatter(rows, found["is_revert"])
    return frame.with_columns(ref, is_revert)


_SMALL = 1000  # below this the expressions run on every row (the filter would cost more than it saves)


def _revert_columns(frame: pl.DataFrame) -> pl.DataFrame:
    title = pl.col("title").str.strip_chars() if "title" in frame.columns else pl.lit(None, pl.String)
    body = pl.col("body").str.replace_all(PR_LINK, "$1#$2") if "body" in frame.columns else pl.lit(None, pl.String)
    quoted = title.str.extract(TITLE, 1)
    # The first reference in the title, then the body: (repo, number) pairs in that order.
    refs = [(text.str.extract(pattern, 1), text.str.extract(pattern, 2)) for text in (title, body) for pattern in (PR, PR_PART)]
    repo = pl.when(refs[0][1].is_not_null()).then(refs[0][0])
    for ref_repo, number in refs[1:]:
        repo = repo.when(number.is_not_null()).then(ref_repo)
    ref = pl.struct(
        repo=repo,
        number=pl.coalesce(
            *(number for _, number in refs), body.str.extract(COMMIT_NUMBER, 1),
            quoted.str.extract(QUOTED_NUMBER, 1), quoted.str.extract(QUOTED_NUMBER, 2),
        ).cast(pl.Int64),
        sha=body.str.extract(COMMIT, 1).str.to_lowercase(),
        title=quoted,
    )
    named = pl.any_horizontal(quoted.is_not_null(), *(number.is_not_null() for _, number in refs),
                              body.str.contains(COMMIT_NUMBER)).fill_null(False)
    has_ref = named | body.str.contains(COMMIT).fill_null(False)
    merged = pl.col("merged_at").is_not_null() if "merged_at" in frame.columns else pl.lit(False)
    return frame.with_columns(
        revert_ref=pl.when(has_ref).then(ref.struct.json_encode()).otherwise(None),
        is_revert=(named & merged).fill_null(False),
    )

