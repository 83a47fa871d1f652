"""Bounded retries with exponential backoff for source APIs: rate limits (429) and server errors (5xx),
honouring `Retry-After`. Every wait goes through `RetryPolicy.sleep`, so tests run with no real waiting
and can assert what the server asked for."""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from connectors.common.secrets import redact
from connectors.contract import WaitTooLong

log = logging.getLogger(__name__)

T = TypeVar("T")

# 501 (not implemented) and 505 will not get better by asking again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either a number of seconds or an HTTP date. None when absent or unreadable."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff_seconds: float = 1.0  # the first wait without Retry-After; doubles each retry
    max_backoff_seconds: float = 60.0
    max_wait_seconds: float = 900.0  # a longer Retry-After raises WaitTooLong instead of blocking the run
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None, what: str) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        if retry_after is not None:
            if retry_after > self.max_wait_seconds:
                raise WaitTooLong(
                    f"{what}: the server asked to wait {retry_after:.0f} s (Retry-After), more than "
                    f"max_wait_seconds = {self.max_wait_seconds:g}; the next sync continues from here", retry_after
                )
            return retry_after
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy,
    what: str,
    classify: Callable[[Exception], tuple[str, float | None] | None],
) -> T:
    """`fn()`, retried while `classify(exc)` says the failure is transient (returning a short reason and
    the Retry-After seconds, if any), at most `policy.max_retries` times; then the last error is raised."""
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            verdict = classify(exc)
            if verdict is None or attempt >= policy.max_retries:
                raise
            attempt += 1
            reason, retry_after = verdict
            wait = policy.delay(attempt, retry_after, what)
            log.warning("%s: %s; retry %d of %d in %.1f s", redact(what), redact(str(reason)), attempt,
                        policy.max_retries, wait)
            policy.sleep(wait)
