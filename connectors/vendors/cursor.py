"""Cursor Admin API → `ai_usage_people` (tool `cursor`) and `ai_spend` per user, day and model.

Basic auth with the Admin API key as user name and an empty password; every call is a POST with a JSON
body; times are epoch milliseconds.
- `POST /teams/daily-usage-data {startDate, endDate}` (at most 90 days) → `{data: [...], period}`, one
  record per user and day: `date`, `email`, `isActive`, `totalLinesAdded/Deleted` (all edits),
  `acceptedLinesAdded/Deleted` (from accepted AI suggestions: tab and agent together), `totalApplies`,
  `totalAccepts`, `totalRejects`, `totalTabsShown`, `totalTabsAccepted`, `composerRequests`,
  `chatRequests`, `agentRequests`, `cmdkUsages`, `subscriptionIncludedReqs`, `apiKeyReqs`,
  `usageBasedReqs`, `bugbotUsages`, `mostUsedModel`, `applyMostUsedExtension`, `tabMostUsedExtension`,
  `clientVersion`. No paging.
- `POST /teams/filtered-usage-events {startDate, endDate, page, pageSize}` → `{usageEvents: [{timestamp,
  model, kind, maxMode, requestsCosts, isTokenBasedCall, tokenUsage {inputTokens, outputTokens,
  cacheWriteTokens, cacheReadTokens, totalCents}, isFreeBugbot, userEmail}], pagination {hasNextPage, …}}`.

Mapping (every documented field; docs/vendors.md has the table):
- columns: `email` → vendor_user, email; `date`; `isActive` → active; suggestions = tabs shown + suggestions
  accepted or rejected in chat/agent (`totalAccepts` + `totalRejects`); acceptances = tabs accepted +
  `totalAccepts`; lines_added/removed = the accepted AI lines (`acceptedLinesAdded/Deleted`: Cursor does
  not split tab from agent lines here); requests = composer + chat + agent + Cmd-K; used_chat =
  `chatRequests` > 0; used_agent = `agentRequests` + `composerRequests` > 0 (Composer is the agent's
  older name); model = `mostUsedModel`; engaged = something accepted or requested.
- `detail` (JSON, API names): every other daily-usage field as sent (counters checked as whole numbers),
  and `usageEvents`, the day's events of the user summed: `count`, `requestsCosts`, `maxMode` (events in
  max mode), `tokenBased` (`isTokenBasedCall`), `freeBugbot` (`isFreeBugbot`), `kinds` {kind: events}.
- Cost: Σ `tokenUsage.totalCents` ÷ 100 of the user's events that day (events without token usage are
  included in the plan and cost nothing extra), by model into `ai_spend` (requests = events), and per
  user into the usage row with tokens = all four token kinds.
`POST /teams/spend` is not read: it is the billing cycle's running total per member, which the daily
events already break down by day.

A window of days is read whole (usage, then every page of events) before its cursor moves.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator

from config.vendors import CursorConfig
from connectors.common.http import HttpApi
from connectors.contract import Batch, Rejected, Unreadable
from connectors.spend.costs import fetch_window
from connectors.vendors.common import (amount, count, day_of, detail, epoch_ms, people_frame,
                                       spend_frame)

SOURCE = "cursor"
TOOL = "cursor"
USAGE, EVENTS = "daily_usage", "usage_events"
STREAMS = (USAGE,)  # one cursor: both are read for the same window
VENDOR = "Cursor Admin API"
NEEDS = "to be an Admin API key of the team (Dashboard → Settings → Admin API keys), made by a team admin"
# daily-usage-data: counters checked as whole numbers; those a column holds as they are; text kept in `detail`.
COUNTERS = ("totalLinesAdded", "totalLinesDeleted", "acceptedLinesAdded", "acceptedLinesDeleted", "totalApplies",
            "totalAccepts", "totalRejects", "totalTabsShown", "totalTabsAccepted", "composerRequests", "chatRequests",
            "agentRequests", "cmdkUsages", "subscriptionIncludedReqs", "apiKeyReqs", "usageBasedReqs", "bugbotUsages")
IN_COLUMNS = ("acceptedLinesAdded", "acceptedLinesDeleted")
TEXT_FIELDS = ("applyMostUsedExtension", "tabMostUsedExtension", "clientVersion")
USAGE_PATH = "/teams/daily-usage-data"
EVENTS_PATH = "/teams/filtered-usage-events"


def api(cfg: CursorConfig, key: str, stats: dict[str, int], **kw) -> HttpApi:
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return HttpApi("Cursor", cfg.base_url, {"Authorization": f"Basic {basic}"}, cfg.retry, stats=stats, **kw)


def batches(client: HttpApi, cfg: CursorConfig, *, cursors: dict[str, str | None], today: dt.date,
            full: bool) -> Iterator[Batch]:
    """One batch per window of `window_days`; the cursor is the last complete day read."""
    first, end = fetch_window(cursors.get(USAGE), today=today, start=cfg.start, lookback_days=cfg.lookback_days,
                              full=full)
    start = first
    while start < end:
        stop = min(end, start + dt.timedelta(days=cfg.window_days))
        body = {"startDate": epoch_ms(start), "endDate": epoch_ms(stop) - 1}
        rejected: list[Rejected] = []
        people = _usage(client.post(USAGE_PATH, body), start, stop, rejected)
        spend, cost = _events(client, cfg, body, start, stop, rejected)
        rows = list(people.values())
        for (day, email), (usd, tokens, events) in cost.items():
            row = people.get((day, email))
            if row is None:  # spend on a day the usage data shows no activity: still that person's cost
                row = _row(day, email)
                rows.append(row)
            row["cost_usd"], row["tokens"] = round(usd, 6), tokens
            row["detail"] = detail({**json.loads(row.get("detail") or "{}"), "usageEvents": events})
        done = (stop - first).days
        yield Batch(frames={"ai_usage_people": people_frame(rows), "ai_spend": spend_frame(spend)},
                    cursors={USAGE: (stop - dt.timedelta(days=1)).isoformat()}, rejected=rejected,
                    progress_done=done, progress_total=(end - first).days,
                    progress_message=f"Cursor: {done} of {(end - first).days} days")
        start = stop


def _row(day: dt.date, email: str) -> dict:
    return {"id": f"{SOURCE}:{day.isoformat()}:{email}", "source": SOURCE, "date": day, "tool": TOOL,
            "vendor_user": email, "email": email, "active": False, "engaged": False}


def _usage(page: dict, start: dt.date, stop: dt.date, rejected: list[Rejected]) -> dict[tuple, dict]:
    data = page.get("data")
    if not isinstance(data, list):
        raise Unreadable(f"Cursor POST {USAGE_PATH}: the answer has no 'data' list")
    rows: dict[tuple, dict] = {}
    for n, record in enumerate(data, 1):
        where = f"{SOURCE}:{USAGE} {start}..{stop - dt.timedelta(days=1)} record {n}"
        try:
            if not isinstance(record, dict):
                raise Unreadable("not a JSON object")
            email = str(record.get("email") or "").strip()
            if not email:
                raise Unreadable("no email: the record cannot be tied to a person")
            day = day_of(record.get("date"), "date")
            if not start <= day < stop:
                raise Unreadable(f"day {day} is outside the window asked for")
            c = {k: count(record.get(k), k) for k in COUNTERS}
        except Unreadable as exc:
            rejected.append(Rejected(USAGE, where, str(exc)))
            continue
        row = _row(day, email)
        acceptances = c["totalTabsAccepted"] + c["totalAccepts"]
        requests = c["composerRequests"] + c["chatRequests"] + c["agentRequests"] + c["cmdkUsages"]
        model = record.get("mostUsedModel")
        row.update(active=bool(record.get("isActive")), engaged=acceptances > 0 or requests > 0,
                   suggestions=c["totalTabsShown"] + c["totalAccepts"] + c["totalRejects"], acceptances=acceptances,
                   lines_added=c["acceptedLinesAdded"], lines_removed=c["acceptedLinesDeleted"], requests=requests,
                   used_chat=c["chatRequests"] > 0, used_agent=c["agentRequests"] + c["composerRequests"] > 0,
                   model=str(model) if model else None,
                   detail=detail({**{k: v for k, v in c.items() if k not in IN_COLUMNS},
                                  **{k: record.get(k) for k in TEXT_FIELDS}}))
        rows[(day, email)] = row
    return rows


def _events(client: HttpApi, cfg: CursorConfig, window: dict, start: dt.date, stop: dt.date,
            rejected: list[Rejected]) -> tuple[list[dict], dict[tuple, tuple[float, int, dict]]]:
    """(the `ai_spend` rows per user, day and model; per (day, email): usd, tokens, the events summed)."""
    by_model: dict[tuple, list] = defaultdict(lambda: [0.0, 0, 0])  # (day, email, model) → usd, tokens, events
    summed: dict[tuple, dict] = {}
    page_no = 1
    while True:
        page = client.post(EVENTS_PATH, {**window, "page": page_no, "pageSize": cfg.page_size})
        events = page.get("usageEvents")
        if not isinstance(events, list):
            raise Unreadable(f"Cursor POST {EVENTS_PATH}: the answer has no 'usageEvents' list")
        for n, event in enumerate(events, 1):
            try:
                if not isinstance(event, dict):
                    raise Unreadable("not a JSON object")
                email = str(event.get("userEmail") or "").strip()
                if not email:
                    raise Unreadable("no userEmail")
                day = day_of(event.get("timestamp"), "timestamp")
                usage = event.get("tokenUsage") if isinstance(event.get("tokenUsage"), dict) else {}
                usd = amount(usage.get("totalCents"), "tokenUsage.totalCents") / 100
                tokens = sum(count(usage.get(k), f"tokenUsage.{k}")
                             for k in ("inputTokens", "outputTokens", "cacheWriteTokens", "cacheReadTokens"))
                charged = amount(event.get("requestsCosts"), "requestsCosts")
            except Unreadable as exc:
                rejected.append(Rejected(EVENTS, f"{SOURCE}:{EVENTS} {start} page {page_no} event {n}", str(exc)))
                continue
            if not start <= day < stop:
                continue
            _add_event(summed.setdefault((day, email), {"count": 0, "requestsCosts": 0.0, "maxMode": 0,
                                                        "tokenBased": 0, "freeBugbot": 0, "kinds": {}}),
                       event, charged)
            total = by_model[(day, email, str(event.get("model") or "-"))]
            total[0] += usd
            total[1] += tokens
            total[2] += 1
        pagination = page.get("pagination") if isinstance(page.get("pagination"), dict) else {}
        if not pagination.get("hasNextPage") or not events:
            break
        page_no += 1
    spend, per_person = [], defaultdict(lambda: (0.0, 0, {}))
    for (day, email, model), (usd, tokens, n) in sorted(by_model.items()):
        spend.append({"id": f"{SOURCE}:{day.isoformat()}:{email}:{model}", "source": SOURCE, "date": day,
                      "tool": TOOL, "model": None if model == "-" else model, "workflow": TOOL,
                      "cost_usd": round(usd, 6), "tokens": tokens, "requests": n, "vendor_user": email})
        before = per_person[(day, email)]
        per_person[(day, email)] = (before[0] + usd, before[1] + tokens, summed[(day, email)])
    return spend, dict(per_person)


def _add_event(total: dict, event: dict, charged: float) -> None:
    total["count"] += 1
    total["requestsCosts"] = round(total["requestsCosts"] + charged, 6)
    total["maxMode"] += event.get("maxMode") is True
    total["tokenBased"] += event.get("isTokenBasedCall") is True
    total["freeBugbot"] += event.get("isFreeBugbot") is True
    kind = str(event.get("kind") or "-")
    total["kinds"][kind] = total["kinds"].get(kind, 0) + 1
