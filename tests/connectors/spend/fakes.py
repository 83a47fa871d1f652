"""Fake OpenAI and Anthropic cost APIs and a webhook receiver, on loopback, for the spend tests.

The APIs answer in their real shapes: OpenAI `GET /v1/organization/costs` (Bearer admin key; buckets
with `start_time`/`end_time` in unix seconds, results `{amount: {value, currency}, project_id,
line_item}`), Anthropic `GET /v1/organizations/cost_report` (`x-api-key` + `anthropic-version`; buckets
with RFC 3339 `starting_at`/`ending_at`, results with `amount` as a decimal string in cents). Both page
by `limit` buckets, `has_more` and an opaque `next_page` token sent back as `page`; both check the key
(401 in their error shape otherwise). Faults (e.g. a 429 with `Retry-After`) are queued per server, and
every request is recorded.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    status: int = 429
    headers: dict = field(default_factory=dict)
    body: dict = field(default_factory=lambda: {"error": {"type": "rate_limit_error", "message": "Rate limited"}})


@dataclass
class Request:
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]


class _Server:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                owner._handle(self)

            def do_POST(self):  # noqa: N802
                owner._handle(self)

            def log_message(self, *args):
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(parts.path, parse_qs(parts.query), {k.lower(): v for k, v in handler.headers.items()})
        self.requests.append(request)
        if self.faults:
            fault = self.faults.pop(0)
            return _send(handler, fault.status, fault.body, fault.headers)
        status, answer = self.answer(request, body)
        _send(handler, status, answer)

    def answer(self, request: Request, body: bytes) -> tuple[int, dict]:
        raise NotImplementedError


def _send(handler, status: int, body: dict, headers: dict | None = None) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, str(value))
    handler.end_headers()
    handler.wfile.write(data)


def _days(first: dt.date, end: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((end - first).days)]


class FakeOpenAI(_Server):
    """`costs[day]` is the list of results for that UTC day: (project_id, line_item, value, currency)."""

    def __init__(self, key: str, costs: dict[dt.date, list[tuple]]) -> None:
        super().__init__()
        self.key, self.costs = key, costs

    def answer(self, request: Request, body: bytes) -> tuple[int, dict]:
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return 401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                   "code": "invalid_api_key"}}
        if request.path != "/v1/organization/costs":
            return 404, {"error": {"message": f"Invalid URL (GET {request.path})"}}
        p = request.params
        assert p["bucket_width"] == ["1d"] and p["group_by[]"] == ["project_id", "line_item"], p
        start = dt.datetime.fromtimestamp(int(p["start_time"][0]), dt.timezone.utc).date()
        end = dt.datetime.fromtimestamp(int(p["end_time"][0]), dt.timezone.utc).date()
        limit = int(p.get("limit", ["7"])[0])
        first = dt.date.fromisoformat(p["page"][0].removeprefix("page_")) if "page" in p else start
        days = _days(first, end)
        shown, rest = days[:limit], days[limit:]
        data = []
        for day in shown:
            moment = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
            data.append({"object": "bucket", "start_time": moment, "end_time": moment + 86_400, "results": [
                {"object": "organization.costs.result", "amount": {"value": value, "currency": currency},
                 "line_item": line_item, "project_id": project, "organization_id": "org-fake"}
                for project, line_item, value, currency in self.costs.get(day, [])
            ]})
        return 200, {"object": "page", "data": data, "has_more": bool(rest),
                     "next_page": f"page_{rest[0].isoformat()}" if rest else None}


class FakeAnthropic(_Server):
    """`costs[day]` is the list of results for that UTC day: (workspace_id, description, model, cents)."""

    def __init__(self, key: str, costs: dict[dt.date, list[tuple]]) -> None:
        super().__init__()
        self.key, self.costs = key, costs

    def answer(self, request: Request, body: bytes) -> tuple[int, dict]:
        if request.headers.get("x-api-key") != self.key:
            return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
        if request.headers.get("anthropic-version") != "2023-06-01":
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "anthropic-version"}}
        p = request.params
        assert p["group_by[]"] == ["workspace_id", "description"], p
        start = dt.datetime.fromisoformat(p["starting_at"][0].replace("Z", "+00:00")).date()
        end = dt.datetime.fromisoformat(p["ending_at"][0].replace("Z", "+00:00")).date()
        limit = int(p.get("limit", ["7"])[0])
        if limit > 31:
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "limit must be <= 31"}}
        first = dt.date.fromisoformat(p["page"][0].removeprefix("page_")) if "page" in p else start
        days = _days(first, end)
        shown, rest = days[:limit], days[limit:]
        data = [{
            "starting_at": f"{day.isoformat()}T00:00:00Z", "ending_at": f"{(day + dt.timedelta(days=1)).isoformat()}T00:00:00Z",
            "results": [{"currency": "USD", "amount": cents, "workspace_id": workspace, "description": description,
                         "cost_type": "tokens", "context_window": "0-200k", "model": model,
                         "service_tier": "standard", "token_type": "uncached_input_tokens"}
                        for workspace, description, model, cents in self.costs.get(day, [])],
        } for day in shown]
        return 200, {"data": data, "has_more": bool(rest), "next_page": f"page_{rest[0].isoformat()}" if rest else None}


class WebhookReceiver(_Server):
    """Accepts POSTs at one secret path (like a Slack incoming webhook) and keeps their JSON bodies."""

    def __init__(self, secret_path: str = "/services/T000/B000/s3cr3t-token", status: int = 200) -> None:
        super().__init__()
        self.secret_path, self.status, self.bodies = secret_path, status, []

    @property
    def hook_url(self) -> str:
        return self.url + self.secret_path

    def answer(self, request: Request, body: bytes) -> tuple[int, dict]:
        if request.path != self.secret_path:
            return 404, {"error": "no_service"}
        self.bodies.append(json.loads(body))
        return self.status, {"ok": self.status < 300}
