"""Claude Code analytics → `ai_usage_people` (tool `claude-code`), and optionally `ai_spend`.

`GET /v1/organizations/usage_report/claude_code?starting_at=YYYY-MM-DD&limit&page` with an admin key
(`x-api-key`, `anthropic-version: 2023-06-01`) answers one UTC day: `{data, has_more, next_page}`, one
record per actor and day:
- `actor`: `{type: "user_actor", email_address}` or `{type: "api_actor", api_key_name}`;
- `core_metrics`: `num_sessions`, `lines_of_code {added, removed}`, `commits_by_claude_code`,
  `pull_requests_by_claude_code`;
- `tool_actions`: `{edit_tool, multi_edit_tool, write_tool, notebook_edit_tool}` each `{accepted, rejected}`;
- `model_breakdown`: `[{model, tokens {input, output, cache_read, cache_creation}, estimated_cost
  {amount (minor units: cents), currency}}]`;
- `date`, and the account fields `organization_id`, `customer_type` (api / subscription),
  `subscription_type`, `terminal_type`.

Mapping (every documented field; docs/vendors.md has the table): sessions = num_sessions; lines
added/removed; commits; prs; suggestions = tool actions accepted + rejected, acceptances = accepted;
tokens = all four token kinds; cost_usd = Σ estimated cost ÷ 100. A row exists only for an actor with
activity that day, so `active` is true; `engaged` = something was accepted, written or committed. The
account fields, `tool_actions` per tool and `model_breakdown` per model (tokens by kind, cost) go into
`detail` as sent, so the per-model split survives without `to_spend`. Chat / agent / CLI flags stay
empty: every Claude Code session is the agent, from a terminal or an IDE (`terminal_type` says which).
Ids: `claude_code:<day>:<actor>`; spend rows `claude_code:<day>:<actor>:<model>`.
A day's pages are read whole before the cursor moves past it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from config.vendors import ClaudeCodeConfig
from connectors.spend.costs import fetch_window
from connectors.common.http import HttpApi
from connectors.contract import Batch, Rejected, Unreadable
from connectors.vendors.common import amount, count, day_of, detail, people_frame, spend_frame

SOURCE = "claude_code"
STREAM = "usage_report"
STREAMS = (STREAM,)
VENDOR = "Claude Code analytics"
TOOL = "claude-code"
PATH = "/v1/organizations/usage_report/claude_code"
API_VERSION = "2023-06-01"
NEEDS = "to be an Admin API key (sk-ant-admin…) of an organization with Claude Code analytics"
TOOL_ACTIONS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
TOKEN_KINDS = ("input", "output", "cache_read", "cache_creation")
ACCOUNT_FIELDS = ("organization_id", "customer_type", "subscription_type", "terminal_type")


def api(cfg: ClaudeCodeConfig, key: str, stats: dict[str, int], **kw) -> HttpApi:
    return HttpApi("Anthropic", cfg.base_url, {"x-api-key": key, "anthropic-version": API_VERSION}, cfg.retry,
                     stats=stats, **kw)


def batches(client: HttpApi, cfg: ClaudeCodeConfig, *, cursors: dict[str, str | None], today: dt.date,
            full: bool) -> Iterator[Batch]:
    """One batch per day (all its pages); the cursor is the last complete day read."""
    first, end = fetch_window(cursors.get(STREAM), today=today, start=cfg.start, lookback_days=cfg.lookback_days, full=full)
    day = first
    while day < end:
        people, spend, rejected = [], [], []
        params: dict = {"starting_at": day.isoformat(), "limit": cfg.page_size}
        while True:
            page = client.get(PATH, params)
            data = page.get("data")
            if not isinstance(data, list):
                raise Unreadable(f"Anthropic GET {PATH} for {day}: the answer has no 'data' list")
            for n, record in enumerate(data, 1):
                try:
                    person, lines = usage_row(record, day)
                except Unreadable as exc:
                    rejected.append(Rejected(STREAM, f"{SOURCE}:{day.isoformat()} record {n}", str(exc)))
                    continue
                people.append(person)
                spend += lines
            if not (page.get("has_more") and page.get("next_page")):
                break
            params = {**params, "page": page["next_page"]}
        frames = {"ai_usage_people": people_frame(people)}
        if cfg.to_spend:
            frames["ai_spend"] = spend_frame(spend)
        done = (day - first).days + 1
        yield Batch(frames=frames, cursors={STREAM: day.isoformat()}, rejected=rejected, progress_done=done,
                    progress_total=(end - first).days, progress_message=f"Claude Code: {day} ({len(people)} users)")
        day += dt.timedelta(days=1)


def usage_row(record, day: dt.date) -> tuple[dict, list[dict]]:
    """(the `ai_usage_people` row, its `ai_spend` rows per model) of one report record."""
    if not isinstance(record, dict):
        raise Unreadable("not a JSON object")
    actor = record.get("actor") if isinstance(record.get("actor"), dict) else {}
    if actor.get("type") == "user_actor" and actor.get("email_address"):
        vendor_user, email, key = str(actor["email_address"]).strip(), str(actor["email_address"]).strip(), None
    elif actor.get("type") == "api_actor" and actor.get("api_key_name"):
        vendor_user, email, key = f"api_key:{actor['api_key_name']}", None, str(actor["api_key_name"])
    else:
        raise Unreadable("actor is neither a user (email_address) nor an API key (api_key_name)")
    if record.get("date") is not None and day_of(record["date"], "date") != day:
        raise Unreadable(f"date {str(record['date'])[:30]} is not the day asked for ({day})")
    core = record.get("core_metrics") if isinstance(record.get("core_metrics"), dict) else {}
    loc = core.get("lines_of_code") if isinstance(core.get("lines_of_code"), dict) else {}
    actions = record.get("tool_actions") if isinstance(record.get("tool_actions"), dict) else {}
    accepted = rejected = 0
    per_tool = {}
    for name in TOOL_ACTIONS:
        action = actions.get(name) if isinstance(actions.get(name), dict) else {}
        counts = {k: count(action.get(k), f"tool_actions.{name}.{k}") for k in ("accepted", "rejected")}
        accepted += counts["accepted"]
        rejected += counts["rejected"]
        if action:
            per_tool[name] = counts
    spend, breakdown, tokens_total, cost_total = [], [], 0, 0.0
    for model in record.get("model_breakdown") or []:
        if not isinstance(model, dict):
            raise Unreadable("a model_breakdown entry is not an object")
        tokens = model.get("tokens") if isinstance(model.get("tokens"), dict) else {}
        used = sum(count(tokens.get(k), f"tokens.{k}") for k in TOKEN_KINDS)
        cost = model.get("estimated_cost") if isinstance(model.get("estimated_cost"), dict) else {}
        currency = str(cost.get("currency") or "USD").upper()
        if currency != "USD":
            raise Unreadable(f"estimated cost in {currency}: only USD is read")
        usd = amount(cost.get("amount"), "estimated_cost.amount") / 100
        tokens_total += used
        cost_total += usd
        breakdown.append({"model": model.get("model"), "tokens": {k: count(tokens.get(k), f"tokens.{k}") for k in TOKEN_KINDS},
                          "estimated_cost": {"amount": amount(cost.get("amount"), "estimated_cost.amount"),
                                             "currency": currency}})
        spend.append({"id": f"{SOURCE}:{day.isoformat()}:{vendor_user}:{model.get('model') or '-'}", "source": SOURCE,
                      "date": day, "tool": TOOL, "model": model.get("model"), "workflow": TOOL, "cost_usd": usd,
                      "tokens": used, "vendor_user": vendor_user, "api_key": key})
    lines_added = count(loc.get("added"), "lines_of_code.added")
    commits = count(core.get("commits_by_claude_code"), "commits_by_claude_code")
    person = {
        "id": f"{SOURCE}:{day.isoformat()}:{vendor_user}", "source": SOURCE, "date": day, "tool": TOOL,
        "vendor_user": vendor_user, "email": email, "api_key": key, "active": True,
        "engaged": accepted > 0 or lines_added > 0 or commits > 0,
        "suggestions": accepted + rejected, "acceptances": accepted, "lines_added": lines_added,
        "lines_removed": count(loc.get("removed"), "lines_of_code.removed"),
        "sessions": count(core.get("num_sessions"), "num_sessions"), "commits": commits,
        "prs": count(core.get("pull_requests_by_claude_code"), "pull_requests_by_claude_code"),
        "tokens": tokens_total, "cost_usd": round(cost_total, 6),
        "detail": detail({**{k: record.get(k) for k in ACCOUNT_FIELDS}, "tool_actions": per_tool or None,
                          "model_breakdown": breakdown or None}),
    }
    return person, spend
