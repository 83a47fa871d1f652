"""Talking to PagerDuty's REST API v2 through the `pagerduty` package.

The package retries only what its `retry` table names (429 without limit unless told otherwise, 5xx
never): we give it a bounded entry for 429 and every retryable 5xx, and its backoff timer. It ignores
`Retry-After`, so an httpx response hook honours it (the package's own backoff comes on top). The package
refuses a base URL that is not https://; `ca_bundle` lets it trust a private CA.
"""
from __future__ import annotations

import logging
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config.model import PagerDutyConfig
from connectors.common.retry import RETRY_STATUSES, retry_after_seconds
from connectors.common.secrets import redact
from connectors.contract import WaitTooLong

log = logging.getLogger(__name__)


class PagerDutyError(RuntimeError):
    """A PagerDuty problem in one short line, without the API key."""


@dataclass
class PagerDutySession:
    client: Any  # pagerduty.RestApiV2Client
    calls: Counter = field(default_factory=Counter)  # HTTP requests by endpoint, retries included

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        # The PagerDuty client library loads when a sync runs, not with every command.
        from pagerduty.errors import Error as PagerDutyLibraryError
        from pagerduty.errors import HttpError

        what = f"GET {path}"
        try:
            response = self.client.get(path, params=params)
        except HttpError as exc:  # its message carries part of the key
            status = exc.response.status_code if exc.response is not None else "?"
            if status == 401:
                raise PagerDutyError(f"{what}: PagerDuty rejected the API key (HTTP 401)") from None
            raise PagerDutyError(f"{what}: HTTP {status}") from None
        except PagerDutyLibraryError as exc:
            cause = type(exc.__cause__).__name__ if exc.__cause__ else type(exc).__name__
            raise PagerDutyError(f"{what}: cannot reach PagerDuty ({cause})") from None
        if not response.is_success:
            retried = " after retries" if response.status_code in RETRY_STATUSES else ""
            raise PagerDutyError(f"{what}: HTTP {response.status_code}{retried}{_error_text(response)}")
        try:
            body = response.json()
        except ValueError:
            raise PagerDutyError(f"{what}: the response is not JSON") from None
        if not isinstance(body, dict):
            raise PagerDutyError(f"{what}: the response is not a JSON object")
        return body


def connect(config: PagerDutyConfig, api_key: str, *, sleep: Callable[[float], None] | None = None) -> PagerDutySession:
    from pagerduty import RestApiV2Client  # the optional PagerDuty client, loaded when a sync runs

    base_url = config.base_url.rstrip("/")
    if not base_url.startswith("https://"):
        raise PagerDutyError(f"pagerduty.base_url must start with https:// (got '{base_url}')")
    sleep = sleep or time.sleep
    calls: Counter = Counter()
    failures_in_a_row = [0]

    def on_response(response) -> None:
        calls[f"{response.request.method} {response.request.url.path}"] += 1
        if response.status_code not in RETRY_STATUSES:
            failures_in_a_row[0] = 0
            return
        failures_in_a_row[0] += 1
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None or failures_in_a_row[0] > config.max_retries:
            return  # no hint, or the client gives up now: nothing to wait for
        if wait > config.max_wait_seconds:
            raise WaitTooLong(f"GET {response.request.url.path}: PagerDuty asked to wait {wait:.0f} s "
                              f"(Retry-After), more than max_wait_seconds = {config.max_wait_seconds:g}", wait)
        log.warning("PagerDuty HTTP %d: waiting %.1f s as Retry-After asks", response.status_code, wait)
        sleep(wait)

    verify = ssl.create_default_context(cafile=config.ca_bundle) if config.ca_bundle else True
    client = RestApiV2Client(api_key, base_url=base_url, verify=verify, event_hooks={"response": [on_response]})
    client.timeout = config.timeout_seconds
    client.retry = {status: config.max_retries for status in RETRY_STATUSES}
    client.max_http_attempts = config.max_retries
    client.max_network_attempts = config.max_retries
    client.sleep_timer = config.backoff_seconds
    return PagerDutySession(client=client, calls=calls)


def _error_text(response) -> str:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return ""
    message = error.get("message") if isinstance(error, dict) else None
    details = error.get("errors") if isinstance(error, dict) else None
    text = "; ".join(str(x) for x in [message, *(details or [])] if x)
    return f": {redact(text)[:300]}" if text else ""  # redacted before it is cut
