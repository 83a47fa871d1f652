"""Anthropic cost report → daily `ai_spend` rows (source `anthropic`, tool `anthropic`).

`GET /v1/organizations/cost_report?starting_at&ending_at&group_by[]=workspace_id&group_by[]=description`
with an admin key (`x-api-key`, `anthropic-version: 2023-06-01`): one bucket per UTC day
(`starting_at`, `ending_at`, `results`), each result with `amount` as a decimal string **in cents**,
`currency`, `workspace_id` (null: the default workspace), `description`, `model`, `cost_type`; paged by
`has_more` / `next_page` (sent back as `page`). Ids are `anthropic:<day>:<workspace>:<description>`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from config.spend import AnthropicSpendConfig
from connectors.common.http import HttpApi, HttpError
from connectors.common.times import utc_time_or_none
from connectors.contract import Batch, Rejected
from connectors.spend.costs import CostLine, CostReport, decimal, fetch_window, report_batches, utc_midnight

SOURCE = "anthropic"
STREAM = "cost_report"
PATH = "/v1/organizations/cost_report"
API_VERSION = "2023-06-01"


def api(cfg: AnthropicSpendConfig, key: str, stats: dict[str, int], **kw) -> HttpApi:
    return HttpApi("Anthropic", cfg.base_url, {"x-api-key": key, "anthropic-version": API_VERSION}, cfg.retry,
                   stats=stats, **kw)


def _iso(day: dt.date) -> str:
    return utc_midnight(day).strftime("%Y-%m-%dT%H:%M:%SZ")


def batches(client: HttpApi, cfg: AnthropicSpendConfig, usd_rates: dict[str, float], *, cursor: str | None,
            today: dt.date, full: bool) -> Iterator[Batch]:
    """One batch per page; the cursor (the last complete day fetched) moves with each page."""
    first, end = fetch_window(cursor, today=today, start=cfg.start, lookback_days=cfg.lookback_days, full=full)
    if first >= end:
        return
    params = {"starting_at": _iso(first), "ending_at": _iso(end), "bucket_width": "1d",
              "group_by[]": ["workspace_id", "description"], "limit": min(cfg.page_days, 31)}
    report = CostReport("Anthropic", PATH, SOURCE, STREAM, "workspace", "[spend.anthropic] workspaces",
                        lambda page, unmapped: _lines(page, cfg, unmapped))
    yield from report_batches(client, report, params, usd_rates, first=first, end=end)


def _day(text) -> dt.date | None:
    moment = utc_time_or_none(str(text))
    return moment.date() if moment else None


def _lines(page: dict, cfg: AnthropicSpendConfig, unmapped: set[str]) -> tuple[list[CostLine], list[Rejected], dt.date | None]:
    data = page.get("data")
    if not isinstance(data, list):
        raise HttpError(f"Anthropic GET {PATH}: the answer has no 'data' list")
    lines, rejected, last_day = [], [], None
    for bucket in data:
        day = _day(bucket.get("starting_at")) if isinstance(bucket, dict) else None
        if day is None:
            rejected.append(Rejected(STREAM, str(bucket)[:60], "bucket without a readable starting_at"))
            continue
        last_day = max(last_day, day) if last_day else day
        for result in bucket.get("results") or []:
            workspace = result.get("workspace_id")
            label = result.get("description") or "/".join(
                str(result.get(k)) for k in ("model", "cost_type", "token_type") if result.get(k)) or "-"
            record_id = f"anthropic:{day.isoformat()}:{workspace or 'default'}:{label}"
            cents = decimal(result.get("amount"))
            if cents is None:
                rejected.append(Rejected(STREAM, record_id, f"amount {result.get('amount')!r} is not a decimal number"))
                continue
            team = cfg.workspaces.get(workspace or "default")
            if team is None:
                unmapped.add(workspace or "default")
            lines.append(CostLine(
                id=record_id, date=day, amount=cents / 100, currency=str(result.get("currency") or "USD"), team=team,
                tool="anthropic", model=result.get("model"),
                workflow=cfg.workflows.get(workspace or "default", workspace or "default"),
            ))
    return lines, rejected, last_day
