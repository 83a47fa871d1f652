"""The Jira streams as batches: incremental by `updated`, one batch per search page.

Each stream's JQL gets `AND updated >= "<cursor − overlap>" ORDER BY updated ASC, key ASC`. JQL date
literals are minutes in the API user's time zone, so the bound is written in that zone and rounded down,
and issues read twice are upserted twice (idempotent). The cursor after a page is the newest `updated`
on it; it is written only once the page's rows are committed, so a killed run resumes there.

Paging one query by offset skips an issue whenever an earlier one is edited during the sync (it moves
to the end and everything after it shifts up). So after each page the query starts again from the
newest minute that page reached; only when a whole page sits in that one minute (a bulk edit) does it
page on within the query.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import polars as pl

from config.model import Config, JiraIncidentsConfig, JiraTicketsConfig
from connectors.common.ai_detection import ai_labels as registry_ai_labels
from connectors.common.times import utc_time_or_none
from connectors.contract import Batch, Rejected, Unreadable
from connectors.jira.client import JiraError, JiraSession, jql_time, resolve_fields
from connectors.jira.mapping import (
    BASE_FIELDS, Notes, check_stream_config, incident_row, issue_id, text_of, ticket_row,
)

log = logging.getLogger(__name__)

UTC = pl.Datetime("us", "UTC")
INCIDENT_SCHEMA = {
    "id": pl.String, "source": pl.String, "title": pl.String, "team": pl.String, "service": pl.String,
    "severity": pl.String, "started_at": UTC, "resolved_at": UTC, "ai_assisted": pl.Boolean, "url": pl.String,
    "original_severity": pl.String,
    "caused_by_deployment_id": pl.String,
}
TICKET_SCHEMA = {
    "id": pl.String, "source": pl.String, "team": pl.String, "created_at": UTC, "resolved_at": UTC,
    "channel": pl.String, "csat": pl.Float64, "original_channel": pl.String,
}
# Per stream: the config keys that name Jira fields.
FIELD_KEYS = {
    "incidents": ("started_field", "severity_field", "service_field", "team_field", "ai_field", "caused_by_field"),
    "tickets": ("channel_field", "csat_field", "team_field"),
}


def jira_batches(config: Config, session: JiraSession, cursors: dict[str, str | None], *,
                 full: bool, stats: dict[str, int]) -> Iterator[Batch]:
    """Every configured stream in turn. A stream that fails is reported and the next one still runs;
    when all fail, the run fails."""
    jira = config.jira
    streams = [(name, cfg) for name, cfg in (("incidents", jira.incidents), ("tickets", jira.tickets)) if cfg]
    if not streams:
        raise JiraError("[jira] has no streams: add [jira.incidents] and/or [jira.tickets]")
    try:
        available = session.field_list()
        failures = []
        for name, stream_config in streams:
            since = None if full else _parse_cursor(cursors.get(name))
            try:
                yield from _stream(name, stream_config, session, config, available, since)
            except Exception as exc:  # one stream failing never stops the other
                log.warning("jira %s failed: %s", name, exc)
                failures.append(f"{name}: {exc}")
        if len(failures) == len(streams):
            raise JiraError("; ".join(failures))
        if failures:
            yield Batch(warnings=[f"jira stream {f}" for f in failures])
    finally:
        stats["calls"] = session.total_calls


def _stream(name: str, stream_config: JiraIncidentsConfig | JiraTicketsConfig, session: JiraSession,
            config: Config, available: list[dict[str, Any]], since: dt.datetime | None) -> Iterator[Batch]:
    check_stream_config(name, stream_config)
    named = {key: getattr(stream_config, key) for key in FIELD_KEYS[name] if getattr(stream_config, key).strip()}
    resolved = resolve_fields({f"jira.{name}.{k}": v.strip() for k, v in named.items()}, available)
    ids = {k: resolved[f"jira.{name}.{k}"] for k in named}
    links = ["issuelinks"] if getattr(stream_config, "caused_by_link", "").strip() else []
    fields = list(dict.fromkeys([*BASE_FIELDS, *ids.values(), *links]))
    changelog = stream_config.resolved_from == "changelog"
    ai_labels = registry_ai_labels(config.ai_detection)
    notes = Notes()
    start = None if since is None else since - dt.timedelta(minutes=config.jira.overlap_minutes)
    cursor = since
    done = 0
    for issues, newest, total in _pages(session, stream_config.jql.strip(), fields,
                                        "changelog" if changelog else None, start, config.jira.page_size):
        rows, rejected = [], []
        for issue in issues:
            try:
                histories = _histories(session, issue, stream_config.done_statuses) if changelog else None
                if name == "incidents":
                    rows.append(incident_row(issue, stream_config, ids, server=session.server,
                                             ai_labels=ai_labels, histories=histories, notes=notes))
                else:
                    rows.append(ticket_row(issue, stream_config, ids, histories=histories, notes=notes))
            except Unreadable as exc:
                rejected.append(Rejected(name, issue_id(issue), str(exc)))
        if newest is not None and (cursor is None or newest > cursor):
            cursor = newest
        done += len(issues)
        table, schema = ("incidents", INCIDENT_SCHEMA) if name == "incidents" else ("tickets", TICKET_SCHEMA)
        yield Batch(
            frames={table: pl.DataFrame(rows, schema=schema, orient="row")} if rows else {},
            cursors={name: cursor.isoformat(timespec="milliseconds")} if cursor is not None else {},
            rejected=rejected,
            progress_done=done if total is None else min(done, total),
            progress_total=total,
            progress_message=f"jira {name}: {done} issues",
        )
    default = getattr(stream_config, "default_channel", None)
    warnings = notes.warnings(name, default)
    if warnings:
        yield Batch(warnings=warnings)


def _pages(session: JiraSession, base_jql: str, fields: list[str], expand: str | None,
           start: dt.datetime | None, page_size: int) -> Iterator[tuple[list[Any], dt.datetime | None, int | None]]:
    """(new issues, newest `updated` on the page, the first query's total if known) per search page."""
    zone = session.time_zone
    seen: dict[str, Any] = {}
    floor = start
    first_total = None
    while True:
        jql = f"({base_jql})"
        if floor is not None:
            jql += f' AND updated >= "{jql_time(floor, zone)}"'
        jql += " ORDER BY updated ASC, key ASC"
        position = None
        while True:
            page = session.search(jql, fields, expand, page_size, position)
            if first_total is None:
                first_total = page.total
            fresh, newest = [], None
            for issue in page.issues:
                key, updated = _key_and_updated(issue)
                if key is not None and key in seen and seen[key] == updated:
                    continue  # read again because of the overlap, unchanged
                if key is not None:
                    seen[key] = updated
                fresh.append(issue)
                moment = _moment(updated)
                if moment is not None and (newest is None or moment > newest):
                    newest = moment
            yield fresh, newest, first_total
            if page.next is None:
                return
            # Without the user's zone the bound needs hours of slack: restarting would re-read them.
            if zone is not None and newest is not None and (
                    floor is None or jql_time(newest, zone) > jql_time(floor, zone)):
                floor = newest
                break
            position = page.next


def _key_and_updated(issue: Any) -> tuple[str | None, Any]:
    if not isinstance(issue, dict):
        return None, None
    fields = issue.get("fields")
    return issue.get("key"), fields.get("updated") if isinstance(fields, dict) else None


def _moment(value: Any) -> dt.datetime | None:
    return utc_time_or_none(value) if isinstance(value, str) else None


def _histories(session: JiraSession, issue: Any, done_statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """The issue's changelog, fetched whole when the search gave only part of it and it matters (the
    issue is done now, so its first transition into done is wanted)."""
    if not isinstance(issue, dict) or not isinstance(issue.get("changelog"), dict):
        return []
    changelog = issue["changelog"]
    histories = list(changelog.get("histories") or [])
    total = changelog.get("total")
    status = (issue.get("fields") or {}).get("status") if isinstance(issue.get("fields"), dict) else None
    category = ((status or {}).get("statusCategory") or {}).get("key") if isinstance(status, dict) else None
    is_done = category == "done" or (text_of(status) or "").lower() in {s.lower() for s in done_statuses}
    if is_done and isinstance(total, int) and total > len(histories) and issue.get("key"):
        histories = session.changelog(issue["key"])
    return histories


def _parse_cursor(cursor: str | None) -> dt.datetime | None:
    if not cursor:
        return None
    moment = _moment(cursor)
    if moment is None:
        log.warning("ignoring an unreadable Jira cursor %r: reading everything again", cursor)
    return moment
