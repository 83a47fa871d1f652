"""A fake PagerDuty REST API v2 over TLS on loopback: `GET /incidents` with `since`/`until` (creation
time, at most six months apart), `service_ids[]`, `sort_by`, classic `limit`/`offset`/`more` paging,
`Token token=` auth, and PagerDuty's error bodies."""
from __future__ import annotations

import datetime as dt
import ssl
import threading
from typing import Any

from tests.connectors.loopback import Fault, LoopbackServer, Reply, Request, take_fault

MAX_RANGE = dt.timedelta(days=183)  # "six months"; the connector keeps well under it


def pd_time(moment: str | None) -> str | None:
    """'2026-03-02 10:00' (UTC) → PagerDuty's '2026-03-02T10:00:00Z'."""
    return dt.datetime.fromisoformat(moment).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _parse(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class FakePagerDuty:
    def __init__(self, tls: ssl.SSLContext, *, api_key: str = "pd-key"):
        self.api_key = api_key
        self.incidents: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self._tls = tls
        self._created: dict[str, dt.datetime] = {}
        self.max_offset = 10_000  # classic pagination ends here
        self._lock = threading.Lock()

    def __enter__(self) -> "FakePagerDuty":
        self._server = LoopbackServer(self.handle, tls=self._tls).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self._server.url

    def add(self, id: str, *, created: str, resolved: str | None = None, service: tuple[str, str],
            urgency: str = "high", teams: tuple[str, ...] = (), status: str | None = None,
            priority: str | None = None, **extra: Any) -> dict:
        """An incident created (and resolved) at 'YYYY-MM-DD HH:MM' UTC; `extra` overrides any JSON key
        (a malformed `created_at` too: the fake still files it under `created`)."""
        incident = {
            "id": id, "type": "incident", "incident_number": len(self.incidents) + 1,
            "title": f"Incident {id}", "summary": f"[#{len(self.incidents) + 1}] Incident {id}",
            "status": status or ("resolved" if resolved else "triggered"), "urgency": urgency,
            "created_at": pd_time(created), "resolved_at": pd_time(resolved),
            "last_status_change_at": pd_time(resolved or created),
            "service": {"id": service[0], "type": "service_reference", "summary": service[1]},
            "teams": [{"id": f"T{t.upper()}", "type": "team_reference", "summary": t} for t in teams],
            "html_url": f"https://acme.pagerduty.com/incidents/{id}",
            # PagerDuty's priority reference (null where the account has priorities but none was set).
            "priority": {"id": f"PRI{priority}", "type": "priority_reference", "summary": priority,
                         "self": f"https://api.pagerduty.com/priorities/PRI{priority}", "html_url": None}
            if priority else None,
            **extra,
        }
        with self._lock:
            self.incidents.append(incident)
            self._created[id] = _parse(created)
        return incident

    def resolve(self, id: str, resolved: str) -> None:
        with self._lock:
            incident = next(i for i in self.incidents if i["id"] == id)
            incident.update(status="resolved", resolved_at=pd_time(resolved), last_status_change_at=pd_time(resolved))

    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {"error": {"message": "Rate Limit Exceeded" if status == 429 else "Internal Server Error",
                          "code": 2020 if status == 429 else 2000}}
        self.faults.append(Fault("/incidents", status, times, headers, body))

    def listed(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/incidents"]

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if (fault := take_fault(self.faults, request.path)) is not None:
                return fault
            if request.headers.get("authorization") != f"Token token={self.api_key}":
                return Reply(401, {"error": {"message": "Authentication required", "code": 2006}})
            if request.path != "/incidents":
                return Reply(404, {"error": {"message": "Not Found", "code": 2100}})
            return self._incidents(request)

    def _incidents(self, request: Request) -> Reply:
        since, until = _parse(request.arg("since")), _parse(request.arg("until"))
        if until - since > MAX_RANGE:
            return Reply(400, {"error": {"message": "Invalid Input Provided", "code": 2001,
                                         "errors": ["Date range must be no more than 6 months."]}})
        services = request.query.get("service_ids[]")
        chosen = [i for i in self.incidents if since <= self._created[i["id"]] < until
                  and (not services or i["service"]["id"] in services)]
        if request.arg("sort_by") == "created_at:asc":
            chosen.sort(key=lambda i: (self._created[i["id"]], i["incident_number"]))
        limit, offset = min(int(request.arg("limit", "25")), 100), int(request.arg("offset", "0"))
        if offset + limit > self.max_offset:
            return Reply(400, {"error": {"message": "Invalid Input Provided", "code": 2001,
                                         "errors": [f"Offset must be less than {self.max_offset}."]}})
        page = chosen[offset:offset + limit]
        return Reply(200, {"incidents": page, "limit": limit, "offset": offset,
                           "more": offset + limit < len(chosen), "total": None})
