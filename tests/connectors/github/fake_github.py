"""A fake GitHub on loopback for the connector tests, driven by the real PyGithub client.

It speaks GitHub Enterprise's layout (`/api/v3` REST, `/api/graphql`), the real JSON shapes, `Link`
pagination with absolute URLs back to itself, keyset GraphQL cursors, rate-limit headers, and it
checks the token on every API call. Faults are injected per path (502s, rate limits with `Retry-After`
or `X-RateLimit-Reset`, GraphQL `RATE_LIMITED` errors) and every request is recorded, so tests count
calls exactly as GitHub would bill them.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

DOCS = "https://docs.github.com/rest"


@dataclass
class Fault:
    """Answer matching requests with `status` (and `headers`/`body`) instead of the real thing."""

    path: str  # regex searched in the request path and query
    status: int = 502
    times: int = 1  # how many matching requests fail (after `skip` pass through)
    skip: int = 0
    headers: dict = field(default_factory=dict)
    body: dict | str | None = None  # "{authorization}" in a string body echoes the request's header
    graphql_errors: list | None = None  # with status 200: a GraphQL error answer
    body_contains: str | None = None  # only requests whose body contains this


@dataclass
class FakeRepo:
    full_name: str
    prs: list[dict] = field(default_factory=list)  # GraphQL PullRequest nodes
    deployments: list[dict] = field(default_factory=list)  # GraphQL Deployment nodes
    runs: list[dict] = field(default_factory=list)  # REST workflow runs (urls filled in when served)
    fork: bool = False
    archived: bool = False


@dataclass
class FakeCopilot:
    seats: int = 0
    days: dict = field(default_factory=dict)  # date → day_totals dict
    latest_end: dt.date | None = None
    status: int | None = None  # e.g. 403: every Copilot endpoint answers that
    users: dict = field(default_factory=dict)  # date → per-user records (users-1-day / users-28-day reports)
    users_latest_end: dt.date | None = None
    billing: dict = field(default_factory=dict)  # (report, date) → usageItems of the billing usage API
    billing_status: int | None = None  # e.g. 403 for /organizations/{org}/settings/billing/...


def iso(text: str) -> str:
    """'2026-03-01 10:00' → '2026-03-01T10:00:00Z' (GitHub's format)."""
    return dt.datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def pr(number: int, *, merged_at: str | None, title: str | None = None, body: str = "", author: str = "dev",
       labels=(), commits=("Change",), merge_message: str | None = None, created_at: str | None = None,
       updated_at: str | None = None, closed_at: str | None = None, merge_sha: str | None = None,
       head_ref: str = "feature", files=(), reviews=()) -> dict:
    """`reviews` are (database id, reviewer login, state, submitted at or None) as GitHub keeps them."""
    created = created_at or "2026-01-01 00:00"
    closed = closed_at or merged_at
    return {
        "id": f"PR_node{number}", "number": number, "title": title or f"Change {number}", "body": body,
        "url": f"https://github.example/acme/pull/{number}", "state": "MERGED" if merged_at else "CLOSED",
        "createdAt": iso(created), "updatedAt": iso(updated_at or closed or created),
        "mergedAt": iso(merged_at) if merged_at else None, "closedAt": iso(closed) if closed else None,
        "author": {"login": author} if author else None, "headRefName": head_ref,
        "labels": {"nodes": [{"name": name} for name in labels]},
        "mergeCommit": {"oid": merge_sha or f"{number:04d}" + "a" * 36,
                        "message": merge_message or f"Merge pull request #{number}"},
        "commits": {"nodes": [{"commit": {"message": m}} for m in commits]},
        "files": {"nodes": [{"path": path} for path in files]},
        "reviews": {"nodes": [review(*r) for r in reviews]},
    }


def review(database_id: int, login: str | None, state: str, submitted_at: str | None) -> dict:
    return {"databaseId": database_id, "state": state, "submittedAt": iso(submitted_at) if submitted_at else None,
            "author": {"login": login} if login else None}


def deployment(database_id: int, *, sha: str, created_at: str, environment: str = "production",
               statuses=(("SUCCESS", None, ""),), payload: dict | None = None, description: str = "",
               task: str = "deploy") -> dict:
    """`statuses`: (state, at, description); at None = 10 minutes after creation."""
    created = dt.datetime.fromisoformat(created_at)
    nodes = [{"state": state, "createdAt": iso(at) if at else (created + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "description": desc, "logUrl": f"https://ci.example/{database_id}"} for state, at, desc in statuses]
    return {
        "id": f"DE_node{database_id}", "databaseId": database_id, "environment": environment, "commitOid": sha,
        "createdAt": iso(created_at), "description": description, "task": task,
        "payload": json.dumps(payload or {}), "latestStatus": nodes[-1] if nodes else None,
        "statuses": {"nodes": nodes},
    }


def workflow_run(run_id: int, *, sha: str, created_at: str, name: str = "Deploy", status: str = "completed",
                 conclusion: str | None = "success", branch: str = "main", event: str = "push",
                 title: str | None = None, minutes: int = 10, prs=()) -> dict:
    created = dt.datetime.fromisoformat(created_at)
    return {
        "id": run_id, "name": name, "node_id": f"WFR_{run_id}", "head_branch": branch, "head_sha": sha,
        "path": ".github/workflows/deploy.yml", "display_title": title or f"Deploy {sha[:7]}", "run_number": run_id,
        "event": event, "status": status, "conclusion": conclusion if status == "completed" else None,
        "workflow_id": 1, "created_at": iso(created_at), "run_started_at": iso(created_at),
        "updated_at": (created + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pull_requests": [{"number": n, "id": n, "url": ""} for n in prs], "run_attempt": 1,
    }


class InvalidCursor(ValueError):
    pass


def _cursor(values) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


def _uncursor(text: str):
    return json.loads(base64.b64decode(text))


class FakeGithub:
    def __init__(self, token: str):
        self.token = token
        self.repos: dict[str, FakeRepo] = {}
        self.copilot: dict[str, FakeCopilot] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path?query, status)
        self.download_auth: list[str | None] = []  # Authorization header seen by /downloads
        self.rate_remaining = 5000
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/v3"

    def start(self) -> FakeGithub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def repo(self, full_name: str, **kw) -> FakeRepo:
        return self.repos.setdefault(full_name.lower(), FakeRepo(full_name, **kw))

    def calls(self, pattern: str = "") -> int:
        with self.lock:
            return sum(1 for _, path, _ in self.requests if re.search(pattern, path))

    def reset_calls(self) -> None:
        with self.lock:
            self.requests.clear()

    # Answering -----------------------------------------------------------------------------------
    def answer(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        fault = self._fault(target, body)
        resource = "graphql" if parts.path.endswith("/graphql") else "core"
        extra = {}
        if fault is not None:
            status, payload, extra = self._fault_answer(fault, headers)
        elif parts.path.startswith("/downloads/"):
            self.download_auth.append(headers.get("Authorization"))
            return self._download(parts.path)
        elif headers.get("Authorization") != f"token {self.token}":
            status, payload = 401, {"message": "Bad credentials", "documentation_url": DOCS}
        elif method == "POST" and parts.path == "/api/graphql":
            status, payload = self._graphql(json.loads(body or b"{}"))
        elif method == "GET" and parts.path.startswith("/api/v3/"):
            status, payload, extra = self._rest(parts.path[len("/api/v3"):], query)
        else:
            status, payload = 404, {"message": "Not Found", "documentation_url": DOCS}
        with self.lock:
            self.rate_remaining = max(0, self.rate_remaining - 1)
            remaining = self.rate_remaining
        out = {"Content-Type": "application/json; charset=utf-8", "X-RateLimit-Limit": "5000",
               "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Used": str(5000 - remaining),
               "X-RateLimit-Reset": str(int(dt.datetime.now(dt.timezone.utc).timestamp()) + 3600),
               "X-RateLimit-Resource": resource}
        out.update(extra)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return status, out, data

    def _fault(self, target: str, body: bytes) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times <= 0 or not re.search(fault.path, target):
                    continue
                if fault.body_contains and fault.body_contains.encode() not in body:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                return fault
        return None

    def _fault_answer(self, fault: Fault, headers) -> tuple[int, object, dict]:
        if fault.graphql_errors is not None:
            return fault.status, {"data": None, "errors": fault.graphql_errors}, dict(fault.headers)
        body = fault.body if fault.body is not None else {"message": "Server Error"}
        if isinstance(body, str):
            body = body.replace("{authorization}", headers.get("Authorization") or "").encode()
        return fault.status, body, dict(fault.headers)

    def _download(self, path: str) -> tuple[int, dict, bytes]:
        if users := re.fullmatch(r"/downloads/users/(?P<org>[^/]+)/(?P<first>[\d-]+)_(?P<last>[\d-]+)\.ndjson", path):
            copilot = self.copilot.get(users["org"])
            first, last = dt.date.fromisoformat(users["first"]), dt.date.fromisoformat(users["last"])
            lines = [json.dumps(r) if isinstance(r, dict) else str(r) for d, records in sorted(copilot.users.items())
                     if first <= d <= last for r in records]
            return 200, {"Content-Type": "application/x-ndjson"}, "".join(line + "\n" for line in lines).encode()
        match = re.fullmatch(r"/downloads/(?P<org>[^/]+)/(?P<first>[\d-]+)_(?P<last>[\d-]+)\.ndjson", path)
        copilot = self.copilot.get(match["org"]) if match else None
        if copilot is None:
            return 404, {"Content-Type": "text/plain"}, b"no such file"
        first, last = dt.date.fromisoformat(match["first"]), dt.date.fromisoformat(match["last"])
        totals = [dict(v, day=d.isoformat()) for d, v in sorted(copilot.days.items()) if first <= d <= last]
        record = {"organization_id": "1", "report_start_day": first.isoformat(), "report_end_day": last.isoformat(),
                  "day_totals": totals}
        return 200, {"Content-Type": "application/x-ndjson"}, (json.dumps(record) + "\n").encode()

    # REST ----------------------------------------------------------------------------------------
    def _rest(self, path: str, query: dict) -> tuple[int, object, dict]:
        not_found = (404, {"message": "Not Found", "documentation_url": DOCS}, {})
        if m := re.fullmatch(r"/orgs/([^/]+)/repos", path):
            repos = [r for r in self.repos.values() if r.full_name.split("/")[0].lower() == m[1].lower()]
            if not repos:
                return not_found
            return self._paged(path, query, [self._repo_json(r) for r in sorted(repos, key=lambda r: r.full_name)])
        if re.fullmatch(r"/users/([^/]+)/repos", path):
            return not_found
        if m := re.fullmatch(r"/repos/([^/]+/[^/]+)/actions/runs", path):
            repo = self.repos.get(m[1].lower())
            if repo is None:
                return not_found
            runs = sorted(repo.runs, key=lambda r: (r["created_at"], r["id"]), reverse=True)
            items = [self._run_json(repo, r) for r in runs]
            return self._paged(path, query, items, wrap="workflow_runs")
        if m := re.fullmatch(r"/orgs/([^/]+)/copilot/(.+)", path):
            return self._copilot(m[1], m[2], query)
        if m := re.fullmatch(r"/organizations/([^/]+)/settings/billing/(premium_request|ai_credit)/usage", path):
            return self._billing(m[1], m[2], query)
        return not_found

    def _billing(self, org: str, report: str, query: dict) -> tuple[int, object, dict]:
        copilot = self.copilot.get(org)
        if copilot is None or copilot.billing_status:
            status = copilot.billing_status if copilot else 404
            return status, {"message": "Resource not accessible by personal access token", "documentation_url": DOCS}, {}
        day = dt.date(int(query["year"]), int(query["month"]), int(query["day"]))
        return 200, {"timePeriod": {"year": day.year, "month": day.month, "day": day.day}, "organization": org,
                     "usageItems": copilot.billing.get((report, day), [])}, {}

    def _paged(self, path: str, query: dict, items: list, wrap: str | None = None) -> tuple[int, object, dict]:
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(items) // per_page))
        headers = {}
        if page < last:
            def link(n):
                return f"{self.base_url}{path}?{urlencode(dict(query, page=n, per_page=per_page))}"
            headers["Link"] = f'<{link(page + 1)}>; rel="next", <{link(last)}>; rel="last"'
        payload = {"total_count": len(items), wrap: chunk} if wrap else chunk
        return 200, payload, headers

    def _repo_json(self, repo: FakeRepo) -> dict:
        owner, name = repo.full_name.split("/")
        return {"id": abs(hash(repo.full_name)) % 10**8, "node_id": f"R_{name}", "name": name, "full_name": repo.full_name,
                "owner": {"login": owner, "type": "Organization"}, "private": True, "fork": repo.fork,
                "archived": repo.archived, "default_branch": "main",
                "url": f"{self.base_url}/repos/{repo.full_name}", "html_url": f"{self.root}/{repo.full_name}"}

    def _run_json(self, repo: FakeRepo, run: dict) -> dict:
        base = f"{self.base_url}/repos/{repo.full_name}"
        return dict(run, url=f"{base}/actions/runs/{run['id']}", html_url=f"{self.root}/{repo.full_name}/actions/runs/{run['id']}",
                    jobs_url=f"{base}/actions/runs/{run['id']}/jobs", repository={"full_name": repo.full_name},
                    pull_requests=[dict(p, url=f"{base}/pulls/{p['number']}") for p in run["pull_requests"]])

    def _copilot(self, org: str, rest: str, query: dict) -> tuple[int, object, dict]:
        copilot = self.copilot.get(org)
        if copilot is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if copilot.status:
            return copilot.status, {"message": "Resource not accessible by personal access token",
                                    "documentation_url": DOCS}, {}
        if rest == "billing/seats":
            seats = [{"assignee": {"login": f"dev{i}"}, "plan_type": "business", "last_activity_at": None}
                     for i in range(min(copilot.seats, int(query.get("per_page", 50))))]
            return 200, {"total_seats": copilot.seats, "seats": seats}, {}
        if rest == "metrics/reports/organization-28-day/latest" and copilot.latest_end:
            first = copilot.latest_end - dt.timedelta(days=27)
            return 200, {"download_links": [self._link(org, first, copilot.latest_end)],
                         "report_start_day": first.isoformat(), "report_end_day": copilot.latest_end.isoformat()}, {}
        if rest == "metrics/reports/users-28-day/latest" and copilot.users_latest_end:
            first = copilot.users_latest_end - dt.timedelta(days=27)
            return 200, {"download_links": [self._link(f"users/{org}", first, copilot.users_latest_end)],
                         "report_start_day": first.isoformat(), "report_end_day": copilot.users_latest_end.isoformat()}, {}
        if rest == "metrics/reports/users-1-day" and "day" in query:
            day = dt.date.fromisoformat(query["day"])
            if day not in copilot.users:
                return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            return 200, {"download_links": [self._link(f"users/{org}", day, day)], "report_day": day.isoformat()}, {}
        if rest == "metrics/reports/organization-1-day" and "day" in query:
            day = dt.date.fromisoformat(query["day"])
            if day not in copilot.days:
                return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            return 200, {"download_links": [self._link(org, day, day)], "report_day": day.isoformat()}, {}
        return 404, {"message": "Not Found", "documentation_url": DOCS}, {}

    def _link(self, org: str, first: dt.date, last: dt.date) -> str:
        return f"{self.root}/downloads/{org}/{first.isoformat()}_{last.isoformat()}.ndjson"

    # GraphQL -------------------------------------------------------------------------------------
    def _graphql(self, request: dict) -> tuple[int, dict]:
        query, v = request.get("query", ""), request.get("variables") or {}
        if "query ScorecardRepo(" not in query:
            return 200, {"errors": [{"message": "Parse error: unknown operation"}]}
        for name, kind in (("owner", str), ("name", str), ("withPrs", bool), ("prFirst", int),
                           ("withDeployments", bool), ("deployFirst", int)):
            if not isinstance(v.get(name), kind):
                return 200, {"errors": [{"message": f"Variable ${name} of type {kind.__name__} was not provided"}]}
        for name in ("prFirst", "deployFirst"):
            if not 1 <= v[name] <= 100:
                return 200, {"errors": [{"message": f"${name} must be within 1-100"}]}
        with self.lock:
            remaining = self.rate_remaining
        data: dict = {"rateLimit": {"cost": 1, "remaining": remaining,
                                    "resetAt": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}}
        repo = self.repos.get(f"{v['owner']}/{v['name']}".lower())
        if repo is None:
            data["repository"] = None
            return 200, {"data": data, "errors": [{"type": "NOT_FOUND", "path": ["repository"],
                                                   "message": f"Could not resolve to a Repository with the name '{v['owner']}/{v['name']}'."}]}
        try:
            data["repository"] = self._repository(repo, v, query)
        except InvalidCursor as exc:
            return 200, {"errors": [{"type": "INVALID_CURSOR_ARGUMENTS", "path": ["repository"], "message": str(exc)}]}
        except ValueError as exc:
            return 200, {"errors": [{"message": str(exc)}]}
        return 200, {"data": data}

    def _repository(self, repo: FakeRepo, v: dict, query: str) -> dict:
        out: dict = {"nameWithOwner": repo.full_name}
        if v["withPrs"]:
            prs = [p for p in repo.prs if p.get("state") in ("MERGED", "CLOSED")]
            out["pullRequests"] = self._connection(prs, lambda p: [str(p.get("updatedAt")), p.get("number") or 0],
                                                   v["prFirst"], v.get("prAfter"), query)
        if v["withDeployments"]:
            deps = [d for d in repo.deployments if not v.get("environments") or d["environment"] in v["environments"]]
            out["deployments"] = self._connection(deps, lambda d: [d["createdAt"], d["databaseId"]],
                                                  v["deployFirst"], v.get("deployAfter"), query)
        return out

    @staticmethod
    def _connection(items: list[dict], key, first: int, after: str | None, query: str) -> dict:
        ordered = sorted(items, key=key, reverse=True)
        if after:
            try:
                mark = _uncursor(after)
            except ValueError:
                raise InvalidCursor(f"`{after}` does not appear to be a valid cursor.") from None
            ordered = [i for i in ordered if key(i) < mark]
        page = ordered[:first]
        for node in page:  # the fake only hands out fields the query asked for
            missing = [k for k in node if not re.search(rf"\b{k}\b", query)]
            if missing:
                raise ValueError(f"Field '{missing[0]}' was not selected by the query")
        page = [_nested(node, query) for node in page]
        return {"pageInfo": {"hasNextPage": len(ordered) > first,
                             "endCursor": _cursor(key(page[-1])) if page else None},
                "nodes": page}


def _nested(node: dict, query: str) -> dict:
    """A PR's nested connections as GitHub answers them: `files(first: N)` gives the first N paths,
    `reviews(states: [...])` only reviews in those states (a pending review is never among them)."""
    if "files" not in node and "reviews" not in node:
        return node
    out = dict(node)
    if "files" in node:
        first = re.search(r"files\(first:\s*(\d+)", query)
        if first is None:
            raise ValueError("files needs first: or last:")
        out["files"] = {"nodes": node["files"]["nodes"][: int(first.group(1))]}
    if "reviews" in node:
        states = re.search(r"reviews\([^)]*states:\s*\[([A-Z_,\s]+)\]", query)
        nodes = node["reviews"]["nodes"]
        if states:
            wanted = {s.strip() for s in states.group(1).split(",")}
            nodes = [r for r in nodes if r["state"] in wanted]
        out["reviews"] = {"nodes": nodes}
    return out


def _handler(fake: FakeGithub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = fake.answer(method, self.path, self.headers, body)
            with fake.lock:
                fake.requests.append((method, self.path, status))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._serve("GET")

        def do_POST(self):  # noqa: N802
            self._serve("POST")

        def log_message(self, *args):  # keep test output clean
            return

    return Handler
