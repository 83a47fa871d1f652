"""What every connector is (as dlt's sources): a generator of normalised `Batch`es.

A connector receives its configuration, its secret (read by the runner) and the cursors saved by its
last run, and yields batches: frames to upsert, the cursors those frames complete, the records it could
not read (`Rejected`) and warnings. It never imports the warehouse: `pipeline.runner` checks the
config, reads the secret and the cursors, writes the batches, commits the cursors after their rows,
reports progress, records the run (`sync_runs`, audit log) and the records that could not be read.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass(frozen=True)
class KeyOrdered:
    """Rows of one table made a slice at a time as the write asks for them: `slices()` yields frames whose
    keys are distinct across all of them and ascending (bytes order, as warehouse.write `_sorted` orders
    them), `height` rows in all, with `columns`. It may raise once its slices are done (a problem found in
    one: connectors.csv.reader `_key_ordered`); the exception passes out of the write as it is, the
    transaction rolled back. The warehouse's bulk first load (warehouse.write) copies the slices as they
    come, so the producer's work runs beside the server's; any other write takes them all first (`collect`)."""
    height: int
    columns: list[str]
    slices: Callable[[], Iterator[pl.DataFrame]]

    def collect(self) -> pl.DataFrame:
        return pl.concat(list(self.slices()), how="vertical_relaxed")


class Unreadable(ValueError):
    """A source record that cannot become a row; the message says why (the record is counted and named
    in the run's report, never dropped silently)."""


class WaitTooLong(RuntimeError):
    """The server asked for a longer pause than the config allows: stop, and let the next run continue
    from the saved cursors. `seconds` is the pause asked for, when known."""

    def __init__(self, message: str, seconds: float | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds
        self.resume_at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
                          if seconds is not None else None)


@dataclass(frozen=True)
class Rejected:
    """A source record that could not be read: counted and reported, never silently dropped."""

    stream: str
    record_id: str
    reason: str


@dataclass
class Batch:
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    # stream → new cursor value, written only after `frames` are committed.
    cursors: dict[str, str | None] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    # Problems that did not stop the run (a repo that failed, a scope the token lacks).
    warnings: list[str] = field(default_factory=list)
    # Units of progress this batch represents (e.g. items fetched) and a line for the progress bar.
    progress_done: int | None = None
    progress_total: int | None = None
    progress_message: str | None = None
    # What the run's record says about what was read (a file's name, its rows), merged over the batches.
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Credential:
    """A connector's secret: `value` is what it needs (a token, an auth mapping), `hidden` every string
    that must never be shown (the token, a basic-auth header made from it)."""

    value: Any = None
    hidden: tuple[str, ...] = ()


def _no_check(config) -> None:
    return None


def _no_secret(config) -> Credential:
    return Credential()


def never_synced(config) -> bool:
    """`Source.is_configured` of a file source: imported when a user names a file, never by `scorecard sync`."""
    return False


# extract(config, secret, cursors, *, full, stats, **options) -> Iterator[Batch]
#   secret: `Credential.value`; cursors: stream → the cursor saved by the last run (read-only);
#   stats: a dict the connector fills (HTTP calls, ...); options: test hooks (sleep, now, today) or, for
#   a file, its `path`.
Extract = Callable[..., Iterator[Batch]]


@dataclass(frozen=True)
class Source:
    """One source the runner can run: `scorecard sync --source NAME`, an import, the dashboard's button."""

    name: str
    config_hint: str  # what to add to scorecard.toml to enable it
    is_configured: Callable[[Any], bool]
    extract: Extract
    check: Callable[[Any], None] = _no_check  # bad config → an exception whose message names the key
    secret: Callable[[Any], Credential] = _no_secret  # reads the environment; MissingSecret when unset
    # Loggers that may see request or response text: secrets are masked in them while the source runs.
    loggers: tuple[str, ...] = ()
    # Warehouse tables the source derives from (table → columns): read by the runner, handed in as
    # `inputs=` (the Copilot seat prices come from the seat counts in `ai_usage`).
    inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Counters the run reports even when the source fails before counting (e.g. API calls: 0).
    counters: tuple[str, ...] = ()
    # A file import: every batch in one transaction (a bad row anywhere leaves nothing written) and the
    # error raised to the caller; an API sync commits batch by batch and reports failures instead.
    atomic: bool = False
