"""The JSON-over-HTTP client the spend and vendor connectors share (`requests`): GET and POST, retries
on 429 / 5xx / connection errors with backoff honouring `Retry-After` (connectors.common.retry), a call
counter, and messages that never hold the key (it travels in a header, and what the server echoes is
redacted before it is cut)."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from config.spend import RetryConfig
from connectors.common.retry import RETRY_STATUSES, RetryPolicy, call_with_retries, retry_after_seconds
from connectors.common.secrets import redact


class HttpError(RuntimeError):
    """A request the server refused (`status`: 401 the key, 403 a permission) or answered with something
    unreadable (`status` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HttpApi:
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
        return self._json("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> dict:
        """The JSON object a POST of `body` answers, retried while the failure is transient."""
        return self._json("POST", path, json=dict(body))

    def close(self) -> None:
        self.session.close()

    def _json(self, method: str, path: str, **kw) -> dict:
        what = f"{self.name} {method} {path}"
        try:
            response = call_with_retries(lambda: self._send(method, path, **kw), policy=self.policy, what=what,
                                         classify=_transient)
        except (_Transient, requests.RequestException) as exc:
            raise HttpError(f"{what}: {exc} (gave up after {self.policy.max_retries} retries)") from None
        try:
            answer = response.json()
        except ValueError:
            raise HttpError(f"{what}: the answer is not JSON (HTTP {response.status_code})") from None
        if not isinstance(answer, dict):
            raise HttpError(f"{what}: expected a JSON object, got {type(answer).__name__}")
        return answer

    def _send(self, method: str, path: str, **kw) -> requests.Response:
        self.stats["calls"] += 1
        response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kw)
        if response.status_code in RETRY_STATUSES:
            raise _Transient(response)
        if response.status_code >= 400:
            raise HttpError(f"{self.name} {method} {path}: HTTP {response.status_code}{_error_text(response)}",
                            response.status_code)
        return response


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
    """The provider's own error message ({"error": {"message": ...}} for OpenAI, Anthropic and others)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    # Redacted before it is cut: a cut through an echoed key would leave a piece no redaction matches.
    return f": {redact(str(message))[:200]}" if message else ""
