"""From PagerDuty incident JSON to `incidents` rows.

Started = `created_at`; resolved = `resolved_at` of a resolved incident (else `last_status_change_at`,
which is the resolution when the status is resolved); team = the configured service mapping, else the
incident's first PagerDuty team; severity = the urgency through `severity_by_urgency`, or (`severity_field =
"priority"`) the priority's summary through `severity_by_priority`, the value read kept in
`original_severity`. PagerDuty has no
labels, so `ai_assisted` is false (DESIGN.md: empty = false).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from config.model import PagerDutyConfig
from connectors.common.times import utc_time
from connectors.contract import Unreadable


def incident_id(item: Any) -> str:
    if isinstance(item, dict) and item.get("id"):
        return f"pagerduty:{item['id']}"
    return "pagerduty:(no id)"


def timestamp_of(value: Any, what: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    try:
        return utc_time(str(value))
    except ValueError:
        raise Unreadable(f"{what} {value!r} is not a date-time") from None


def _summary(ref: Any) -> str | None:
    if isinstance(ref, dict):
        text = str(ref.get("summary") or ref.get("name") or "").strip()
        return text or None
    return None


def team_for_service(service: Any, config: PagerDutyConfig) -> str | None:
    if not isinstance(service, dict) or not config.service_teams:
        return None
    if service.get("id") in config.service_teams:
        return config.service_teams[service["id"]]
    names = {k.lower(): v for k, v in config.service_teams.items()}
    return names.get((_summary(service) or "").lower())


def incident_row(item: Any, config: PagerDutyConfig) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("id"):
        raise Unreadable("the incident has no id")
    started = timestamp_of(item.get("created_at"), "created_at")
    if started is None:
        raise Unreadable("no created_at: an incident needs a start")
    resolved = None
    if str(item.get("status", "")).lower() == "resolved":
        resolved = timestamp_of(item.get("resolved_at") or item.get("last_status_change_at"), "resolved_at")
    if resolved is not None and resolved < started:
        raise Unreadable(f"resolved ({resolved.isoformat()}) before it started ({started.isoformat()})")
    service = item.get("service")
    team = team_for_service(service, config)
    if team is None and config.use_incident_teams:
        team = next((t for t in (_summary(ref) for ref in item.get("teams") or []) if t), None)
    if config.severity_field == "priority":
        original, mapping = _summary(item.get("priority")), config.severity_by_priority
    else:
        original, mapping = str(item.get("urgency") or "").strip() or None, config.severity_by_urgency
    severity = {k.lower(): v for k, v in mapping.items()}.get((original or "").lower(), original)
    return {
        "id": incident_id(item),
        "source": "pagerduty",
        "title": item.get("title") or item.get("summary"),
        "team": team,
        "service": _summary(service),
        "severity": severity,
        "started_at": started,
        "resolved_at": resolved,
        "ai_assisted": False,
        "caused_by_deployment_id": caused_by(item, config),
        "url": item.get("html_url"),
        "original_severity": original,
    }


def caused_by(item: dict[str, Any], config: PagerDutyConfig) -> str | None:
    """The value at `caused_by_path` (dots between keys, list items by index) with the prefix, if any."""
    if not config.caused_by_path.strip():
        return None
    value: Any = item
    for step in config.caused_by_path.strip().split("."):
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    if value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
        return None
    return config.deployment_id_prefix + str(value).strip()
