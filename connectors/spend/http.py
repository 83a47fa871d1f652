"""GET JSON from a provider's cost API with `requests`: retries on 429 / 5xx / connection errors with
backoff, honouring `Retry-After` (connectors.common.retry), a call counter, and messages that never hold
the key (it travels in a header, and `warehouse.sync.redact` scrubs anything the server echoes)."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from config.spend import RetryConfig
from connectors.common.secrets import redact
from connectors.common.retry import RETRY_STATUSES, RetryPolicy, call_with_retries, retry_after_seconds


class CostApiError(RuntimeError):
    """A request the provider refused or answered with something unreadable."""


class CostApi:
    def __init__(self, name: str, base_url: str, headers: Mapping[str, str], retry: RetryConfig, *,
                 stats: dict[str, int] | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", **headers})
        self.timeout = retry.timeout_seconds
        self.policy = RetryPolicy(max_retries=retry.max_retries, backoff_seconds=retry.backoff_seconds,
                                  max_backoff_seconds=retry.max_backoff_seconds,
                                  max_wait_seconds=retry.max_wait_seconds, sleep=sleep)
        self.stats = stats if stats is not None else {}
        self.stats.setdefault("calls", 0)

    def get(self, path: str, params: Mapping[str, Any]) -> dict:
        """The JSON object at `path`, retried while the failure is transient."""
        what = f"{self.name} GET {path}"
        try:
            response = call_with_retries(lambda: self._once(path, params), policy=self.policy, what=what,
                                         classify=_transient)
        except (_Transient, requests.RequestException) as exc:
            raise CostApiError(f"{what}: {exc} (gave up after {self.policy.max_retries} retries)") from None
        try:
            body = response.json()
        except ValueError:
            raise CostApiError(f"{what}: the answer is not JSON (HTTP {response.status_code})") from None
        if not isinstance(body, dict):
            raise CostApiError(f"{what}: expected a JSON object, got {type(body).__name__}")
        return body

    def _once(self, path: str, params: Mapping[str, Any]) -> requests.Response:
        self.stats["calls"] += 1
        response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
        if response.status_code in RETRY_STATUSES:
            raise _Transient(response)
        if response.status_code >= 400:
            raise CostApiError(f"{self.name} GET {path}: HTTP {response.status_code}{_error_text(response)}")
        return response

    def close(self) -> None:
        self.session.close()


class _Transient(Exception):
    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}{_error_text(response)}")
        self.response = response


def _transient(exc: Exception) -> tuple[str, float | None] | None:
    if isinstance(exc, _Transient):
        return str(exc), retry_after_seconds(exc.response.headers.get("Retry-After"))
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return f"{type(exc).__name__}", None
    return None


def _error_text(response: requests.Response) -> str:
    """The provider's own error message ({"error": {"message": ...}} for both OpenAI and Anthropic)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    # Redacted before it is cut: a cut through an echoed key would leave a piece no redaction matches.
    return f": {redact(str(message))[:200]}" if message else ""
