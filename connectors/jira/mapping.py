"""From Jira issue JSON to `incidents` and `tickets` rows (DESIGN.md "Incidents", the tickets table).

Fields are read by id (the config's names are resolved by the client first). Values come in many
shapes — text, numbers, select options `{value}`, users `{displayName}`, priorities `{name}`, JSM's
request type `{requestType: {name}}` and satisfaction `{rating}` — and `text_of` / `csat_of` read
them all. An issue that cannot give a row raises `Unreadable` with the reason, for the run's report.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from config.model import JiraIncidentsConfig, JiraTicketsConfig
from connectors.common.normalise import FALSE_WORDS, TRUE_WORDS
from connectors.common.times import utc_time
from connectors.contract import Unreadable

CHANNELS = ("self_serve", "ai_bot", "human")
# Fields every search asks for, whatever the mapping (the rest are the configured ones).
BASE_FIELDS = ("summary", "created", "updated", "resolutiondate", "status", "labels", "project", "components")


@dataclass
class Notes:
    """What a stream saw that did not stop it, turned into the run's warnings at the end."""

    unmapped_channels: Counter = field(default_factory=Counter)
    bad_csat: list[str] = field(default_factory=list)
    unreadable_flags: list[str] = field(default_factory=list)

    def warnings(self, stream: str, default_channel: str | None = None) -> list[str]:
        out = []
        if self.unmapped_channels:
            values = ", ".join(f"'{v}' ×{n}" for v, n in self.unmapped_channels.most_common(10))
            out.append(f"jira {stream}: {sum(self.unmapped_channels.values())} tickets have a channel value "
                       f"not in channel_map and were counted as '{default_channel}': {values}")
        if self.bad_csat:
            out.append(f"jira {stream}: {len(self.bad_csat)} tickets have a satisfaction value that is not a "
                       f"score from 1 to 5 and were stored without CSAT: {', '.join(self.bad_csat[:10])}")
        if self.unreadable_flags:
            out.append(f"jira {stream}: {len(self.unreadable_flags)} issues have an AI field value that is not "
                       f"yes/no; their AI labels decided: {', '.join(self.unreadable_flags[:10])}")
        return out


def issue_id(issue: Any) -> str:
    """The warehouse id (`jira:KEY`), or the best name there is for an issue without a key."""
    if isinstance(issue, dict):
        if issue.get("key"):
            return f"jira:{issue['key']}"
        if issue.get("id"):
            return f"jira:id={issue['id']}"
    return "jira:(no key)"


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format(value, "g")
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        if isinstance(value.get("requestType"), dict):  # JSM "Customer Request Type"
            return text_of(value["requestType"].get("name"))
        for key in ("value", "name", "displayName", "key"):
            if value.get(key) is not None:
                return text_of(value[key])
        return None
    if isinstance(value, list):
        for item in value:
            text = text_of(item)
            if text:
                return text
    return None


def timestamp_of(value: Any, what: str) -> dt.datetime | None:
    """Jira's `2026-03-02T10:00:00.000+0000`, ISO with `Z`, or a date (midnight UTC); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise Unreadable(f"{what} {value!r} is not a date-time")
    try:
        return utc_time(value)
    except ValueError:
        raise Unreadable(f"{what} {value!r} is not a date-time") from None


def csat_of(value: Any) -> tuple[float | None, bool]:
    """(score, readable): JSM's `{"rating": 4}`, a number, a numeric text or option; 1-5 only."""
    if isinstance(value, dict):
        value = value.get("rating", value.get("value"))
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None, False
    return (score, True) if 1 <= score <= 5 else (None, False)


def flag_of(value: Any) -> bool | None:
    text = text_of(value)
    if text is None:
        return None
    lowered = text.lower()
    return True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else None


def _fields(issue: Any) -> dict[str, Any]:
    if not isinstance(issue, dict) or not issue.get("key"):
        raise Unreadable("the issue has no key")
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise Unreadable("the issue has no fields")
    return fields


def _team(fields: dict[str, Any], team_field: str | None, by_project: dict[str, str],
          by_component: dict[str, str]) -> str | None:
    """The issue's own team field; else its project's, else its first mapped component's; else none
    (the metrics then apply [teams] services, else `unassigned`)."""
    if team_field and (team := text_of(fields.get(team_field))):
        return team
    project = fields.get("project") or {}
    projects = {k.lower(): v for k, v in by_project.items()}
    if isinstance(project, dict) and str(project.get("key", "")).lower() in projects:
        return projects[str(project["key"]).lower()]
    components = {k.lower(): v for k, v in by_component.items()}
    for component in fields.get("components") or []:
        name = (text_of(component) or "").lower()
        if name in components:
            return components[name]
    return None


def resolved_at(fields: dict[str, Any], histories: list[dict[str, Any]] | None, resolved_from: str,
                done_statuses: tuple[str, ...]) -> dt.datetime | None:
    """`resolutiondate`, or (resolved_from = "changelog") the first transition into a done status of an
    issue that is done now; an issue done without such a transition falls back to `resolutiondate`."""
    resolution = timestamp_of(fields.get("resolutiondate"), "resolutiondate")
    if resolved_from != "changelog":
        return resolution
    done = {s.strip().lower() for s in done_statuses}
    status = fields.get("status") or {}
    category = ((status.get("statusCategory") or {}).get("key") or "").lower() if isinstance(status, dict) else ""
    if (text_of(status) or "").lower() not in done and category != "done":
        return None  # reopened or still open: not resolved, whatever it once was
    moments = []
    for history in histories or []:
        for item in history.get("items") or []:
            if item.get("field") == "status" and str(item.get("toString") or "").strip().lower() in done:
                moments.append(timestamp_of(history.get("created"), "changelog created"))
    moments = [m for m in moments if m is not None]
    return min(moments) if moments else resolution


def incident_row(issue: Any, config: JiraIncidentsConfig, ids: dict[str, str], *, server: str,
                 ai_labels: set[str], histories: list[dict[str, Any]] | None, notes: Notes) -> dict[str, Any]:
    fields = _fields(issue)
    created = timestamp_of(fields.get("created"), "created")
    started = (timestamp_of(fields.get(ids["started_field"]), config.started_field)
               if ids.get("started_field") else None) or created
    if started is None:
        raise Unreadable("no start: both the start field and `created` are empty")
    resolved = resolved_at(fields, histories, config.resolved_from, config.done_statuses)
    if resolved is not None and resolved < started:
        raise Unreadable(f"resolved ({resolved.isoformat()}) before it started ({started.isoformat()})")
    explicit = None
    if ids.get("ai_field"):
        raw = fields.get(ids["ai_field"])
        explicit = flag_of(raw)
        if explicit is None and text_of(raw) is not None:
            notes.unreadable_flags.append(issue["key"])
    labels = [str(label).strip().lower() for label in fields.get("labels") or []]
    severity = text_of(fields.get(ids["severity_field"])) if ids.get("severity_field") else None
    components = [text_of(c) for c in fields.get("components") or []]
    service = text_of(fields.get(ids["service_field"])) if ids.get("service_field") else next(
        (c for c in components if c), None)
    return {
        "id": issue_id(issue),
        "source": "jira",
        "title": text_of(fields.get("summary")),
        "team": _team(fields, ids.get("team_field"), config.teams_by_project, config.teams_by_component),
        "service": service,
        "severity": severity,
        "original_severity": severity,  # Jira's value is kept as it is: nothing to normalise
        "started_at": started,
        "resolved_at": resolved,
        "ai_assisted": explicit if explicit is not None else any(label in ai_labels for label in labels),
        "caused_by_deployment_id": caused_by(fields, config, ids),
        "url": f"{server}/browse/{issue['key']}",
    }


def caused_by(fields: dict[str, Any], config: JiraIncidentsConfig, ids: dict[str, str]) -> str | None:
    """The causing deployment's id from `caused_by_field`, else from the first issue link described as
    `caused_by_link` (inward or outward, case-insensitive), with `deployment_id_prefix` in front."""
    value = None
    if ids.get("caused_by_field"):
        raw = fields.get(ids["caused_by_field"])
        value = text_of(raw.get("value") if isinstance(raw, dict) else raw)
    wanted = config.caused_by_link.strip().lower()
    if value is None and wanted:
        for link in fields.get("issuelinks") or []:
            kind = link.get("type") or {} if isinstance(link, dict) else {}
            for side, description in (("inwardIssue", kind.get("inward")), ("outwardIssue", kind.get("outward"))):
                other = link.get(side) if isinstance(link, dict) else None
                if isinstance(other, dict) and other.get("key") and str(description or "").strip().lower() == wanted:
                    value = str(other["key"])
                    break
            if value is not None:
                break
    return config.deployment_id_prefix + value if value is not None else None


def ticket_row(issue: Any, config: JiraTicketsConfig, ids: dict[str, str], *,
               histories: list[dict[str, Any]] | None, notes: Notes) -> dict[str, Any]:
    fields = _fields(issue)
    created = timestamp_of(fields.get("created"), "created")
    if created is None:  # as an incident without a start: counted and named, never a row without a date
        raise Unreadable("no `created`: a ticket needs its creation time")
    resolved = resolved_at(fields, histories, config.resolved_from, config.done_statuses)
    if resolved is not None and resolved < created:
        raise Unreadable(f"resolved ({resolved.isoformat()}) before it was created ({created.isoformat()})")
    value = text_of(fields.get(ids["channel_field"])) if ids.get("channel_field") else None
    channels = {k.strip().lower(): v for k, v in config.channel_map.items()}
    channel = channels.get((value or "").lower())
    if resolved is None:
        channel = None  # an open ticket has no channel yet (who resolves it is not known): nothing to warn about
    elif channel is None:
        notes.unmapped_channels[value or "(empty)"] += 1
        channel = config.default_channel
    csat = None
    if ids.get("csat_field"):
        csat, readable = csat_of(fields.get(ids["csat_field"]))
        if not readable:
            notes.bad_csat.append(issue["key"])
    return {
        "id": issue_id(issue),
        "source": "jira",
        "team": _team(fields, ids.get("team_field"), config.teams_by_project, config.teams_by_component),
        "created_at": created,
        "resolved_at": resolved,
        "channel": channel,
        "csat": csat,
        "original_channel": value,
    }


def check_stream_config(stream: str, config: JiraIncidentsConfig | JiraTicketsConfig) -> None:
    """Values the TOML types cannot check; a bad one is an error naming its key."""
    where = f"jira.{stream}"
    if not config.jql.strip():
        raise ValueError(f"{where}.jql is empty")
    if " order by " in f" {config.jql.lower()} ":
        raise ValueError(f"{where}.jql: leave out ORDER BY (the connector orders by `updated` to sync incrementally)")
    if config.resolved_from not in ("resolutiondate", "changelog"):
        raise ValueError(f"{where}.resolved_from must be 'resolutiondate' or 'changelog', not '{config.resolved_from}'")
    if isinstance(config, JiraTicketsConfig):
        for value, channel in config.channel_map.items():
            if channel not in CHANNELS:
                raise ValueError(f"{where}.channel_map.{value}: '{channel}' is not one of {', '.join(CHANNELS)}")
        if config.default_channel not in CHANNELS:
            raise ValueError(f"{where}.default_channel: '{config.default_channel}' is not one of {', '.join(CHANNELS)}")
