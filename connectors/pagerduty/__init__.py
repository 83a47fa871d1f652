"""PagerDuty incidents (MTTR): created/resolved times, service → team mapping, urgency as severity
(`[pagerduty]`, README "Connect PagerDuty")."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping

from config.model import Config
from connectors.common.secrets import get_secret
from connectors.contract import Batch, Credential, Source
from connectors.pagerduty.client import connect
from connectors.pagerduty.sync import STREAM, pagerduty_batches

SOURCE = "pagerduty"


def _api_key(config: Config) -> Credential:
    key = get_secret(config.pagerduty.api_key_env)
    return Credential(key, (key,))


def extract(config: Config, api_key: str, cursors: Mapping[str, str | None], *, full: bool = False,
            stats: dict[str, int], sleep: Callable[[float], None] | None = None,
            now: dt.datetime | None = None) -> Iterator[Batch]:
    """PagerDuty incidents' batches. `sleep` replaces the retry waits and `now` the clock (tests)."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    session = connect(config.pagerduty, api_key, sleep=sleep)
    try:
        yield from pagerduty_batches(config, session, cursors.get(STREAM), full=full, now=moment, stats=stats)
    finally:
        session.client.close()


SOURCE_SPEC = Source(
    name=SOURCE,
    config_hint="add [pagerduty] (api_key_env, service_teams; README: Connect PagerDuty)",
    is_configured=lambda config: config.pagerduty is not None,
    extract=extract,
    secret=_api_key,
)
