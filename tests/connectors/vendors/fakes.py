"""Fake vendor admin APIs on loopback, answering in the shapes of their API references (issue 18).

- Anthropic `GET /v1/organizations/usage_report/claude_code?starting_at=YYYY-MM-DD&limit&page`
  (`x-api-key` + `anthropic-version`): `{data, has_more, next_page}`; errors `{type: "error", error:
  {type, message}}` (401 authentication_error, 403 permission_error).
- Cursor `POST /teams/daily-usage-data` and `POST /teams/filtered-usage-events` (Basic auth, key as user
  name): `{data, period}` and `{totalUsageEventsCount, pagination {numPages, currentPage, pageSize,
  hasNextPage, hasPreviousPage}, usageEvents, period}`; the error body is not documented (assumed
  `{"error": "..."}`).
- OpenAI `GET /v1/organization/usage/completions` (Bearer): buckets of `organization.usage.completions.result`
  grouped as asked, paged by `limit` / `has_more` / `next_page`.

Each record carries every field its reference documents (docs/vendors.md says where each one lands and
which shapes no real answer has confirmed). Faults (status, headers, body) are queued per path prefix
with `tests.connectors.loopback.Fault`; every request is recorded with its JSON body.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field

from tests.connectors.loopback import Fault, LoopbackServer, Reply, Request, take_fault

D = dt.date


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


class _Fake:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.requests: list[tuple[Request, dict]] = []
        self.server = LoopbackServer(self._serve)

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    def calls(self, path: str = "") -> int:
        return sum(1 for r, _ in self.requests if r.path.startswith(path))

    def _serve(self, request: Request) -> Reply:
        body = json.loads(request.body or b"{}") if request.method == "POST" else {}
        self.requests.append((request, body))
        fault = take_fault(self.faults, request.path)
        return fault if fault is not None else self.answer(request, body)

    def answer(self, request: Request, body: dict) -> Reply:
        raise NotImplementedError


@dataclass
class ClaudeCodeDay:
    records: list[dict] = field(default_factory=list)


def claude_record(email: str | None, day: dt.date, *, sessions=3, added=120, removed=30, commits=2, prs=1,
                  accepted=(10, 2, 1, 0), rejected=(2, 0, 0, 1), models=(("claude-sonnet-4-5", 1000, 250, 400, 50, 186),),
                  api_key: str | None = None) -> dict:
    """A Claude Code report record as the reference shows it (models: name, input, output, cache_read,
    cache_creation, estimated cost in cents)."""
    actor = {"type": "api_actor", "api_key_name": api_key} if api_key else {"type": "user_actor", "email_address": email}
    names = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
    return {
        "actor": actor, "date": f"{day.isoformat()}T00:00:00Z", "organization_id": "12345678-1234-5678-1234-567812345678",
        "customer_type": "api", "subscription_type": "enterprise", "terminal_type": "vscode",
        "core_metrics": {"num_sessions": sessions, "lines_of_code": {"added": added, "removed": removed},
                         "commits_by_claude_code": commits, "pull_requests_by_claude_code": prs},
        "tool_actions": {n: {"accepted": a, "rejected": r} for n, a, r in zip(names, accepted, rejected)},
        "model_breakdown": [{"model": m, "tokens": {"input": i, "output": o, "cache_read": cr, "cache_creation": cc},
                             "estimated_cost": {"amount": cents, "currency": "USD"}}
                            for m, i, o, cr, cc, cents in models],
    }


class FakeClaudeCode(_Fake):
    """`days[date]` is the list of records for that day, served `limit` at a time."""

    def __init__(self, key: str, days: dict[dt.date, list[dict]]) -> None:
        super().__init__()
        self.key, self.days = key, days

    def answer(self, request: Request, body: dict) -> Reply:
        if request.headers.get("x-api-key") != self.key:
            return Reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        if request.headers.get("anthropic-version") != "2023-06-01":
            return Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "anthropic-version header is required"}})
        if request.path != "/v1/organizations/usage_report/claude_code":
            return Reply(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})
        day = D.fromisoformat(request.arg("starting_at"))
        limit = int(request.arg("limit", "20"))
        if not 1 <= limit <= 1000:
            return Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "limit: must be <= 1000"}})
        offset = int(request.arg("page", "page_0").removeprefix("page_"))
        records = self.days.get(day, [])
        rest = records[offset + limit:]
        return Reply(200, {"data": records[offset:offset + limit], "has_more": bool(rest),
                           "next_page": f"page_{offset + limit}" if rest else None})


def cursor_usage(email: str | None, day: dt.date, **overrides) -> dict:
    """A daily-usage-data record as the reference's example shows it."""
    record = {
        "date": _ms(day), "isActive": True, "totalLinesAdded": 1543, "totalLinesDeleted": 892,
        "acceptedLinesAdded": 1102, "acceptedLinesDeleted": 645, "totalApplies": 87, "totalAccepts": 73,
        "totalRejects": 14, "totalTabsShown": 342, "totalTabsAccepted": 289, "composerRequests": 45,
        "chatRequests": 128, "agentRequests": 12, "cmdkUsages": 67, "subscriptionIncludedReqs": 180,
        "apiKeyReqs": 0, "usageBasedReqs": 5, "bugbotUsages": 3, "mostUsedModel": "gpt-5",
        "applyMostUsedExtension": ".tsx", "tabMostUsedExtension": ".ts", "clientVersion": "1.7.2", "email": email,
    }
    record.update(overrides)
    return record


def cursor_event(email: str, moment: dt.datetime, model: str, cents: float | None, tokens=(100, 50, 0, 0)) -> dict:
    """A usage event; `cents` None: a request included in the plan (no token usage billed)."""
    event = {"timestamp": str(int(moment.timestamp() * 1000)), "model": model,
             "kind": "Usage-based" if cents is not None else "Included in Business", "maxMode": False,
             "requestsCosts": 1, "isTokenBasedCall": cents is not None, "isFreeBugbot": False, "userEmail": email}
    if cents is not None:
        event["tokenUsage"] = {"inputTokens": tokens[0], "outputTokens": tokens[1], "cacheWriteTokens": tokens[2],
                               "cacheReadTokens": tokens[3], "totalCents": cents}
    return event


class FakeCursor(_Fake):
    def __init__(self, key: str, usage: list[dict], events: list[dict]) -> None:
        super().__init__()
        self.key, self.usage, self.events = key, usage, events

    def answer(self, request: Request, body: dict) -> Reply:
        expected = "Basic " + base64.b64encode(f"{self.key}:".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, {"error": "Unauthorized"})
        if request.method != "POST":
            return Reply(405, {"error": "Method not allowed"})
        start, end = int(body["startDate"]), int(body["endDate"])
        if request.path == "/teams/daily-usage-data":
            if end - start > 90 * 86_400_000:
                return Reply(400, {"error": "Date range cannot exceed 90 days"})
            data = [r for r in self.usage if not isinstance(r.get("date"), int) or start <= r["date"] <= end]
            return Reply(200, {"data": data, "period": {"startDate": start, "endDate": end}})
        if request.path == "/teams/filtered-usage-events":
            size, page = int(body.get("pageSize", 10)), int(body.get("page", 1))
            inside = [e for e in self.events if start <= int(e["timestamp"]) <= end]
            pages = max(1, -(-len(inside) // size))
            return Reply(200, {"totalUsageEventsCount": len(inside),
                               "pagination": {"numPages": pages, "currentPage": page, "pageSize": size,
                                              "hasNextPage": page < pages, "hasPreviousPage": page > 1},
                               "usageEvents": inside[(page - 1) * size: page * size],
                               "period": {"startDate": start, "endDate": end}})
        return Reply(404, {"error": "Not found"})


def openai_result(day_results: tuple) -> dict:
    project, user, key, model, inp, out, requests = day_results
    return {"object": "organization.usage.completions.result", "input_tokens": inp, "output_tokens": out,
            "input_cached_tokens": inp // 2 if isinstance(inp, int) else 0, "input_audio_tokens": 0, "output_audio_tokens": 0,
            "num_model_requests": requests, "project_id": project, "user_id": user, "api_key_id": key,
            "model": model, "batch": False}


class FakeOpenAIUsage(_Fake):
    """`usage[day]` is a list of (project, user, key, model, input, output, requests) tuples."""

    def __init__(self, key: str, usage: dict[dt.date, list[tuple]]) -> None:
        super().__init__()
        self.key, self.usage = key, usage

    def answer(self, request: Request, body: dict) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return Reply(401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                         "code": "invalid_api_key"}})
        if request.path != "/v1/organization/usage/completions":
            return Reply(404, {"error": {"message": f"Invalid URL (GET {request.path})"}})
        if request.query.get("group_by[]") != ["project_id", "user_id", "api_key_id", "model"]:
            return Reply(400, {"error": {"message": f"unexpected group_by {request.query.get('group_by[]')}"}})
        start = dt.datetime.fromtimestamp(int(request.arg("start_time")), dt.timezone.utc).date()
        end = dt.datetime.fromtimestamp(int(request.arg("end_time")), dt.timezone.utc).date()
        limit = int(request.arg("limit", "7"))
        first = D.fromisoformat(request.arg("page").removeprefix("page_")) if request.arg("page") else start
        days = [first + dt.timedelta(days=i) for i in range((end - first).days)]
        shown, rest = days[:limit], days[limit:]
        data = [{"object": "bucket", "start_time": _ms(d) // 1000, "end_time": _ms(d) // 1000 + 86_400,
                 "results": [openai_result(r) for r in self.usage.get(d, [])]} for d in shown]
        return Reply(200, {"object": "page", "data": data, "has_more": bool(rest),
                           "next_page": f"page_{rest[0].isoformat()}" if rest else None})
