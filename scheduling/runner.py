"""`scorecard schedule`: sync each configured source on its own interval until told to stop.

Each turn reads every source's plan from the warehouse (scheduling/plan.py), runs the sources that are
due, one after another, each under its lease (pipeline.runner.run_sources), then sleeps until the next
one is due. Jitter stretches each wait by up to `[schedule] jitter` of it, so replicas started together
drift apart. A source whose lease another process holds is skipped and looked at again a minute later;
after taking a lease the plan is read again, so a run another replica just finished is not repeated.

SIGTERM or SIGINT (`graceful_stop`) asks the running sync to stop after the batch it is writing: that
batch is committed and its cursors saved (pipeline.runner.stop_when), no other source starts, and the
scheduler returns. A second signal stops at once (the batch being written is rolled back).

Time comes from a `Clock`, so tests run days of schedule in a second with a fake one.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from config.model import Config
from connectors.sources import sources
from pipeline.runner import run_sources, stop_when
from scheduling.plan import DUE_AT_ONCE, SourcePlan, backoff, plans
from warehouse.engine import Warehouse
from warehouse.history import source_histories
from warehouse.lease import describe_self
from warehouse.runs import clock

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 15 * 60  # look at the warehouse at least this often (another replica may have synced)
HELD_RETRY_SECONDS = 60  # a source whose lease another process holds is looked at again after this


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        """Wait `seconds`, or less when `stop` is set."""


class WallClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    def sleep(self, seconds: float, stop: threading.Event) -> None:
        stop.wait(seconds)


@dataclass
class Scheduler:
    """Runs `specs` (default: the registered sources) that `config` enables, on their intervals."""

    warehouse: Warehouse
    config: Config
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Clock = field(default_factory=WallClock)
    rng: random.Random = field(default_factory=random.Random)
    specs: dict | None = None
    holder: str | None = None
    progress: object | None = None
    after_sync: Callable[[list], None] = lambda reports: None  # e.g. rebuild the dashboard's cache
    stop_reason: str | None = None
    _jitter: dict = field(default_factory=dict)
    _held_until: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.specs = self.specs if self.specs is not None else sources()
        self.holder = self.holder or describe_self("scorecard schedule")

    def configured(self) -> list[str]:
        return [name for name, spec in self.specs.items() if spec.is_configured(self.config)]

    def plans(self, now: dt.datetime) -> list[SourcePlan]:
        return plans(self.config.schedule, source_histories(self.warehouse), self.configured(), now)

    def due_at(self, p: SourcePlan) -> dt.datetime:
        """The plan's next run, stretched by this scheduler's jitter (drawn once per planned run)."""
        key = (p.source, p.next_run)
        if key not in self._jitter:
            if p.next_run == DUE_AT_ONCE:  # a first or resumed run: no reason to wait
                waited = 0.0
            elif p.last_status == "failed":
                waited = backoff(self.config.schedule, p.failures)
            else:
                waited = p.interval
            self._jitter[key] = self.rng.uniform(0, self.config.schedule.jitter * waited)
        when = p.next_run + dt.timedelta(seconds=self._jitter[key])
        held = self._held_until.get(p.source)
        return max(when, held) if held else when

    def step(self) -> list:
        """Run every source that is due now; their reports."""
        now = self.clock.now()
        reports = []
        for p in self.plans(now):
            if self.stop.is_set():
                break
            if self.due_at(p) > now:
                continue
            # Asked again under the lease: another replica may have run it a moment ago.
            still_due = lambda name: next(q for q in self.plans(self.clock.now()) if q.source == name).due(self.clock.now())  # noqa: E731
            try:
                ran = run_sources(self.warehouse, self.config, only=p.source, specs=self.specs, holder=self.holder,
                                  progress=self.progress, still_wanted=still_due)
            except Exception:  # a connector bug or a warehouse hiccup: the other sources keep their schedule
                log.exception("%s could not run; trying again in %s s", p.source, self.config.schedule.retry)
                self._held_until[p.source] = now + dt.timedelta(seconds=self.config.schedule.retry)
                continue
            for report in ran:
                if report.status == "skipped":
                    self._held_until[p.source] = now + dt.timedelta(seconds=min(HELD_RETRY_SECONDS, p.interval))
                    log.info("%s", report.error)
                else:
                    self._held_until.pop(p.source, None)
                    log.info("%s: %s, %s rows%s", report.source, report.status, report.rows,
                             f" ({report.error})" if report.error else "")
            reports += ran
        if any(r.rows for r in reports):
            self.after_sync(reports)
        return reports

    def next_wake(self) -> dt.datetime:
        now = self.clock.now()
        soonest = min((self.due_at(p) for p in self.plans(now)), default=now + dt.timedelta(seconds=MAX_SLEEP_SECONDS))
        return min(soonest, now + dt.timedelta(seconds=MAX_SLEEP_SECONDS))

    def run(self) -> None:
        """Sync on schedule until `stop` is set; returns after the current batch is committed."""
        with clock(self.clock.now), stop_when(lambda: (self.stop_reason or "stop requested") if self.stop.is_set() else None):
            while not self.stop.is_set():
                self.step()
                if self.stop.is_set():
                    break
                wait = (self.next_wake() - self.clock.now()).total_seconds()
                if wait > 0:
                    log.debug("sleeping %.0f s", wait)
                    self.clock.sleep(wait, self.stop)


@contextlib.contextmanager
def graceful_stop(stop: threading.Event, on_stop: Callable[[str], None] = lambda why: None) -> Iterator[None]:
    """SIGTERM / SIGINT set `stop` (the sync stops after its batch); a second one stops at once. Only the
    main thread can install handlers: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, _frame):
        name = signal.Signals(signum).name
        if stop.is_set():
            raise SystemExit(128 + signum)
        on_stop(name)
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
