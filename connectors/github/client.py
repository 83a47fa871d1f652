"""PyGithub, set up for a sync: our retry policy (5xx with backoff, rate limits with bounded waits), a
count of every HTTP call, GraphQL rate-limit handling, and error messages a user can act on.

PyGithub's default retry repeats a 5xx ten times with no pause and can sleep until a rate-limit reset an
hour away. Here every wait is logged, added up, and bounded by `max_wait_seconds`: a longer one raises
`WaitTooLong`, which stops the sync with a message saying when to run it again (nothing is lost: the
cursors only cover what was written).
"""
from __future__ import annotations

import datetime as dt
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException, UnknownObjectException
from github.GithubException import RateLimitExceededExceedsMaxWait
from urllib3.util.retry import Retry

from config.model import GithubConfig
from connectors.common.secrets import redact
from connectors.contract import WaitTooLong
import connectors.github.settings as settings

log = logging.getLogger(__name__)


@dataclass
class CallMeter:
    """What a sync cost: HTTP calls (retries included), retries, seconds waited, GraphQL points."""

    calls: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    graphql_points: int = 0
    rate_remaining: int | None = None  # GraphQL points left, from the last query
    rate_reset: dt.datetime | None = None

    def stats(self) -> dict[str, int]:
        stats = {"calls": self.calls, "retries": self.retries, "waited_seconds": round(self.waited_seconds),
                 "graphql_points": self.graphql_points}
        if self.rate_remaining is not None:
            stats["rate_limit_remaining"] = self.rate_remaining
        return stats


def wait_too_long(seconds: float, reason: str, max_wait: float) -> WaitTooLong:
    """GitHub asks for a longer pause than `max_wait_seconds`: stop, and say when to run again."""
    resume_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return WaitTooLong(f"{reason}: GitHub asks to wait {seconds:.0f} s, more than max_wait_seconds = "
                       f"{max_wait:.0f}; run the sync again after {resume_at:%Y-%m-%d %H:%M} UTC", seconds)


class ScorecardRetry(GithubRetry):
    """GithubRetry with a pause between 5xx retries, bounded waits, and a count of every call.

    PyGithub hands this one object to every connection it opens, and urllib3 asks its `is_retry` once
    for every HTTP response: the one place where every call passes, so that is where calls are counted.
    """

    def __init__(self, *, meter: CallMeter | None = None, sleeper: Callable[[float], None] | None = None,
                 max_wait: float = 900.0, **kwargs):
        self.meter = meter if meter is not None else CallMeter()
        self.sleeper = sleeper or time.sleep
        self.max_wait = max_wait
        if "retry_after_max" in inspect.signature(Retry.__init__).parameters:
            kwargs.setdefault("retry_after_max", 10**9)  # we bound waits ourselves, with a message
        super().__init__(**kwargs)

    def new(self, **kw):
        kw.update(meter=self.meter, sleeper=self.sleeper, max_wait=self.max_wait)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        self.meter.calls += 1
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if response is None and error is not None:
            self.meter.calls += 1  # a connection error: the call was made, no response came back
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        self.meter.retries += 1
        return retry

    def get_backoff_time(self) -> float:
        # urllib3 repeats the first failure at once; pause from the first: factor × 1, 2, 4, ...
        errors = sum(1 for _ in self.history)
        if errors == 0 or self.backoff_factor <= 0:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (errors - 1)))

    def sleep(self, response=None) -> None:
        wait = self.get_retry_after(response) if (self.respect_retry_after_header and response is not None) else None
        status = getattr(response, "status", None)
        if wait is None and status in (403, 429):
            wait = _until_reset(response.headers)
        if wait is None:
            wait = self.get_backoff_time()
        reason = "GitHub rate limit" if status in (403, 429) else f"GitHub answered {status}" if status else "connection failed"
        if wait > self.max_wait:
            raise wait_too_long(wait, reason, self.max_wait)
        if wait > 0:
            log.warning("%s; waiting %.1f s before retry %d", reason, wait, len(self.history))
            self.meter.waited_seconds += wait
            self.sleeper(wait)


def _until_reset(headers) -> float | None:
    """Seconds until the primary rate limit resets (plus one), when the response says it is spent."""
    reset = str(headers.get("X-RateLimit-Reset", ""))
    if str(headers.get("X-RateLimit-Remaining")) != "0" or not reset.isdigit():
        return None
    at = dt.datetime.fromtimestamp(int(reset), dt.timezone.utc)
    return max(0.0, (at - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1


def html_base(base_url: str) -> str:
    """https://api.github.com → https://github.com; https://HOST/api/v3 → https://HOST."""
    parts = urlsplit(base_url)
    host = "github.com" if parts.netloc == "api.github.com" else parts.netloc
    path = parts.path.rstrip("/").removesuffix("/api/v3")
    return f"{parts.scheme}://{host}{path}"


class GithubClient:
    """The calls the connector makes, each counted in `meter`."""

    def __init__(self, config: GithubConfig, token: str, *, sleeper: Callable[[float], None] | None = None,
                 meter: CallMeter | None = None):
        self.config = config
        self.meter = meter if meter is not None else CallMeter()
        self.sleeper = sleeper or time.sleep
        self.retry = ScorecardRetry(
            meter=self.meter, sleeper=self.sleeper, max_wait=config.max_wait_seconds, total=config.max_retries,
            backoff_factor=config.backoff_seconds, backoff_max=config.max_backoff_seconds,
            secondary_rate_wait=config.secondary_wait_seconds, max_rate_limit_wait=config.max_wait_seconds,
            status_forcelist=[*range(500, 600), 429],  # GithubRetry adds 403 and reads its body
        )
        # lazy: objects are built from URLs without a GET each; no fixed pause between calls (PyGithub
        # sleeps 1 s before every POST, i.e. every GraphQL page, by default): we pace by the rate limit.
        self.gh = Github(base_url=config.base_url, auth=Auth.Token(token), per_page=100, retry=self.retry,
                         timeout=config.timeout_seconds, seconds_between_requests=None,
                         seconds_between_writes=None, lazy=True, user_agent=settings.USER_AGENT)
        self.html_base = html_base(config.base_url)
        self._downloads: requests.Session | None = None

    def close(self) -> None:
        self.gh.close()
        if self._downloads is not None:
            self._downloads.close()

    # GraphQL -------------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict) -> dict:
        """The `data` of a GraphQL query. A rate-limit error (HTTP 200 with `errors`) waits and asks again."""
        for attempt in range(settings.GRAPHQL_RATE_RETRIES + 1):
            self._pace()
            try:
                with _rate_limits(self.config.max_wait_seconds):
                    _, body = self.gh.requester.graphql_query(query, variables)
            except GithubException as exc:
                wait = self._graphql_wait(exc)
                if wait is None or attempt == settings.GRAPHQL_RATE_RETRIES:
                    raise
                self.wait(wait, "GitHub GraphQL rate limit")
                continue
            data = body.get("data") or {}
            self._note_rate(data.get("rateLimit"))
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def _graphql_wait(self, exc: GithubException) -> float | None:
        errors = exc.data.get("errors") if isinstance(exc.data, dict) else None
        if not errors:
            return None
        limited = [e for e in errors if isinstance(e, dict) and (
            e.get("type") == settings.GRAPHQL_RATE_LIMITED or "rate limit" in str(e.get("message", "")).lower())]
        if not limited:
            return None
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        if str(headers.get("retry-after", "")).strip().isdigit():
            return float(headers["retry-after"])
        until_reset = _until_reset({"X-RateLimit-Remaining": headers.get("x-ratelimit-remaining"),
                                    "X-RateLimit-Reset": headers.get("x-ratelimit-reset")})
        return until_reset if until_reset is not None else self.config.secondary_wait_seconds

    def _note_rate(self, rate: dict | None) -> None:
        if not rate:
            return
        self.meter.graphql_points += int(rate.get("cost") or 0)
        if rate.get("remaining") is not None:
            self.meter.rate_remaining = int(rate["remaining"])
        reset = rate.get("resetAt")
        if isinstance(reset, str):
            try:
                self.meter.rate_reset = dt.datetime.fromisoformat(reset.replace("Z", "+00:00"))
            except ValueError:
                self.meter.rate_reset = None

    def _pace(self) -> None:
        """With the GraphQL points nearly spent, wait for the reset rather than hit the limit."""
        remaining, reset = self.meter.rate_remaining, self.meter.rate_reset
        if remaining is None or reset is None or remaining > settings.GRAPHQL_RESERVE_POINTS:
            return
        wait = (reset - dt.datetime.now(dt.timezone.utc)).total_seconds() + 1
        if wait > 0:
            self.wait(wait, f"GitHub GraphQL points nearly spent ({remaining} left)")
        self.meter.rate_remaining = None

    def wait(self, seconds: float, reason: str) -> None:
        if seconds > self.config.max_wait_seconds:
            raise wait_too_long(seconds, reason, self.config.max_wait_seconds)
        log.warning("%s; waiting %.1f s", reason, seconds)
        self.meter.waited_seconds += seconds
        self.sleeper(seconds)

    # REST ----------------------------------------------------------------------------------------
    def rest_get(self, path: str, parameters: dict | None = None) -> dict:
        with _rate_limits(self.config.max_wait_seconds):
            _, data = self.gh.requester.requestJsonAndCheck("GET", path, parameters=parameters)
        return data

    def owner_repos(self, owner: str) -> list[tuple[str, bool, bool]]:
        """(full_name, fork, archived) of every repo an org (or else a user) owns."""
        with _rate_limits(self.config.max_wait_seconds):
            try:
                repos = list(self.gh.get_organization(owner).get_repos(type="all"))
            except UnknownObjectException:
                repos = list(self.gh.get_user(owner).get_repos(type="owner"))
            return [(r.full_name, bool(r.fork), bool(r.archived)) for r in repos]

    def workflow_runs(self, repo: str) -> Iterator:
        """A repo's workflow runs, newest first (PyGithub WorkflowRun objects, pages fetched as read).

        No `created` filter: GitHub answers a filtered listing with at most 1,000 runs, silently; the
        caller stops reading at its cursor instead, which costs the same one call when nothing is new.
        """
        with _rate_limits(self.config.max_wait_seconds):
            yield from self.gh.get_repo(repo).get_workflow_runs()

    def download(self, url: str) -> bytes:
        """A report file behind a signed link (often on another host): fetched without our token."""
        if urlsplit(url).scheme not in ("https", "http"):
            raise ValueError(f"not a web address: {url[:80]}")
        if self._downloads is None:
            self._downloads = requests.Session()
            adapter = requests.adapters.HTTPAdapter(max_retries=self.retry)
            self._downloads.mount("https://", adapter)
            self._downloads.mount("http://", adapter)
        response = self._downloads.get(url, timeout=self.config.timeout_seconds)
        response.raise_for_status()
        return response.content


class _rate_limits:
    """PyGithub's own "wait would be too long" → our `WaitTooLong`, with the same message."""

    def __init__(self, max_wait: float):
        self.max_wait = max_wait

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, RateLimitExceededExceedsMaxWait):
            raise wait_too_long(exc.wait or 0.0, "GitHub rate limit", self.max_wait) from None
        return False


def describe(exc: BaseException) -> str:
    """One line a user can act on (the caller redacts secrets)."""
    if isinstance(exc, WaitTooLong):
        return str(exc)
    if isinstance(exc, GithubException):
        message = exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else None)
        if not message and isinstance(exc.data, dict) and exc.data.get("errors"):
            message = "; ".join(str(e.get("message", e)) for e in exc.data["errors"][:3] if isinstance(e, dict))
        hint = {401: " (the token is invalid or expired)",
                403: " (the token lacks a permission this needs, or access is restricted)",
                404: " (not found, or the token cannot see it)"}.get(exc.status, "")
        kind = "rate limit" if isinstance(exc, RateLimitExceededException) else f"HTTP {exc.status}"
        return f"GitHub {kind}: {message or 'no message'}{hint}"
    if isinstance(exc, requests.exceptions.RetryError):
        return f"GitHub kept failing after retries ({_reason(exc)})"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"cannot reach GitHub ({_reason(exc)})"
    if isinstance(exc, requests.exceptions.Timeout):
        return "GitHub did not answer in time (timeout_seconds)"
    return f"{type(exc).__name__}: {exc}"


def _reason(exc: BaseException) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None)
    return redact(str(reason or inner))[:200]  # redacted before it is cut
