"""What a fresh `scorecard` process does before its command's own work, made cheaper (issue 15: a small import
≤ 1.5 s and `scorecard metrics` ≤ 0.8 s end to end, start-up included).

A command loads ~800 modules (polars, pyarrow, numpy, SQLAlchemy, ours), and each allocates objects that live as
long as the process. With the cyclic collector's default first threshold (a collection every 700 net container
allocations) that starts ~200 collections, a few of them over every object, ~0.05 CPU-s of a small import and of
`scorecard metrics` (5–6 % of each) to find no garbage (docs/performance-log.md, session 13, small12). A
threshold of 20,000 starts ~20; the collector still runs, so a long command (a sync, a large import, the
scheduler) collects its own cycles as ever, a little later.
"""
from __future__ import annotations

import gc

FIRST_THRESHOLD = 20_000


def fewer_collections() -> None:
    """Raise the collector's first threshold to `FIRST_THRESHOLD` (never lower it); the older generations' stay."""
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, FIRST_THRESHOLD), second, third)
