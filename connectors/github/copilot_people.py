"""Copilot per user and day into `ai_usage_people`, and Copilot billing (premium requests, AI credits)
into `ai_spend` (issue 18).

Per-user reports: `GET /orgs/{org}/copilot/metrics/reports/users-28-day/latest` → `{download_links,
report_start_day, report_end_day}` and `GET …/users-1-day?day=YYYY-MM-DD` → `{download_links,
report_day}`; each link serves NDJSON with one record per user and day: `day`, `user_id`, `user_login`,
`organization_id` / `enterprise_id`, `user_initiated_interaction_count`, `code_generation_activity_count`,
`code_acceptance_activity_count`, `loc_suggested_to_add_sum`, `loc_suggested_to_delete_sum`,
`loc_added_sum`, `loc_deleted_sum`, `used_agent`, `used_chat`, `used_cli`, `ai_credits_used`,
`ai_adoption_phase`, `totals_by_ide`, `totals_by_feature`, `totals_by_language_feature`,
`totals_by_model_feature`, `totals_by_cli {session_count, request_count, prompt_count, token_usage
{prompt_tokens_sum, output_tokens_sum}}`. A record wrapping a `day_totals` list is read as one record
per day (the 28-day files' layout is *unverified*).

Mapping (every documented field; docs/vendors.md has the table): requests = user-initiated interactions;
suggestions = code generations; acceptances = code acceptances; lines added/removed = `loc_added_sum` /
`loc_deleted_sum`; sessions and tokens from the CLI totals; active = the user has a record that day;
engaged = interacted, accepted code, or used chat, agent or the CLI; `used_chat` (IDE chat), `used_agent`
(IDE agent mode), `used_cli` (Copilot CLI) into their own columns (null when the record has no flag).
`detail` keeps the rest as sent: `user_id`, `organization_id` / `enterprise_id`, the suggested lines
(`loc_suggested_to_add_sum`, `loc_suggested_to_delete_sum`), `ai_credits_used`, `ai_adoption_phase`
and the `totals_by_*` breakdowns (IDE, feature, language × feature, language × model, model × feature,
CLI). `ai_credits_used` is not priced per user (the credit price is not in the report); the billing
report prices the org's credits. Per-user reports hold no pull-request counts (GitHub: only the
organization and enterprise reports have `pull_requests`), so `prs` stays empty.

Billing: `GET /organizations/{org}/settings/billing/{premium_request|ai_credit}/usage?year&month&day` →
`{timePeriod, organization, usageItems: [{product, sku, model, unitType, pricePerUnit, grossQuantity,
grossAmount, discountQuantity, discountAmount, netQuantity, netAmount}]}`; one call per day; cost_usd =
`netAmount` (after the plan's included requests), requests = `grossQuantity`. The `ai_credit` report's
item shape is taken to be the premium-request one (*unverified*).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

from github import GithubException, UnknownObjectException

from config.model import GithubCopilotConfig
from connectors.contract import Batch, Rejected, Unreadable, WaitTooLong
import connectors.github.settings as settings
from connectors.github.client import GithubClient, describe
from connectors.vendors.common import amount, count, detail, people_frame, spend_frame

USERS_28_DAYS = "/orgs/{org}/copilot/metrics/reports/users-28-day/latest"
USERS_DAY = "/orgs/{org}/copilot/metrics/reports/users-1-day"
BILLING = "/organizations/{org}/settings/billing/{report}/usage"
USERS_STREAM = "copilot_user_metrics"
BILLING_STREAM = "copilot_billing"
# Per-user fields kept as sent in `detail` (besides the suggested lines and credits, checked as numbers).
DETAIL_FIELDS = ("user_id", "organization_id", "enterprise_id", "ai_adoption_phase", "totals_by_ide",
                 "totals_by_feature", "totals_by_language_feature", "totals_by_language_model",
                 "totals_by_model_feature", "totals_by_cli")
BILLING_FIRST_DAYS = 31  # the first sync prices this many days back (one call per day)
NEEDS = {
    "users": "fine-grained token: organization permission 'Organization Copilot metrics' (read); classic: "
             "manage_billing:copilot or read:org",
    "billing": "fine-grained token: organization permission 'Administration' (read); classic: admin:org "
               "(and the org must be on the enhanced billing platform)",
}


def _left_out(what: str, needs: str, org: str, exc: Exception) -> str:
    """The warning for a report this token or org cannot give: which permission it needs."""
    if isinstance(exc, GithubException) and exc.status in (401, 403):
        return f"{what} for {org} left out: the token may not read it ({describe(exc)}); it needs the {NEEDS[needs]}"
    if isinstance(exc, GithubException) and exc.status == 404:
        return (f"{what} for {org} left out: GitHub has none for this org (404; no Copilot plan, reports or "
                f"enhanced billing, or the token cannot see the org)")
    return f"{what} for {org} left out: {describe(exc)}"


def people_batches(client: GithubClient, cfg: GithubCopilotConfig, org: str, cursor: Callable[[str], str | None],
                   *, full: bool, today: dt.date, since: dt.date | None) -> Iterator[Batch]:
    if cfg.user_metrics:
        yield from _users(client, org, cursor, full=full, today=today, since=since)
    for report in cfg.billing:
        yield from _billing(client, org, report, cursor, full=full, today=today)


def _key(stream: str, org: str, report: str = "") -> str:
    return f"{stream}:{org.lower()}" + (f":{report}" if report else "")


def _users(client: GithubClient, org: str, cursor, *, full: bool, today: dt.date,
           since: dt.date | None) -> Iterator[Batch]:
    key = _key(USERS_STREAM, org)
    try:
        state = json.loads(cursor(key) or "{}")
    except ValueError:
        state = {}
    if not full and state.get("fetched_on") == today.isoformat():
        return  # the reports change once a day
    rows: list[dict] = []
    rejected: list[Rejected] = []
    try:
        latest = client.rest_get(USERS_28_DAYS.format(org=org))
        start = dt.date.fromisoformat(str(latest["report_start_day"])[:10])
        end = dt.date.fromisoformat(str(latest["report_end_day"])[:10])
        _read(client, org, latest, rows, rejected)
        read_until = None if full else state.get("report_end_day")
        day = (dt.date.fromisoformat(read_until) + dt.timedelta(days=1)) if read_until else (since or start)
        day = max(day, today - dt.timedelta(days=settings.COPILOT_REPORT_MAX_DAYS))
        while day < start:
            try:
                _read(client, org, client.rest_get(USERS_DAY.format(org=org), {"day": day.isoformat()}), rows, rejected)
            except UnknownObjectException:
                pass  # no report for that day (before the org had Copilot)
            day += dt.timedelta(days=1)
    except WaitTooLong:
        raise
    except Exception as exc:
        yield Batch(warnings=[_left_out("Copilot per-user usage reports", "users", org, exc)])
        return
    frame = people_frame(rows).unique(subset="id", keep="last", maintain_order=True)
    yield Batch(frames={"ai_usage_people": frame}, rejected=rejected,
                cursors={key: json.dumps({"fetched_on": today.isoformat(), "report_end_day": end.isoformat()})})


def _read(client: GithubClient, org: str, report: dict, rows: list[dict], rejected: list[Rejected]) -> None:
    for link_no, link in enumerate(report.get("download_links") or [], 1):
        text = client.download(link).decode("utf-8", errors="replace")
        for line_no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = (f"{settings.SOURCE}:copilot-users:{org.lower()} report "
                     f"{report.get('report_day') or report.get('report_end_day')} file {link_no} line {line_no}")
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise Unreadable("not a JSON object")
                days = record["day_totals"] if isinstance(record.get("day_totals"), list) else [record]
                rows.extend(user_row(org, {**record, **d}) for d in days)
            except (ValueError, Unreadable) as exc:
                rejected.append(Rejected(USERS_STREAM, where, str(exc)[:200]))


def user_row(org: str, record: dict) -> dict:
    """The `ai_usage_people` row of one per-user, per-day record."""
    login = str(record.get("user_login") or "").strip()
    if not login:
        raise Unreadable("no user_login")
    try:
        day = dt.date.fromisoformat(str(record.get("day"))[:10])
    except ValueError:
        raise Unreadable(f"day is not a date: {str(record.get('day'))[:20]!r}") from None
    # GitHub's example shows `totals_by_cli` as one object; some exports carry a list of them.
    cli = record.get("totals_by_cli")
    clis = [c for c in (cli if isinstance(cli, list) else [cli]) if isinstance(c, dict)]
    sessions = sum(count(c.get("session_count"), "totals_by_cli.session_count") for c in clis)
    tokens = sum(count(u.get(k), k) for c in clis if isinstance(u := c.get("token_usage"), dict)
                 for k in ("prompt_tokens_sum", "output_tokens_sum"))
    interactions = count(record.get("user_initiated_interaction_count"), "user_initiated_interaction_count")
    acceptances = count(record.get("code_acceptance_activity_count"), "code_acceptance_activity_count")
    flags = {k: record.get(k) if isinstance(record.get(k), bool) else None for k in ("used_chat", "used_agent", "used_cli")}
    used = any(flags.values())
    kept = {k: record.get(k) for k in DETAIL_FIELDS}
    kept.update({k: count(record.get(k), k) for k in ("loc_suggested_to_add_sum", "loc_suggested_to_delete_sum")
                 if record.get(k) is not None})
    if record.get("ai_credits_used") is not None:
        kept["ai_credits_used"] = amount(record["ai_credits_used"], "ai_credits_used")
    return {
        "id": f"{settings.SOURCE}:copilot-user:{org.lower()}:{day.isoformat()}:{login.lower()}",
        "source": settings.SOURCE, "date": day, "tool": settings.COPILOT_TOOL, "vendor_user": login, "login": login,
        "active": True, "engaged": interactions > 0 or acceptances > 0 or used,
        "suggestions": count(record.get("code_generation_activity_count"), "code_generation_activity_count"),
        "acceptances": acceptances, "requests": interactions,
        "lines_added": count(record.get("loc_added_sum"), "loc_added_sum"),
        "lines_removed": count(record.get("loc_deleted_sum"), "loc_deleted_sum"),
        "sessions": sessions, "tokens": tokens, **flags, "detail": detail(kept),
    }


def _billing(client: GithubClient, org: str, report: str, cursor, *, full: bool, today: dt.date) -> Iterator[Batch]:
    key = _key(BILLING_STREAM, org, report)
    last = None if full else cursor(key)
    # The last day read is read again: GitHub may still add that day's late usage.
    day = dt.date.fromisoformat(last) if last else today - dt.timedelta(days=BILLING_FIRST_DAYS)
    while day < today:
        try:
            answer = client.rest_get(BILLING.format(org=org, report=report),
                                     {"year": day.year, "month": day.month, "day": day.day})
        except WaitTooLong:
            raise
        except Exception as exc:
            yield Batch(warnings=[_left_out(f"Copilot {report} billing", "billing", org, exc)])
            return
        rows, rejected = [], []
        for n, item in enumerate(answer.get("usageItems") or [] if isinstance(answer, dict) else [], 1):
            try:
                rows.append(billing_row(org, report, day, item))
            except Unreadable as exc:
                rejected.append(Rejected(BILLING_STREAM, f"{settings.SOURCE}:copilot-billing:{org.lower()}:{report}:"
                                                         f"{day.isoformat()} item {n}", str(exc)))
        yield Batch(frames={"ai_spend": spend_frame(rows)}, rejected=rejected, cursors={key: day.isoformat()})
        day += dt.timedelta(days=1)


def billing_row(org: str, report: str, day: dt.date, item) -> dict:
    if not isinstance(item, dict):
        raise Unreadable("not a JSON object")
    net = item.get("netAmount")
    if isinstance(net, bool) or not isinstance(net, (int, float)):
        raise Unreadable(f"netAmount is not a number: {str(net)[:20]!r}")
    quantity = item.get("grossQuantity")
    requests = int(quantity) if isinstance(quantity, (int, float)) and not isinstance(quantity, bool) else None
    sku, model = item.get("sku") or report, item.get("model")
    return {"id": f"{settings.SOURCE}:copilot-billing:{org.lower()}:{report}:{day.isoformat()}:{sku}:{model or '-'}",
            "source": settings.SOURCE, "date": day, "tool": settings.COPILOT_TOOL, "model": model, "workflow": sku,
            "cost_usd": float(net), "requests": requests}
