"""OpenAI organisation costs → daily `ai_spend` rows (source `openai`, tool `openai`).

`GET /v1/organization/costs?start_time&end_time&bucket_width=1d&group_by[]=project_id&group_by[]=line_item`
with an admin key (Bearer): one bucket per UTC day, each holding `{amount: {value, currency}, project_id,
line_item}` results; paged by `has_more` / `next_page` (sent back as `page`). A line item reads like
`gpt-4o-2024-08-06, input`: the model is the part before the comma. Ids are
`openai:<day>:<project>:<line item>`, so a day fetched again (the look-back) updates its rows.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from config.spend import OpenAiSpendConfig
from connectors.common.http import HttpApi, HttpError
from connectors.contract import Batch, Rejected
from connectors.spend.costs import CostLine, CostReport, decimal, fetch_window, report_batches, utc_midnight

SOURCE = "openai"
STREAM = "costs"
PATH = "/v1/organization/costs"


def api(cfg: OpenAiSpendConfig, key: str, stats: dict[str, int], **kw) -> HttpApi:
    return HttpApi("OpenAI", cfg.base_url, {"Authorization": f"Bearer {key}"}, cfg.retry, stats=stats, **kw)


def batches(client: HttpApi, cfg: OpenAiSpendConfig, usd_rates: dict[str, float], *, cursor: str | None,
            today: dt.date, full: bool) -> Iterator[Batch]:
    """One batch per page; the cursor (the last complete day fetched) moves with each page."""
    first, end = fetch_window(cursor, today=today, start=cfg.start, lookback_days=cfg.lookback_days, full=full)
    if first >= end:
        return
    params = {
        "start_time": int(utc_midnight(first).timestamp()), "end_time": int(utc_midnight(end).timestamp()),
        "bucket_width": "1d", "group_by[]": ["project_id", "line_item"], "limit": cfg.page_days,
    }
    report = CostReport("OpenAI", PATH, SOURCE, STREAM, "project", "[spend.openai] projects",
                        lambda page, unmapped: _lines(page, cfg, unmapped))
    yield from report_batches(client, report, params, usd_rates, first=first, end=end)


def _lines(page: dict, cfg: OpenAiSpendConfig, unmapped: set[str]) -> tuple[list[CostLine], list[Rejected], dt.date | None]:
    data = page.get("data")
    if not isinstance(data, list):
        raise HttpError(f"OpenAI GET {PATH}: the answer has no 'data' list")
    lines, rejected, last_day = [], [], None
    for bucket in data:
        try:
            day = dt.datetime.fromtimestamp(int(bucket["start_time"]), dt.timezone.utc).date()
        except (KeyError, TypeError, ValueError):
            rejected.append(Rejected(STREAM, str(bucket.get("start_time") if isinstance(bucket, dict) else bucket)[:60],
                                     "bucket without a readable start_time"))
            continue
        last_day = max(last_day, day) if last_day else day
        for result in bucket.get("results") or []:
            project = result.get("project_id")
            line_item = result.get("line_item")
            record_id = f"openai:{day.isoformat()}:{project or '-'}:{line_item or '-'}"
            amount = result.get("amount") if isinstance(result.get("amount"), dict) else {}
            value = decimal(amount.get("value"))
            if value is None:
                rejected.append(Rejected(STREAM, record_id, f"amount {amount.get('value')!r} is not a number"))
                continue
            team = cfg.projects.get(project) if project else None
            if project and team is None:
                unmapped.add(project)
            lines.append(CostLine(
                id=record_id, date=day, amount=value, currency=str(amount.get("currency") or "usd"), team=team,
                tool="openai", model=line_item.split(",")[0].strip() if line_item else None,
                workflow=cfg.workflows.get(project, project) if project else None,
            ))
    return lines, rejected, last_day
