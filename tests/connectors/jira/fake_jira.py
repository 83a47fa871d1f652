"""A fake Jira on loopback, Cloud or Server/Data Center flavoured, answering in Jira's JSON shapes.

Cloud: `/rest/api/2/search/jql` pages with an opaque `nextPageToken` and `isLast` (the old `/search`
answers 410), basic auth (e-mail + API token), `/issue/KEY/changelog` pages. Server: `/rest/api/2/search`
pages with `startAt`/`total`, bearer personal access tokens, whole changelogs on `/issue/KEY`. JQL is
understood as far as the connector writes it: `(<a query registered here>) [AND updated >= "yyyy-MM-dd
HH:mm"] ORDER BY updated ASC, key ASC`, the date read in the API user's time zone as Jira does.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tests.connectors.loopback import Fault, LoopbackServer, Reply, Request, take_fault

API = "/rest/api/2"
SYSTEM_FIELDS = [
    ("summary", "Summary", "string"), ("created", "Created", "datetime"), ("updated", "Updated", "datetime"),
    ("resolutiondate", "Resolved", "datetime"), ("status", "Status", "status"), ("labels", "Labels", "array"),
    ("project", "Project", "project"), ("components", "Component/s", "array"), ("priority", "Priority", "priority"),
    ("issuetype", "Issue Type", "issuetype"), ("issuelinks", "Linked Issues", "array"),
]
CUSTOM_FIELDS = [
    ("customfield_10010", "Request Type", "sd-customerrequesttype"),
    ("customfield_10020", "Satisfaction", "sd-request-feedback"),
    ("customfield_10030", "Incident start", "datetime"),
    ("customfield_10040", "Severity", "select"),
    ("customfield_10050", "Team", "select"),
    ("customfield_10060", "AI assisted", "select"),
    ("customfield_10070", "Deployment", "textfield"),
]
JQL = re.compile(r'^\((?P<base>.+)\)(?: AND updated >= "(?P<since>\d{4}-\d{2}-\d{2} \d{2}:\d{2})")?'
                 r" ORDER BY updated ASC, key ASC$")


def jira_time(moment: str) -> str:
    """'2026-03-02 10:00' (UTC) → Jira's '2026-03-02T10:00:00.000+0000'."""
    return dt.datetime.fromisoformat(moment).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class StoredIssue:
    raw: dict[str, Any]  # the issue JSON, served as it is (a malformed one too)
    updated: dt.datetime  # what `updated >= ...` and ORDER BY read
    project: str = ""
    histories: list[dict[str, Any]] = field(default_factory=list)


class FakeJira:
    def __init__(self, flavour: str = "cloud", *, email: str = "ops@acme.test", token: str = "tok",
                 time_zone: str = "America/New_York", changelog_in_search: int = 100):
        assert flavour in ("cloud", "server")
        self.flavour, self.email, self.token = flavour, email, token
        self.time_zone = time_zone
        self.changelog_in_search = changelog_in_search  # histories a search result carries per issue
        self.issues: dict[str, StoredIssue] = {}
        self.queries: dict[str, Callable[[StoredIssue], bool]] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.before_search: Callable[[int], None] | None = None  # called with the search's number (1, 2, ...)
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    # --- set-up ---------------------------------------------------------------------------------

    def __enter__(self) -> "FakeJira":
        self._server = LoopbackServer(self.handle).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self._server.url

    def query(self, jql: str, project: str) -> None:
        """Register a JQL the connector may send, as the issues of one project."""
        self.queries[jql] = lambda issue: issue.project == project

    def add(self, key: str, *, created: str | None, updated: str, resolved: str | None = None,
            status: str = "Done", summary: str = "", labels=(), components=(), priority: str | None = None,
            fields: dict[str, Any] | None = None, histories: list[dict[str, Any]] | None = None,
            raw: dict[str, Any] | None = None) -> None:
        """An issue with times given as 'YYYY-MM-DD HH:MM' UTC (or `raw` JSON served as it is)."""
        project = key.split("-")[0]
        done = status in ("Done", "Resolved", "Closed")
        body = raw if raw is not None else {
            "id": str(10000 + len(self.issues)), "key": key, "self": f"{API}/issue/{key}",
            "fields": {
                "summary": summary or f"Issue {key}",
                "created": jira_time(created) if created else None,
                "updated": jira_time(updated),
                "resolutiondate": jira_time(resolved) if resolved else None,
                "status": {"name": status, "statusCategory": {"key": "done" if done else "indeterminate"}},
                "labels": list(labels),
                "project": {"key": project, "name": project},
                "components": [{"name": c} for c in components],
                "priority": {"name": priority} if priority else None,
                "issuetype": {"name": "Incident"},
                **(fields or {}),
            },
        }
        moment = dt.datetime.fromisoformat(updated).replace(tzinfo=dt.timezone.utc)
        with self._lock:
            self.issues[key] = StoredIssue(body, moment, project, list(histories or []))

    def touch(self, key: str, updated: str, **fields: Any) -> None:
        """Edit an issue: a new `updated` and the given field values."""
        with self._lock:
            issue = self.issues[key]
            issue.updated = dt.datetime.fromisoformat(updated).replace(tzinfo=dt.timezone.utc)
            issue.raw["fields"]["updated"] = jira_time(updated)
            issue.raw["fields"].update(fields)

    def fail(self, path: str, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"errorMessages": ["Rate limit exceeded." if status == 429 else "Service unavailable"], "errors": {}}
        self.faults.append(Fault(API + path, status, times, headers, body))

    def searches(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(f"{API}/search")]

    # --- the API --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            number = len(self.searches()) if request.path.startswith(f"{API}/search") else 0
        if number and self.before_search is not None:
            self.before_search(number)
        with self._lock:
            if (fault := take_fault(self.faults, request.path)) is not None:
                return fault
            if request.path == f"{API}/serverInfo":  # anonymous, as on a real site
                return Reply(200, {"baseUrl": self.url, "version": "1001.0.0" if self.flavour == "cloud" else "9.12.4",
                                   "versionNumbers": [1001, 0, 0] if self.flavour == "cloud" else [9, 12, 4],
                                   "deploymentType": "Cloud" if self.flavour == "cloud" else "Server",
                                   "serverTitle": "Acme Jira"})
            if not self._authorised(request):
                # Some proxies echo the credentials they rejected: the connector must not repeat them.
                return Reply(401, {"errorMessages": [f"Bad credentials: {request.headers.get('authorization')}"]})
            return self._route(request)

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        if self.flavour == "cloud":
            return given == "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return given == f"Bearer {self.token}"

    def _route(self, request: Request) -> Reply:
        path = request.path
        if path == f"{API}/field":
            fields = [{"id": i, "key": i, "name": n, "custom": False, "orderable": True, "navigable": True,
                       "searchable": True, "clauseNames": [i], "schema": {"type": t, "system": i}}
                      for i, n, t in SYSTEM_FIELDS]
            fields += [{"id": i, "key": i, "name": n, "custom": True, "orderable": True, "navigable": True,
                        "searchable": True, "clauseNames": [f"cf[{i.split('_')[1]}]", n],
                        "schema": {"type": "any", "custom": f"com.atlassian:{t}", "customId": int(i.split("_")[1])}}
                       for i, n, t in CUSTOM_FIELDS]
            return Reply(200, fields)
        if path == f"{API}/myself":
            return Reply(200, {"accountId": "5b10a2844c20165700ede21g", "emailAddress": self.email,
                               "displayName": "Scorecard bot", "timeZone": self.time_zone, "active": True})
        if path == f"{API}/search/jql":
            if self.flavour != "cloud":
                return Reply(404, {"errorMessages": ["null for uri: /rest/api/2/search/jql"]})
            return self._search_cloud(request)
        if path == f"{API}/search":
            if self.flavour == "cloud":
                return Reply(410, {"errorMessages": ["The requested API has been removed. Please migrate to "
                                                     "the /rest/api/3/search/jql API."], "errors": {}})
            return self._search_server(request)
        match = re.fullmatch(rf"{API}/issue/([A-Z]+-\d+)(/changelog)?", path)
        if match and match.group(1) in self.issues:
            stored = self.issues[match.group(1)]
            if match.group(2) and self.flavour == "cloud":
                start, size = int(request.arg("startAt", "0")), int(request.arg("maxResults", "100"))
                values = stored.histories[start:start + size]
                return Reply(200, {"self": self.url + path, "startAt": start, "maxResults": size,
                                   "total": len(stored.histories), "isLast": start + size >= len(stored.histories),
                                   "values": values})
            if not match.group(2):
                body = json.loads(json.dumps(stored.raw))
                if "changelog" in (request.arg("expand") or ""):
                    body["changelog"] = {"startAt": 0, "maxResults": len(stored.histories),
                                         "total": len(stored.histories), "histories": stored.histories}
                return Reply(200, body)
        return Reply(404, {"errorMessages": [f"no route {path}"], "errors": {}})

    def _matching(self, request: Request) -> list[StoredIssue] | Reply:
        match = JQL.match(request.arg("jql", ""))
        if not match or match.group("base") not in self.queries:
            return Reply(400, {"errorMessages": [f"Error in the JQL Query: {request.arg('jql')!r}"], "errors": {}})
        keep = self.queries[match.group("base")]
        issues = [i for i in self.issues.values() if keep(i)]
        if match.group("since"):
            since = dt.datetime.fromisoformat(match.group("since")).replace(tzinfo=ZoneInfo(self.time_zone))
            issues = [i for i in issues if i.updated >= since]
        return sorted(issues, key=lambda i: (i.updated, i.project, int(i.raw.get("key", "X-0").split("-")[1])))

    def _render(self, stored: StoredIssue, request: Request) -> dict[str, Any]:
        wanted = ",".join(request.query.get("fields", ["*all"])).split(",")
        body = json.loads(json.dumps(stored.raw))
        if "*all" not in wanted and isinstance(body.get("fields"), dict):
            body["fields"] = {k: v for k, v in body["fields"].items() if k in wanted}
        if "changelog" in (request.arg("expand") or ""):
            shown = stored.histories[: self.changelog_in_search]
            body["changelog"] = {"startAt": 0, "maxResults": len(shown), "total": len(stored.histories),
                                 "histories": shown}
        return body

    def _search_cloud(self, request: Request) -> Reply:
        issues = self._matching(request)
        if isinstance(issues, Reply):
            return issues
        jql = request.arg("jql")
        offset = 0
        if token := request.arg("nextPageToken"):
            position = json.loads(base64.urlsafe_b64decode(token))
            if position["jql"] != jql:
                return Reply(400, {"errorMessages": ["The nextPageToken does not belong to this query."]})
            offset = position["offset"]
        size = min(int(request.arg("maxResults", "50")), 100)
        page = issues[offset:offset + size]
        body: dict[str, Any] = {"issues": [self._render(i, request) for i in page]}
        if offset + size < len(issues):
            body["nextPageToken"] = base64.urlsafe_b64encode(
                json.dumps({"jql": jql, "offset": offset + size}).encode()).decode()
            body["isLast"] = False
        else:
            body["isLast"] = True
        return Reply(200, body)

    def _search_server(self, request: Request) -> Reply:
        issues = self._matching(request)
        if isinstance(issues, Reply):
            return issues
        start, size = int(request.arg("startAt", "0")), min(int(request.arg("maxResults", "50")), 100)
        page = issues[start:start + size]
        return Reply(200, {"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(issues),
                           "issues": [self._render(i, request) for i in page]})
