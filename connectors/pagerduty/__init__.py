"""PagerDuty incidents (MTTR): created/resolved times, service → team mapping, urgency as severity
(`[pagerduty]`, README "Connect PagerDuty")."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from config.model import Config
from connectors.common.progress import Progress
from connectors.sources import SourceSpec

SOURCE = "pagerduty"


def run(warehouse, config: Config, *, full: bool = False, progress: Progress | None = None,
        sleep: Callable[[float], None] | None = None, now: dt.datetime | None = None):
    """Sync PagerDuty incidents into the warehouse; returns a `SyncReport` (never raises for a PagerDuty
    failure). `sleep` replaces the retry waits and `now` the clock (tests)."""
    from connectors.common.secrets import MissingSecret, get_secret
    from connectors.pagerduty.client import connect
    from connectors.pagerduty.sync import STREAM, pagerduty_batches
    from warehouse.runs import get_cursor
    from warehouse.sync import failing_batches, run_sync

    try:
        api_key = get_secret(config.pagerduty.api_key_env)
    except MissingSecret as exc:
        return run_sync(warehouse, SOURCE, failing_batches(exc), progress=progress)
    cursor = get_cursor(warehouse, SOURCE, STREAM)
    stats: dict[str, int] = {}
    moment = now or dt.datetime.now(dt.timezone.utc)

    def batches():
        session = connect(config.pagerduty, api_key, sleep=sleep)
        try:
            yield from pagerduty_batches(config, session, cursor, full=full, now=moment, stats=stats)
        finally:
            session.client.close()

    return run_sync(warehouse, SOURCE, batches(), secrets=[api_key], progress=progress, stats=stats)



SOURCE_SPEC = SourceSpec(
    name=SOURCE,
    config_hint="add [pagerduty] (api_key_env, service_teams; README: Connect PagerDuty)",
    is_configured=lambda config: config.pagerduty is not None,
    run=run,
)
