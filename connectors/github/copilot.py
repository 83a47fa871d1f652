"""Copilot adoption into `ai_usage`: the seat count (a daily snapshot from the billing API) and the
daily usage totals from the organization usage reports (signed links to NDJSON files).

A token without the permission, or an org without Copilot or reports, is a warning in the sync
report, never a failure: the PRs and deployments of the same sync still count.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import polars as pl
from github import GithubException, UnknownObjectException

from config.model import GithubCopilotConfig
from connectors.contract import Batch, Rejected, Unreadable, WaitTooLong
import connectors.github.mapping as mapping
import connectors.github.settings as settings
from connectors.github.client import GithubClient, describe
from connectors.github.copilot_people import people_batches

_PERMISSION = {
    "seats": "fine-grained token: organization permission 'GitHub Copilot Business' (read); "
             "classic: manage_billing:copilot or read:org",
    "usage reports": "fine-grained token: organization permission 'Organization Copilot metrics' (read); "
                     "classic: manage_billing:copilot or read:org",
}


def copilot_batches(client: GithubClient, cfg: GithubCopilotConfig, org: str, cursor: Callable[[str], str | None],
                    *, full: bool, today: dt.date, since: dt.date | None) -> Iterator[Batch]:
    if cfg.seats:
        yield from _seats(client, org, cursor, full=full, today=today)
    if cfg.usage_metrics:
        yield from _usage(client, org, cursor, full=full, today=today, since=since)
    yield from people_batches(client, cfg, org, cursor, full=full, today=today, since=since)


def _key(stream: str, org: str) -> str:
    return f"{stream}:{org.lower()}"


def _unavailable(what: str, org: str, exc: Exception) -> str:
    if isinstance(exc, GithubException) and exc.status in (401, 403):
        return (f"Copilot {what} for {org} left out: the token may not read them ({describe(exc)}); "
                f"it needs the {_PERMISSION[what]}")
    if isinstance(exc, UnknownObjectException) or (isinstance(exc, GithubException) and exc.status == 404):
        return (f"Copilot {what} for {org} left out: GitHub has none for this org (404; no Copilot plan, "
                f"reports not enabled by the 'Copilot usage metrics' policy, or the token cannot see the org)")
    return f"Copilot {what} for {org} left out: {describe(exc)}"


def _seats(client: GithubClient, org: str, cursor, *, full: bool, today: dt.date) -> Iterator[Batch]:
    key = _key(settings.COPILOT_SEATS_STREAM, org)
    if not full and cursor(key) == today.isoformat():
        return  # one snapshot a day
    try:
        data = client.rest_get(settings.COPILOT_SEATS.format(org=org), {"per_page": 1})
    except WaitTooLong:
        raise
    except Exception as exc:
        yield Batch(warnings=[_unavailable("seats", org, exc)])
        return
    seats = data.get("total_seats") if isinstance(data, dict) else None
    if not isinstance(seats, int) or isinstance(seats, bool):
        yield Batch(rejected=[Rejected(settings.COPILOT_SEATS_STREAM, mapping.usage_id(org, today), "no total_seats")])
        return
    yield Batch(frames={"ai_usage": mapping.seats_frame(org, today, seats)}, cursors={key: today.isoformat()})


def _usage(client: GithubClient, org: str, cursor, *, full: bool, today: dt.date,
           since: dt.date | None) -> Iterator[Batch]:
    key = _key(settings.COPILOT_METRICS_STREAM, org)
    try:
        state = json.loads(cursor(key) or "{}")
    except ValueError:
        state = {}
    if not full and state.get("fetched_on") == today.isoformat():
        return  # the reports change once a day
    try:
        latest = client.rest_get(settings.COPILOT_REPORT_28_DAYS.format(org=org))
        start = dt.date.fromisoformat(str(latest["report_start_day"])[:10])
        end = dt.date.fromisoformat(str(latest["report_end_day"])[:10])
        rows, rejected = _report(client, org, latest)
    except WaitTooLong:
        raise
    except Exception as exc:
        yield Batch(warnings=[_unavailable("usage reports", org, exc)])
        return
    # Days before the 28-day report that no earlier sync read (the first sync: back to `since`).
    read_until = None if full else state.get("report_end_day")
    first = (dt.date.fromisoformat(read_until) + dt.timedelta(days=1)) if read_until else (since or start)
    first = max(first, today - dt.timedelta(days=settings.COPILOT_REPORT_MAX_DAYS))
    day = first
    while day < start:
        try:
            report = client.rest_get(settings.COPILOT_REPORT_DAY.format(org=org), {"day": day.isoformat()})
            more, bad = _report(client, org, report)
            rows += more
            rejected += bad
        except WaitTooLong:
            raise
        except UnknownObjectException:
            pass  # no report for that day (before the org had Copilot)
        except Exception as exc:
            yield Batch(warnings=[_unavailable("usage reports", org, exc)])
            return
        day += dt.timedelta(days=1)
    frame = (pl.DataFrame(rows, schema=mapping.USAGE_SCHEMA).unique(subset="id", keep="last", maintain_order=True)
             if rows else None)
    yield Batch(frames={"ai_usage": frame} if frame is not None else {}, rejected=rejected,
                cursors={key: json.dumps({"fetched_on": today.isoformat(), "report_end_day": end.isoformat()})})


def _report(client: GithubClient, org: str, report: dict) -> tuple[list[dict], list[Rejected]]:
    rows, rejected = [], []
    for link_no, link in enumerate(report.get("download_links") or [], 1):
        text = client.download(link).decode("utf-8", errors="replace")
        for line_no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{settings.SOURCE}:copilot:{org.lower()} report {report.get('report_day') or report.get('report_end_day')} file {link_no} line {line_no}"
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise Unreadable("not a JSON object")
                rows += mapping.usage_rows(org, record)
            except (ValueError, Unreadable) as exc:
                rejected.append(Rejected(settings.COPILOT_METRICS_STREAM, where, str(exc)[:200]))
    return rows, rejected
