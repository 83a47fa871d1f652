"""The cursor of one repo's stream, as kept in `sync_state` (JSON text).

GitHub lists PRs (by last update) and deployments (by creation) newest first. A pass reads down to the
stream's `watermark` and then sets it to the newest time it saw: the next pass reads only what changed
since (the item at exactly the watermark is read again; upserts make that harmless). A pass that spans
several pages records where it is after each committed page (`resume`), so a killed sync goes on from
there instead of starting the repo over.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from connectors.common.times import utc_time


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z") if value else None


def _time(value) -> dt.datetime | None:
    return utc_time(value) if isinstance(value, str) and value else None


@dataclass
class Pass:
    """One pass over a stream: read down to `floor`; `high` is the newest time seen so far."""

    floor: dt.datetime | None
    high: dt.datetime | None = None
    after: str | None = None  # GraphQL endCursor of the last committed page
    # The oldest unfinished deployment or run seen (its outcome is read on a later pass).
    pending: dt.datetime | None = None
    done: bool = False

    def see(self, at: dt.datetime | None) -> None:
        if at is not None and (self.high is None or at > self.high):
            self.high = at

    def hold(self, at: dt.datetime) -> None:
        if self.pending is None or at < self.pending:
            self.pending = at

    def next_watermark(self) -> dt.datetime | None:
        newest = self.high or self.floor
        if self.pending is not None and newest is not None:
            return min(self.pending, newest)
        return newest


@dataclass
class StreamCursor:
    watermark: dt.datetime | None = None
    resume: Pass | None = None

    @classmethod
    def load(cls, text: str | None) -> StreamCursor:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
        except ValueError:
            return cls()  # an unreadable cursor means a full pass, never a crash
        resume = raw.get("resume")
        return cls(
            watermark=_time(raw.get("watermark")),
            resume=Pass(floor=_time(resume.get("floor")), high=_time(resume.get("high")), after=resume.get("after"),
                        pending=_time(resume.get("pending"))) if isinstance(resume, dict) else None,
        )

    def dump(self) -> str:
        raw: dict = {"watermark": _iso(self.watermark)}
        if self.resume is not None:
            r = self.resume
            raw["resume"] = {"floor": _iso(r.floor), "high": _iso(r.high), "after": r.after, "pending": _iso(r.pending)}
        return json.dumps(raw, sort_keys=True)

    def start(self, *, full: bool, since: dt.datetime | None) -> Pass:
        """The pass this run makes: go on with an interrupted one, else read down to the watermark."""
        if self.resume is not None and not full:
            return self.resume
        floor = None if full else self.watermark
        if since is not None and (floor is None or since > floor):
            floor = since
        return Pass(floor=floor)

    @staticmethod
    def checkpoint(watermark: dt.datetime | None, current: Pass) -> str:
        """The cursor after a committed page: the old watermark still stands, the pass goes on."""
        return StreamCursor(watermark=watermark, resume=current).dump()

    @staticmethod
    def finished(current: Pass) -> str:
        return StreamCursor(watermark=current.next_watermark()).dump()
