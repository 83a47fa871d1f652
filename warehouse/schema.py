"""Every warehouse table, declared once (SQLAlchemy Core). Migrations change it; nothing else creates tables.

Ids are stable strings made from the source (`github:acme/api#123`), so re-syncing an object updates its
one row. Timestamps are UTC. On SQLite they are stored as integer microseconds since the Unix epoch and
dates as integer days since 1970-01-01: the metrics read whole columns through an Arrow reader, and
integers arrive as Arrow timestamps for free where ISO text would have to be parsed row by row. On
PostgreSQL they are `timestamptz` and `date`.

Secondary indexes only where a query needs them: an index on a time column made bulk imports about four
times slower (rows arrive in id order, so every index on another column is a random-order B-tree
insert). Migration 0008 adds the counting-time indexes the time-scoped upkeep of the cube reads by
(`TIME_INDEXES`): after a write only the evidence from the write's reach on is read again.

The `cube_*` tables hold the derived daily cube (metrics.cube.Cube) and each production deployment's
rollback verdict next to the evidence, and `cube_state` what they were built for and what writes since then still have to be folded in
(reports/derived.py).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Index,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeDecorator

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
EPOCH_DAY = dt.date(1970, 1, 1)


class UTCTimestamp(TypeDecorator):
    """An aware UTC datetime: `timestamptz` on PostgreSQL, integer microseconds on SQLite.

    A naive datetime is taken to be UTC (DESIGN.md: an input without offset is UTC).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            delta = value - EPOCH
            return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return EPOCH + dt.timedelta(microseconds=int(value))
        return value.astimezone(dt.timezone.utc)


class Day(TypeDecorator):
    """A calendar date: `date` on PostgreSQL, integer days since 1970-01-01 on SQLite."""

    impl = Date
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Date())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            value = value.date()
        if dialect.name == "sqlite":
            return (value - EPOCH_DAY).days
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return EPOCH_DAY + dt.timedelta(days=int(value))
        return value


def _bool(name: str, **kw) -> Column:
    return Column(name, Boolean(create_constraint=False), **kw)


metadata = MetaData()

pull_requests = Table(
    "pull_requests",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("repo", String, nullable=False),
    Column("number", BigInteger),
    Column("title", Text),
    Column("author", String),
    Column("team", String),  # the source's own team; the config mapping is applied when metrics read
    Column("url", String),
    Column("created_at", UTCTimestamp),
    Column("merged_at", UTCTimestamp),
    Column("closed_at", UTCTimestamp),
    # Compared byte by byte on PostgreSQL (migration 0017: its index builds sort with memcmp, not strcoll).
    Column("merge_commit_sha", String().with_variant(String(collation="C"), "postgresql")),
    Column("labels", Text),  # JSON array of label names
    _bool("ai_assisted", nullable=False),
    Column("ai_signals", Text),  # JSON array: every detection rule that fired, e.g. "label:copilot"
    _bool("is_revert", nullable=False),
    # A source-given link; when empty the metrics resolve `revert_ref` against the other PRs, because
    # the reverted PR may arrive in a later import than its revert.
    Column("reverts_pr_id", String),
    # JSON {"repo", "number", "sha", "title"}: what the revert's title/body point at (bodies are not kept).
    Column("revert_ref", Text),
    # Attribution beside `ai_signals` (migration 0002): the registry's tool names behind the signals (JSON
    # array), how the PR was AI-assisted (explicit, agent, co_authored, labelled) and with what confidence.
    Column("ai_tools", Text),
    Column("ai_mode", String),
    Column("ai_confidence", String),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("repo", String, nullable=False),
    Column("team", String),
    Column("environment", String, nullable=False),
    Column("sha", String),
    Column("finished_at", UTCTimestamp),
    Column("status", String, nullable=False),
    _bool("is_rollback"),  # the source's flag: true, false, or empty (decide by the sha rule)
    Column("url", String),
)

deployment_prs = Table(
    "deployment_prs",
    metadata,
    Column("deployment_id", String, primary_key=True),
    Column("pr_id", String, primary_key=True),
    Column("source", String, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("title", Text),
    Column("team", String),
    Column("service", String),
    Column("severity", String),
    Column("started_at", UTCTimestamp, nullable=False),
    Column("resolved_at", UTCTimestamp),
    _bool("ai_assisted", nullable=False),
    Column("caused_by_deployment_id", String),
    Column("url", String),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("team", String),
    Column("created_at", UTCTimestamp),
    Column("resolved_at", UTCTimestamp),
    Column("channel", String),  # self_serve, ai_bot or human; empty while the ticket is unresolved
    Column("csat", Float),  # 1-5, or empty
)

ai_spend = Table(
    "ai_spend",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("date", Day, nullable=False),
    Column("team", String),
    Column("tool", String),
    Column("model", String),
    Column("workflow", String),
    Column("cost_usd", Float, nullable=False),
    Column("tokens", BigInteger),
    Column("requests", BigInteger),
    Column("vendor_user", String),  # issue 18: the vendor's user (e-mail, login or id) where it bills per user
    Column("api_key", String),  # issue 18: the API key id where the vendor splits by key
)

ai_usage = Table(
    "ai_usage",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("date", Day, nullable=False),
    Column("team", String),
    Column("tool", String),
    Column("active_users", BigInteger),
    Column("engaged_users", BigInteger),
    Column("seats", BigInteger),
    Column("suggestions", BigInteger),
    Column("acceptances", BigInteger),
    Column("prs_created_by_agent", BigInteger),
)

# --- The change chain (issue 16): what a PR touched, who reviewed it, who is senior. ---
pull_request_files = Table(
    "pull_request_files",
    metadata,
    Column("pr_id", String, primary_key=True),
    Column("path", String, primary_key=True),  # the new path of a renamed file
    Column("source", String, nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("pr_id", String, nullable=False),
    Column("reviewer", String, nullable=False),  # a login
    Column("state", String, nullable=False),  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    Column("submitted_at", UTCTimestamp),
)

people = Table(
    "people",
    metadata,
    Column("login", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("name", String),
    Column("team", String),
    Column("level", String),  # senior when in [rules] senior_levels
    Column("since", UTCTimestamp),  # when the person became senior (empty: always was)
    Column("emails", Text),  # ';'-separated addresses (vendor users are joined to people by e-mail)
)

# Per-person AI tool usage (issue 18): one row per vendor user, day, tool (and model / API key where the
# vendor splits by them). `vendor_user` is how the vendor names the user (login, e-mail, user id or API
# key name); `email`/`login` are what can be joined to `people`; `person` and `team` are filled by the
# matching, never guessed by a connector.
ai_usage_people = Table(
    "ai_usage_people",
    metadata,
    Column("id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("date", Day, nullable=False),
    Column("tool", String, nullable=False),
    Column("vendor_user", String, nullable=False),
    Column("email", String),
    Column("login", String),
    Column("person", String),
    Column("team", String),
    Column("model", String),
    Column("api_key", String),
    _bool("active"),
    _bool("engaged"),
    Column("suggestions", BigInteger),
    Column("acceptances", BigInteger),
    Column("lines_added", BigInteger),
    Column("lines_removed", BigInteger),
    Column("sessions", BigInteger),
    Column("requests", BigInteger),
    Column("commits", BigInteger),
    Column("prs", BigInteger),
    Column("tokens", BigInteger),
    Column("cost_usd", Float),
    Column("project", String),  # the vendor's project (OpenAI project_id): its cost is shared out by tokens
    _bool("used_chat"),
    _bool("used_agent"),
    _bool("used_cli"),
    Column("detail", Text),  # the record's other documented fields by their API names, JSON (docs/vendors.md)
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String, nullable=False),
    Column("started_at", UTCTimestamp, nullable=False),
    Column("finished_at", UTCTimestamp),
    Column("status", String, nullable=False),  # running, success, partial, failed
    Column("rows", BigInteger, nullable=False, default=0),
    Column("error", Text),
    Column("detail", Text),  # JSON: rows per table, rejected records with their ids and reasons
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("source", String, primary_key=True),
    Column("stream", String, primary_key=True),
    Column("cursor", Text),
    Column("updated_at", UTCTimestamp, nullable=False),
)

# One writer per source (warehouse/lease.py). On SQLite the row *is* the lease (it expires unless its
# holder's heartbeat renews it); on PostgreSQL an advisory lock is, and the row only says who holds it.
sync_leases = Table(
    "sync_leases",
    metadata,
    Column("source", String, primary_key=True),
    Column("token", String, nullable=False),  # the holder's random id: only it renews or releases
    Column("holder", String, nullable=False),  # who, for people: "scorecard schedule on host (pid 42)"
    Column("acquired_at", UTCTimestamp, nullable=False),
    Column("expires_at", UTCTimestamp, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", UTCTimestamp, nullable=False),
    Column("actor", String, nullable=False),
    Column("action", String, nullable=False),  # sync, import, export, config change
    Column("detail", Text),
)

# The source's own value beside the normalised one where they differ (as DevLake keeps `original_status`),
# so a surprising number can be traced: PagerDuty's urgency or priority behind `severity`, Jira's "Resolved
# By" behind `channel`, GitHub's deployment state behind `status` (migration 0003).
deployments.append_column(Column("original_status", String))
incidents.append_column(Column("original_severity", String))
tickets.append_column(Column("original_channel", String))

# The derived daily cube (metrics.cube.Cube, migration 0008): each part (ratio, mean, values, spend, units)
# as one Arrow IPC chunk per calendar month of its `day` column (chunk "2026-03"), span and seniors as one
# chunk ("all"). Chunks, not one SQL row per cube row: the cube holds millions of rows (one per shipped PR
# in `values`), which a reader must load in a fraction of a second; a write replaces the months it reaches.
cube_chunks = Table(
    "cube_chunks", metadata, Column("part", String, primary_key=True), Column("chunk", String, primary_key=True),
    Column("rows", BigInteger, nullable=False), Column("data", LargeBinary, nullable=False),
)
# Per production deployment, whether it ships PRs (not a rollback by DESIGN.md's rule): what bounds how far
# back a deployment write reaches (warehouse/reach.py) and which PRs still wait to ship (warehouse/slice.py).
cube_deployments = Table(
    "cube_deployments", metadata, Column("id", String, primary_key=True), Column("repo", String),
    Column("finished_at", UTCTimestamp), _bool("ships"),
    Index("ix_cube_deployments_repo_finished_at", "repo", "finished_at"),
    Index("ix_cube_deployments_finished_at", "finished_at"),  # the upkeep's read from the slice's start on
)

# One row (id 1) once a cube has been built: the config fingerprint and look-backs it was built with, and
# the reach of the writes since (pending_from: cube days from there on are stale; pending_full: a write
# that reaches all history, e.g. people; pending_seq counts writes, so an upkeep that read the evidence
# before a concurrent write commits does not clear that write's reach).
cube_state = Table(
    "cube_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fingerprint", String, nullable=False),
    Column("built_at", UTCTimestamp, nullable=False),
    Column("look_back_seconds", Float, nullable=False),  # metrics.reach.Reach.look_back
    Column("rollback_window_seconds", Float, nullable=False),
    Column("production_environments", Text, nullable=False),  # lower-case, JSON list
    Column("pending_from", UTCTimestamp),
    Column("pending_full", Boolean(create_constraint=False), nullable=False, default=False),
    Column("pending_seq", BigInteger, nullable=False, default=0),
    # The follow-up fix rule (`[rules] fix_labels`, `fix_title_pattern`) as JSON {"labels", "title_pattern"}:
    # a PR's files reach back the rework window only when it is a fix (warehouse/reach.py). Empty: not
    # known (a cube built before migration 0009, until its next upkeep records it): every PR with files does.
    Column("fix_rule", Text),
    # Whether a write since the last upkeep touched ai_spend (migration 0016): only then are the spend's parts
    # kept beside the cube summed again (reports/derived.py); they depend on the spend rows alone.
    Column("spend_pending", Boolean(create_constraint=False), nullable=False, default=True),
)

# A PR that names what it reverts (by source id, or by repo, number, sha or title read from its text).
REVERT_NAMED = "reverts_pr_id IS NOT NULL OR revert_ref IS NOT NULL"

# The counting-time indexes the upkeep reads the evidence by (warehouse/slice.py).
TIME_INDEXES = (
    # With the author and the AI flag (migration 0009): the adoption cohorts' weekly merge counts of the
    # weeks before a slice (reports/derived.py `_merge_counts`) and a write's same-week merges
    # (warehouse/reach.py) are read from the index alone, not from a row scattered over the table per PR.
    # And with the repo and the team (migration 0012): the (repo, team) pairs of a range's PRs, which repos hold
    # a team's PRs (warehouse/slice.py `span_pairs`), likewise.
    Index("ix_pull_requests_merged_at", pull_requests.c.merged_at, pull_requests.c.author, pull_requests.c.ai_assisted,
          pull_requests.c.repo, pull_requests.c.team),
    # The PRs naming what they revert, by merge time (migration 0012): the reverts of a range (`span_pairs`) are
    # a few of its PRs, found without reading the others' rows.
    Index("ix_pull_requests_reverts_merged_at", pull_requests.c.merged_at,
          sqlite_where=text(REVERT_NAMED), postgresql_where=text(REVERT_NAMED)),
    Index("ix_pull_requests_repo_merged_at", pull_requests.c.repo, pull_requests.c.merged_at),
    Index("ix_deployments_finished_at", deployments.c.finished_at),
    Index("ix_deployments_repo_finished_at", deployments.c.repo, deployments.c.finished_at),
    Index("ix_deployments_sha", deployments.c.sha),
    Index("ix_incidents_started_at", incidents.c.started_at),
    Index("ix_incidents_resolved_at", incidents.c.resolved_at),
    Index("ix_incidents_caused_by_deployment_id", incidents.c.caused_by_deployment_id),
    # On PostgreSQL with the columns the cube reads of a ticket (migration 0011): the upkeep's tickets from its
    # cut on come from the index alone, not from a table page per ticket (a bulk load leaves them in key order).
    Index("ix_tickets_resolved_at", tickets.c.resolved_at, postgresql_include=["team", "channel", "csat"]),
    Index("ix_ai_spend_date", ai_spend.c.date),
    # With the reviewer (migration 0012): a team's seniors' reviews of a range are picked from the index's
    # entries, each row read only when its reviewer is one of them (warehouse/slice.py `read_reviews_by`).
    Index("ix_reviews_submitted_at", reviews.c.submitted_at, reviews.c.reviewer),
    Index("ix_reviews_pr_id", reviews.c.pr_id),
    Index("ix_deployment_prs_pr_id", deployment_prs.c.pr_id),
    Index("ix_pull_requests_repo_number", pull_requests.c.repo, pull_requests.c.number),
    Index("ix_pull_requests_merge_commit_sha", pull_requests.c.merge_commit_sha),
)

# Indexes that answer a page's aggregate from their entries alone (migration 0013): the Governance page's spend
# per tool × model × workflow × team over every spend row (reports/governance_data.load_spend_groups), read in
# the index's order with no sort and no row (SQLite at 1M PRs: 0.3 CPU-s instead of 1.5).
READ_INDEXES = (
    Index("ix_ai_spend_kinds", ai_spend.c.tool, ai_spend.c.model, ai_spend.c.workflow, ai_spend.c.team, ai_spend.c.date,
          ai_spend.c.cost_usd),
)

# The PRs naming an AI tool only, by merge and close time, with their ids and tools (migration 0014): the Adoption
# page's per-tool economics read a range's from the index alone (reports/adoption_data.load_tool_prs). Not a
# counting-time index: the upkeep does not read by it (and benchmarks/imports.py's stock loader, whose files name no
# tools, has no such rows to index).
TOOL_PRS_INDEX = Index("ix_pull_requests_tools_merged_at", pull_requests.c.merged_at, pull_requests.c.closed_at,
                       pull_requests.c.id, pull_requests.c.ai_tools,
                       sqlite_where=text("ai_tools IS NOT NULL AND ai_tools <> '[]'"),
                       postgresql_where=text("ai_tools IS NOT NULL AND ai_tools <> '[]'"))

# The PRs never merged that name an AI signal, by creation time (migration 0015): the Governance page's AI
# identities are kept beside the cube by the day a PR counts on (its merge, else its creation: governance.inventory
# .pr_identities), and the upkeep's slice reads PRs by merge time; these it reads from its cut on by this index, and
# the page those without a creation time (no day to keep them on). A few rows of a warehouse (most PRs merge, few
# name AI), so an import writes next to nothing into it.
UNMERGED_SIGNALS = "merged_at IS NULL AND ai_signals IS NOT NULL AND ai_signals <> '[]'"
UNMERGED_SIGNALS_INDEX = Index("ix_pull_requests_unmerged_signals", pull_requests.c.created_at,
                               sqlite_where=text(UNMERGED_SIGNALS), postgresql_where=text(UNMERGED_SIGNALS))

# The tables that hold evidence (imported, synced, exported); the rest is bookkeeping.
DATA_TABLES: dict[str, Table] = {
    t.name: t
    for t in (pull_requests, deployments, deployment_prs, incidents, tickets, ai_spend, ai_usage,
              pull_request_files, reviews, people, ai_usage_people)
}
TABLES: dict[str, Table] = dict(metadata.tables)
