"""What a CSV of each entity may hold: columns, their kinds, which are required (data, not code)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "timestamp", "date", "bool", "int", "count", "money", "csat", "channel", "labels"]


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = "text"
    required: bool = False  # the column must be in the header
    not_empty: bool = False  # every cell must hold a value


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    fields: tuple[Field, ...]
    # Where `id` is optional, rows without one get an id from the parsed values of these columns and
    # their occurrence (see connectors.csv.identity): what makes two rows the same.
    identity: tuple[str, ...] = ()

    @property
    def id_optional(self) -> bool:
        return bool(self.identity)

    @property
    def columns(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]


def _id(required: bool = True) -> Field:
    return Field("id", required=required, not_empty=required)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "pull_requests", "pull_requests",
            (
                _id(), Field("repo", required=True, not_empty=True), Field("merged_at", "timestamp", required=True),
                Field("team"), Field("number", "int"), Field("title"), Field("author"),
                Field("created_at", "timestamp"), Field("closed_at", "timestamp"), Field("merge_commit_sha"),
                Field("labels", "labels"), Field("body"), Field("ai_assisted", "bool"), Field("url"),
                Field("reverts_pr_id"), Field("commit_messages"), Field("head_branch"),
                Field("files", "labels"),  # files: ';'-separated paths the PR changed
            ),
        ),
        Entity(
            "deployments", "deployments",
            (
                _id(), Field("repo", required=True, not_empty=True),
                Field("environment", required=True, not_empty=True), Field("sha", required=True),
                Field("finished_at", "timestamp", required=True), Field("status", required=True, not_empty=True),
                Field("team"), Field("is_rollback", "bool"), Field("url"),
            ),
        ),
        Entity(
            "deployment_prs", "deployment_prs",
            (Field("deployment_id", required=True, not_empty=True), Field("pr_id", required=True, not_empty=True)),
        ),
        Entity(
            "incidents", "incidents",
            (
                _id(), Field("started_at", "timestamp", required=True, not_empty=True),
                Field("resolved_at", "timestamp", required=True), Field("team"), Field("title"),
                Field("service"), Field("severity"), Field("ai_assisted", "bool"), Field("labels", "labels"),
                Field("caused_by_deployment_id"), Field("url"),
            ),
        ),
        Entity(
            "tickets", "tickets",
            (
                _id(), Field("resolved_at", "timestamp", required=True),
                Field("channel", "channel", required=True, not_empty=True), Field("team"),
                Field("created_at", "timestamp"), Field("csat", "csat"),
            ),
        ),
        Entity(
            "ai_spend", "ai_spend",
            (
                _id(required=False), Field("date", "date", required=True, not_empty=True),
                Field("cost_usd", "money", required=True, not_empty=True), Field("team"), Field("tool"),
                Field("model"), Field("workflow"), Field("tokens", "count"), Field("requests", "count"),
            ),
            identity=("date", "team", "tool", "model", "workflow", "cost_usd"),
        ),
        Entity(
            "ai_usage", "ai_usage",
            (
                _id(required=False), Field("date", "date", required=True, not_empty=True),
                Field("tool", required=True, not_empty=True), Field("team"), Field("active_users", "count"),
                Field("engaged_users", "count"), Field("seats", "count"), Field("suggestions", "count"),
                Field("acceptances", "count"), Field("prs_created_by_agent", "count"),
            ),
            identity=("date", "team", "tool", "active_users", "engaged_users", "seats", "suggestions",
                      "acceptances", "prs_created_by_agent"),
        ),
        Entity(
            "reviews", "reviews",
            (
                _id(), Field("pr_id", required=True, not_empty=True), Field("reviewer", required=True, not_empty=True),
                Field("state", required=True, not_empty=True), Field("submitted_at", "timestamp", required=True),
            ),
        ),
        Entity(
            "people", "people",
            (
                Field("login", required=True, not_empty=True), Field("name"), Field("team"), Field("level"),
                Field("since", "timestamp"), Field("emails"),  # emails: ';'-separated addresses
            ),
        ),
        Entity(  # issue 18: per-person usage of any AI tool without a connector (Windsurf, JetBrains AI, ...)
            "ai_usage_people", "ai_usage_people",
            (
                _id(required=False), Field("date", "date", required=True, not_empty=True),
                Field("tool", required=True, not_empty=True), Field("vendor_user", required=True, not_empty=True),
                Field("email"), Field("login"), Field("person"), Field("team"), Field("model"), Field("api_key"),
                Field("active", "bool"), Field("engaged", "bool"), Field("suggestions", "count"),
                Field("acceptances", "count"), Field("lines_added", "count"), Field("lines_removed", "count"),
                Field("sessions", "count"), Field("requests", "count"), Field("commits", "count"),
                Field("prs", "count"), Field("tokens", "count"), Field("cost_usd", "money"), Field("project"),
                Field("used_chat", "bool"), Field("used_agent", "bool"), Field("used_cli", "bool"),
            ),
            # (`detail`, the vendor's other fields as JSON, is the connectors' own: a CSV has no such fields.)
            # One user's usage of one tool (model, key) on one day: a re-export with corrected counts
            # updates the row instead of adding another.
            identity=("date", "tool", "vendor_user", "model", "api_key"),
        ),
    )
}

# Each entity's key columns (the rest: `id`).
KEYS = {"deployment_prs": ["deployment_id", "pr_id"], "people": ["login"]}

CHANNELS = ("self_serve", "ai_bot", "human")
