"""OpenAI completions usage by project, user, API key and model → `ai_usage_people` (tool `openai`).

`GET /v1/organization/usage/completions?start_time&end_time&bucket_width=1d&group_by[]=project_id
&group_by[]=user_id&group_by[]=api_key_id&group_by[]=model&limit&page` (admin key, Bearer) →
`{object: "page", data: [{start_time, end_time, results: [{object: "organization.usage.completions.result",
input_tokens, output_tokens, input_cached_tokens, input_audio_tokens, output_audio_tokens,
num_model_requests, project_id, user_id, api_key_id, model, batch}]}], has_more, next_page}`.

This endpoint counts tokens and requests, not money: the cost stays with the costs API (`openai`
source, `ai_spend`), and these rows say who and which key used it; the page shares each day's project
cost out to them by tokens (metrics.openai_allocation). `vendor_user` is the OpenAI user id (`user-…`),
or `api_key:<id>` for traffic no user is named for (service keys); `project` = `project_id`; requests =
`num_model_requests`; tokens = input (which includes cached and audio input) + output; `detail` keeps
the token kinds (`input_tokens`, `output_tokens`, `input_cached_tokens`, `input_audio_tokens`,
`output_audio_tokens`) and `batch` as sent. Ids: `openai_usage:<day>:<project>:<user>:<key>:<model>`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from config.vendors import OpenAiUsageConfig
from connectors.spend.costs import fetch_window, utc_midnight
from connectors.common.http import HttpApi
from connectors.contract import Batch, Rejected, Unreadable
from connectors.vendors.common import count, detail, people_frame

SOURCE = "openai_usage"
STREAM = "completions"
STREAMS = (STREAM,)
TOOL = "openai"
VENDOR = "OpenAI usage API"
NEEDS = "to be an organization Admin key (sk-admin-…) with read access to usage"
PATH = "/v1/organization/usage/completions"
GROUP_BY = ["project_id", "user_id", "api_key_id", "model"]
TOKEN_FIELDS = ("input_tokens", "output_tokens", "input_cached_tokens", "input_audio_tokens", "output_audio_tokens")


def api(cfg: OpenAiUsageConfig, key: str, stats: dict[str, int], **kw) -> HttpApi:
    return HttpApi("OpenAI", cfg.base_url, {"Authorization": f"Bearer {key}"}, cfg.retry, stats=stats, **kw)


def batches(client: HttpApi, cfg: OpenAiUsageConfig, *, cursors: dict[str, str | None], today: dt.date,
            full: bool) -> Iterator[Batch]:
    """One batch per page of daily buckets; the cursor is the last day on a page followed by another
    (or the window's last day, once the last page is read)."""
    first, end = fetch_window(cursors.get(STREAM), today=today, start=cfg.start, lookback_days=cfg.lookback_days,
                              full=full)
    if first >= end:
        return
    params = {"start_time": int(utc_midnight(first).timestamp()), "end_time": int(utc_midnight(end).timestamp()),
              "bucket_width": "1d", "group_by[]": GROUP_BY, "limit": cfg.page_days}
    total = (end - first).days
    while True:
        page = client.get(PATH, params)
        data = page.get("data")
        if not isinstance(data, list):
            raise Unreadable(f"OpenAI GET {PATH}: the answer has no 'data' list")
        rows, rejected, last_day = [], [], None
        for bucket in data:
            try:
                day = dt.datetime.fromtimestamp(int(bucket["start_time"]), dt.timezone.utc).date()
            except (KeyError, TypeError, ValueError):
                rejected.append(Rejected(STREAM, str(bucket)[:60], "bucket without a readable start_time"))
                continue
            last_day = max(last_day, day) if last_day else day
            for n, result in enumerate(bucket.get("results") or [], 1):
                try:
                    rows.append(usage_row(result, day))
                except Unreadable as exc:
                    rejected.append(Rejected(STREAM, f"{SOURCE}:{day.isoformat()} result {n}", str(exc)))
        more = bool(page.get("has_more")) and bool(page.get("next_page"))
        cursor_day = min(last_day, end - dt.timedelta(days=1)) if (more and last_day) else end - dt.timedelta(days=1)
        done = (cursor_day - first).days + 1
        yield Batch(frames={"ai_usage_people": people_frame(rows)}, cursors={STREAM: cursor_day.isoformat()},
                    rejected=rejected, progress_done=done, progress_total=total,
                    progress_message=f"OpenAI usage: {done} of {total} days")
        if not more:
            break
        params = {**params, "page": page["next_page"]}


def usage_row(result, day: dt.date) -> dict:
    if not isinstance(result, dict):
        raise Unreadable("not a JSON object")
    user, key, project, model = (result.get(k) for k in ("user_id", "api_key_id", "project_id", "model"))
    vendor_user = str(user) if user else f"api_key:{key}" if key else "unattributed"
    requests = count(result.get("num_model_requests"), "num_model_requests")
    kinds = {k: count(result.get(k), k) for k in TOKEN_FIELDS}
    batch = result.get("batch")
    return {"id": f"{SOURCE}:{day.isoformat()}:{project or '-'}:{user or '-'}:{key or '-'}:{model or '-'}",
            "source": SOURCE, "date": day, "tool": TOOL, "vendor_user": vendor_user, "model": model,
            "api_key": key, "project": str(project) if project else None, "active": requests > 0,
            "engaged": requests > 0, "requests": requests, "tokens": kinds["input_tokens"] + kinds["output_tokens"],
            "detail": detail({**kinds, "batch": batch if isinstance(batch, bool) else None})}
