"""Talking to Jira through the `jira` package: authentication, Cloud vs Server/Data Center, retries,
field names, search pages and complete changelogs.

Cloud pages `/rest/api/2/search/jql` with `nextPageToken` (the old `/search` answers 410 there);
Server/Data Center pages `/rest/api/2/search` with `startAt`. Which one is decided by `serverInfo`'s
`deploymentType` unless `[jira] deployment` says. The client's own retry loop is switched off
(`max_retries=0`): it retries only 429 and a 503 with Retry-After, and sleeps at least a second; ours
retries every 429/5xx with bounded, configurable waits (see connectors.common.retry).
"""
from __future__ import annotations

import base64
import datetime as dt
import difflib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from config.model import JiraConfig
from connectors.common.retry import RETRY_STATUSES, RetryPolicy, call_with_retries, retry_after_seconds
from connectors.common.secrets import get_secret, redact, remember

log = logging.getLogger(__name__)

DEPLOYMENTS = ("auto", "cloud", "server")


class JiraError(RuntimeError):
    """A Jira problem in one short line, without credentials or response dumps."""


@dataclass(frozen=True)
class Page:
    issues: list[Any]
    next: str | int | None  # Cloud: nextPageToken; Server: the next startAt; None on the last page
    total: int | None  # Server reports the query's total; Cloud does not


@dataclass
class JiraSession:
    client: Any  # jira.JIRA
    cloud: bool
    server: str
    policy: RetryPolicy
    time_zone: ZoneInfo | None = None  # the API user's zone: JQL date literals are read in it
    calls: Counter = field(default_factory=Counter)  # HTTP requests by endpoint

    def call(self, what: str, fn, *args, **kwargs):
        """One client call with our retries; failures become a `JiraError` saying what failed."""
        return _retrying(self.policy, what, lambda: fn(*args, **kwargs))

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def field_list(self) -> list[dict[str, Any]]:
        return self.call("GET /rest/api/2/field", self.client.fields)

    def search(self, jql: str, fields: list[str], expand: str | None, page_size: int, position) -> Page:
        """One page of a JQL search; `position` is what the previous `Page.next` said (None: the first)."""
        if self.cloud:
            data = self.call(
                "GET /rest/api/2/search/jql", self.client.enhanced_search_issues, jql,
                nextPageToken=position, maxResults=page_size, fields=list(fields), expand=expand, json_result=True,
            )
            token = data.get("nextPageToken")
            last = bool(data.get("isLast")) or not token
            return Page(list(data.get("issues") or []), None if last else token, None)
        start = int(position or 0)
        data = self.call(
            "GET /rest/api/2/search", self.client.search_issues, jql, startAt=start, maxResults=page_size,
            fields=list(fields), expand=expand, json_result=True,
        )
        issues = list(data.get("issues") or [])
        total = data.get("total")
        following = start + len(issues)
        last = not issues or (isinstance(total, int) and following >= total)
        return Page(issues, None if last else following, total if isinstance(total, int) else None)

    def changelog(self, key: str) -> list[dict[str, Any]]:
        """Every history of one issue (search results may carry only the first ones)."""
        if not self.cloud:
            # Server/Data Center returns the whole changelog on the issue itself.
            issue = self.call(f"GET /rest/api/2/issue/{key}", self.client.issue, key, fields="status",
                              expand="changelog")
            return list((issue.raw.get("changelog") or {}).get("histories") or [])
        histories: list[dict[str, Any]] = []
        while True:
            # The jira package has no public call for Cloud's paged changelog endpoint.
            data = self.call(f"GET /rest/api/2/issue/{key}/changelog", self.client._get_json,
                             f"issue/{key}/changelog", params={"startAt": len(histories), "maxResults": 100})
            values = list(data.get("values") or [])
            histories.extend(values)
            if not values or data.get("isLast", True) or len(histories) >= int(data.get("total") or 0):
                return histories


def credentials(config: JiraConfig) -> tuple[dict[str, Any], list[str]]:
    """The JIRA() auth keyword and every string that must never be shown (token, basic-auth header)."""
    token = get_secret(config.token_env)
    if config.email_env:
        email = get_secret(config.email_env)
        remember(token, user=email)
        header = base64.b64encode(f"{email}:{token}".encode()).decode()
        return {"basic_auth": (email, token)}, [token, header]
    return {"token_auth": token}, [token]


def connect(config: JiraConfig, auth: dict[str, Any], *, sleep=None) -> JiraSession:
    """A logged-in session: deployment detected from serverInfo, the API user's time zone looked up."""
    from jira import JIRA  # the heavy jira client loads when a Jira sync runs, not with every command

    if config.deployment not in DEPLOYMENTS:
        raise JiraError(f"jira.deployment must be one of {', '.join(DEPLOYMENTS)}, not '{config.deployment}'")
    policy = RetryPolicy(config.max_retries, config.backoff_seconds, config.max_backoff_seconds,
                         config.max_wait_seconds, **({"sleep": sleep} if sleep else {}))
    server = config.server.rstrip("/")
    options = {"verify": config.ca_bundle} if config.ca_bundle else {}
    calls: Counter = Counter()

    def construct():
        calls["GET /rest/api/2/serverInfo"] += 1  # the constructor's one request
        return JIRA(server=server, options=options, max_retries=0, timeout=config.timeout_seconds, **auth)

    client = _retrying(policy, f"GET {server}/rest/api/2/serverInfo", construct)
    detected = (client.deploymentType or "").lower()
    cloud = config.deployment == "cloud" or (config.deployment == "auto" and detected == "cloud")
    # The package picks the search endpoint from this attribute: keep it in line with an explicit setting.
    client.deploymentType = "Cloud" if cloud else "Server"
    if cloud and "basic_auth" not in auth:
        raise JiraError("Jira Cloud authenticates with an e-mail and an API token: set jira.email_env "
                        "to the variable holding the account's e-mail")
    session = JiraSession(client=client, cloud=cloud, server=server, policy=policy, calls=calls)
    client._session.hooks["response"].append(_counter(calls))  # count every request the client makes
    session.time_zone = _user_time_zone(session)
    log.info("Jira %s at %s, user time zone %s", "Cloud" if cloud else "Server/Data Center", server,
             session.time_zone or "unknown")
    return session


def _counter(calls: Counter):
    def count(response, *args, **kwargs):
        calls[f"{response.request.method} {requests.utils.urlparse(response.url).path}"] += 1
    return count


def _user_time_zone(session: JiraSession) -> ZoneInfo | None:
    try:
        me = session.call("GET /rest/api/2/myself", session.client.myself)
    except JiraError as exc:
        log.warning("cannot read the Jira user's time zone (%s): widening the incremental overlap", exc)
        return None
    try:
        return ZoneInfo(str(me.get("timeZone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown Jira time zone %r: widening the incremental overlap", me.get("timeZone"))
        return None


def resolve_fields(names: dict[str, str], available: list[dict[str, Any]]) -> dict[str, str]:
    """Config key → Jira field id, for fields named by display name or id (case-insensitive names).

    A name that matches no field, or several, is an error naming the config key and the field."""
    by_id = {f["id"]: f for f in available if f.get("id")}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for f in available:
        by_name.setdefault(str(f.get("name", "")).strip().lower(), []).append(f)
    resolved = {}
    for key, name in names.items():
        if name in by_id:
            resolved[key] = name
            continue
        matches = by_name.get(name.strip().lower(), [])
        if len(matches) == 1:
            resolved[key] = matches[0]["id"]
        elif matches:
            ids = ", ".join(m["id"] for m in matches)
            raise JiraError(f"{key}: several Jira fields are named '{name}' ({ids}); give the id instead")
        else:
            close = difflib.get_close_matches(name, [str(f.get("name", "")) for f in available], n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise JiraError(f"{key}: no Jira field named '{name}'{hint}; GET /rest/api/2/field lists "
                            f"{len(available)} fields")
    return resolved


def jql_time(moment: dt.datetime, zone: ZoneInfo | None) -> str:
    """A JQL date literal for `moment`, read by Jira in the API user's zone to the minute. Rounded down,
    and an hour earlier inside a daylight-saving fold (where the local minute names two instants)."""
    if zone is None:
        # Unknown zone: UTC, an offset Jira could read up to 14 h early or 12 h late; cover the late side.
        return (moment - dt.timedelta(hours=12)).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    local = moment.astimezone(zone)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        local = (moment - dt.timedelta(hours=1)).astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M")


def _retrying(policy: RetryPolicy, what: str, fn):
    from jira.exceptions import JIRAError  # as in connect(): the jira client only when a Jira sync runs

    try:
        return call_with_retries(fn, policy=policy, what=what, classify=_transient)
    except JIRAError as exc:
        raise JiraError(_describe(what, exc)) from None
    except requests.RequestException as exc:
        raise JiraError(f"{what}: cannot reach Jira ({type(exc).__name__})") from None


def _transient(exc: Exception) -> tuple[str, float | None] | None:
    from jira.exceptions import JIRAError

    if isinstance(exc, JIRAError) and exc.status_code in RETRY_STATUSES:
        headers = exc.response.headers if exc.response is not None else {}
        return f"HTTP {exc.status_code}", retry_after_seconds(headers.get("Retry-After"))
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return type(exc).__name__, None
    return None


def _describe(what: str, exc) -> str:
    status = exc.status_code
    if status is None:
        return f"{what}: {exc.text or type(exc).__name__}"
    if status == 401:
        return f"{what}: Jira rejected the credentials (HTTP 401): check the token and e-mail variables"
    if status == 403:
        return f"{what}: the Jira user may not do this (HTTP 403){': ' + exc.text if exc.text else ''}"
    # Redacted before it is cut: a cut through an echoed token would leave a piece no redaction matches.
    text = redact((exc.text or "").strip().splitlines()[0])[:300] if exc.text else ""
    if status in RETRY_STATUSES:
        return f"{what}: HTTP {status} after retries{': ' + text if text else ''}"
    return f"{what}: HTTP {status}{': ' + text if text else ''}"
