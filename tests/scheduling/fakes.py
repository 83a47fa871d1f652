"""A fake clock and fake sources for the scheduler: the real scheduler, runner and warehouse, with
time advanced by sleeping instead of waiting."""
from __future__ import annotations

import datetime as dt
import threading

import polars as pl

from connectors.contract import Batch, Source
from warehouse.runs import utcnow


class FakeClock:
    """Starts at `start`; `sleep` moves time forward and sets `stop` once `until` is reached."""

    def __init__(self, start: dt.datetime, until: dt.datetime) -> None:
        self.t, self.until = start, until

    def now(self) -> dt.datetime:
        return self.t

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        self.t = min(self.t + dt.timedelta(seconds=seconds), self.until)
        if self.t >= self.until:
            stop.set()


def fake_source(name: str, calls: list, *, fails=lambda now: False, tickets: int = 0) -> Source:
    """A source that writes `tickets` ticket rows per run (ids from the run's time) and records in `calls`
    (name, time, outcome) each run; `fails(now)` says when it raises instead."""
    def batches(config, secret, cursors, *, full=False, stats):
        now = utcnow()  # the scheduler's clock (warehouse.runs.clock)
        if fails(now):
            calls.append((name, now, "failed"))
            raise ConnectionError(f"{name} is down")
        calls.append((name, now, "success"))
        rows = pl.DataFrame({"id": [f"{name}:{now:%H%M}:{i}" for i in range(tickets)], "source": name,
                             "channel": "human", "resolved_at": [now] * tickets},
                            schema={"id": pl.String, "source": pl.String, "channel": pl.String,
                                    "resolved_at": pl.Datetime("us", "UTC")})
        yield Batch(frames={"tickets": rows} if tickets else {}, cursors={"main": now.isoformat()})

    return Source(name, "", lambda config: True, batches)
