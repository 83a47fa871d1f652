"""The scheduler on a fake clock: each source on its interval, backoff while one fails, jitter, and a
plan read from the warehouse (so a restart does not repeat runs)."""
import dataclasses
import datetime as dt
import random

from config import Config, WarehouseConfig
from config.schedule import ScheduleConfig
from scheduling.runner import Scheduler
from tests.factories import ts
from tests.scheduling.fakes import FakeClock, fake_source
from warehouse import open_warehouse, read_table
from warehouse.history import source_histories
from scheduling.plan import plan

T0 = ts("2026-03-02 00:00")


def at(hhmm: str) -> dt.datetime:
    return ts(f"2026-03-02 {hhmm}")


def config_with(url: str, **schedule) -> Config:
    intervals = {k: v for k, v in schedule.items() if k in ("github", "jira")}
    settings = {k: v for k, v in schedule.items() if k not in intervals}
    return Config(warehouse=WarehouseConfig(url=url),
                  schedule=ScheduleConfig(intervals=intervals, **{"jitter": 0.0, **settings}))


def run_until(wh, config, specs, until: str, start=T0, **kw) -> Scheduler:
    scheduler = Scheduler(wh, config, clock=FakeClock(start, at(until)), specs=specs, holder="test", **kw)
    scheduler.run()
    return scheduler


def times(calls, name, outcome=None):
    return [f"{t:%H:%M}" for n, t, o in calls if n == name and (outcome is None or o == outcome)]


def test_each_source_runs_on_its_own_interval(sqlite_url):
    wh = open_warehouse(sqlite_url)
    calls = []
    specs = {"github": fake_source("github", calls, tickets=1), "jira": fake_source("jira", calls, tickets=1)}
    run_until(wh, config_with(sqlite_url, github=3600, jira=900), specs, "02:00")
    # Both due at once at 00:00 (never run); then github every hour, jira every 15 minutes. The clock
    # stops at 02:00 before that turn runs.
    assert times(calls, "github") == ["00:00", "01:00"]
    assert times(calls, "jira") == ["00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30", "01:45"]
    # Every run wrote its row once: 2 + 8 tickets.
    assert read_table(wh, "tickets").height == 10


def test_a_source_failing_for_an_hour_backs_off_and_recovers(sqlite_url):
    wh = open_warehouse(sqlite_url)
    calls = []
    down = lambda now: at("00:20") <= now < at("01:20")  # noqa: E731
    specs = {"github": fake_source("github", calls), "jira": fake_source("jira", calls, fails=down)}
    config = config_with(sqlite_url, github=3600, jira=900, retry=300, max_backoff=3600)
    run_until(wh, config, specs, "02:30")
    # jira: 00:00 ok, 00:15 ok, 00:30 fails → retry after 5m; 00:35 fails → 10m; 00:45 fails → 20m;
    # 01:05 fails → 40m; 01:45 ok (up since 01:20) → back to every 15m: 02:00, 02:15.
    assert times(calls, "jira") == ["00:00", "00:15", "00:30", "00:35", "00:45", "01:05", "01:45", "02:00", "02:15"]
    assert times(calls, "jira", "failed") == ["00:30", "00:35", "00:45", "01:05"]
    # github never noticed: 00:00, 01:00, 02:00.
    assert times(calls, "github") == ["00:00", "01:00", "02:00"]


def test_backoff_is_capped(sqlite_url):
    wh = open_warehouse(sqlite_url)
    calls = []
    specs = {"jira": fake_source("jira", calls, fails=lambda now: True)}
    run_until(wh, config_with(sqlite_url, jira=900, retry=300, max_backoff=1200), specs, "01:30")
    # 00:00 fails → +5m; 00:05 → +10m; 00:15 → +20m (the cap); 00:35, 00:55, 01:15 every 20m.
    assert times(calls, "jira") == ["00:00", "00:05", "00:15", "00:35", "00:55", "01:15"]


def test_stale_while_failing_fresh_after_recovery(sqlite_url):
    wh = open_warehouse(sqlite_url)
    calls = []
    down = lambda now: at("00:20") <= now < at("01:20")  # noqa: E731
    specs = {"jira": fake_source("jira", calls, fails=down)}
    config = config_with(sqlite_url, jira=900, retry=300, max_backoff=3600)
    run_until(wh, config, specs, "01:10")
    # Last success 00:15; stale after 2 × 15m = 00:45. At 01:10 it is stale, and says since when.
    history = source_histories(wh)["jira"]
    p = plan(config.schedule, history, at("01:10"))
    assert p.stale and p.stale_since == at("00:45") and p.failures == 4
    assert not plan(config.schedule, history, at("00:44")).stale
    run_until(wh, config, specs, "02:00", start=at("01:10"))
    assert not plan(config.schedule, source_histories(wh)["jira"], at("02:00")).stale


def test_a_restarted_scheduler_follows_the_warehouse(sqlite_url):
    wh = open_warehouse(sqlite_url)
    calls = []
    specs = {"github": fake_source("github", calls)}
    config = config_with(sqlite_url, github=3600)
    run_until(wh, config, specs, "00:20")
    # A new process at 00:20 reads the last success (00:00) and waits for 01:00: no repeat at start.
    run_until(wh, config, specs, "01:10", start=at("00:20"))
    assert times(calls, "github") == ["00:00", "01:00"]


def test_jitter_stretches_each_wait_by_at_most_its_share(sqlite_url):
    wh = open_warehouse(sqlite_url)
    calls = []
    specs = {"github": fake_source("github", calls)}
    config = config_with(sqlite_url, github=3600, jitter=0.1)
    run_until(wh, config, specs, "12:00", rng=random.Random(4))
    starts = [t for _, t, _ in calls]
    gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
    # Each wait is 1h plus up to 10% of it (6 min), and they differ (else jitter would do nothing).
    assert gaps and all(3600 <= g <= 3960 for g in gaps), gaps
    assert len(set(gaps)) > 1
    assert starts[0] <= T0 + dt.timedelta(seconds=360)


def test_schedule_defaults_and_groups():
    schedule = ScheduleConfig()
    assert (schedule.interval("github"), schedule.interval("jira"), schedule.interval("openai")) == (3600, 900, 86_400)
    named = dataclasses.replace(schedule, intervals={"spend": 7200, "openai": 600}, default=60)
    # openai named itself; anthropic takes its group's; an unknown source takes `default`.
    assert (named.interval("openai"), named.interval("anthropic"), named.interval("cursor")) == (600, 7200, 60)


def test_a_source_that_raises_does_not_stop_the_others(sqlite_url):
    wh = open_warehouse(sqlite_url)
    calls = []

    def broken(config, secret, cursors, *, full=False, stats):  # raises when called, instead of yielding
        calls.append(("broken", None, "raised"))
        raise RuntimeError("a connector bug outside the runner's drain")

    from connectors.contract import Source

    specs = {"broken": Source("broken", "", lambda c: True, broken), "github": fake_source("github", calls)}
    run_until(wh, config_with(sqlite_url, github=3600, retry=600), specs, "01:30")
    # github keeps its hour; the broken source is tried again every retry (10 min): 00:00 ... 01:20.
    assert times(calls, "github") == ["00:00", "01:00"]
    assert len([c for c in calls if c[0] == "broken"]) == 9
