"""The initial warehouse: evidence tables, sync bookkeeping, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

from warehouse.schema import Day, UTCTimestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _bool(name, **kw):
    return sa.Column(name, sa.Boolean(create_constraint=False), **kw)


def upgrade() -> None:
    op.create_table(
        "pull_requests",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("repo", sa.String, nullable=False),
        sa.Column("number", sa.BigInteger),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.String),
        sa.Column("team", sa.String),
        sa.Column("url", sa.String),
        sa.Column("created_at", UTCTimestamp),
        sa.Column("merged_at", UTCTimestamp),
        sa.Column("closed_at", UTCTimestamp),
        sa.Column("merge_commit_sha", sa.String),
        sa.Column("labels", sa.Text),
        _bool("ai_assisted", nullable=False),
        sa.Column("ai_signals", sa.Text),
        _bool("is_revert", nullable=False),
        sa.Column("reverts_pr_id", sa.String),
        sa.Column("revert_ref", sa.Text),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("repo", sa.String, nullable=False),
        sa.Column("team", sa.String),
        sa.Column("environment", sa.String, nullable=False),
        sa.Column("sha", sa.String),
        sa.Column("finished_at", UTCTimestamp),
        sa.Column("status", sa.String, nullable=False),
        _bool("is_rollback"),
        sa.Column("url", sa.String),
    )
    op.create_table(
        "deployment_prs",
        sa.Column("deployment_id", sa.String, primary_key=True),
        sa.Column("pr_id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("team", sa.String),
        sa.Column("service", sa.String),
        sa.Column("severity", sa.String),
        sa.Column("started_at", UTCTimestamp, nullable=False),
        sa.Column("resolved_at", UTCTimestamp),
        _bool("ai_assisted", nullable=False),
        sa.Column("caused_by_deployment_id", sa.String),
        sa.Column("url", sa.String),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("team", sa.String),
        sa.Column("created_at", UTCTimestamp),
        sa.Column("resolved_at", UTCTimestamp),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("csat", sa.Float),
    )
    op.create_table(
        "ai_spend",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("date", Day, nullable=False),
        sa.Column("team", sa.String),
        sa.Column("tool", sa.String),
        sa.Column("model", sa.String),
        sa.Column("workflow", sa.String),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("tokens", sa.BigInteger),
        sa.Column("requests", sa.BigInteger),
    )
    op.create_table(
        "ai_usage",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("date", Day, nullable=False),
        sa.Column("team", sa.String),
        sa.Column("tool", sa.String),
        sa.Column("active_users", sa.BigInteger),
        sa.Column("engaged_users", sa.BigInteger),
        sa.Column("seats", sa.BigInteger),
        sa.Column("suggestions", sa.BigInteger),
        sa.Column("acceptances", sa.BigInteger),
        sa.Column("prs_created_by_agent", sa.BigInteger),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("started_at", UTCTimestamp, nullable=False),
        sa.Column("finished_at", UTCTimestamp),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "sync_state",
        sa.Column("source", sa.String, primary_key=True),
        sa.Column("stream", sa.String, primary_key=True),
        sa.Column("cursor", sa.Text),
        sa.Column("updated_at", UTCTimestamp, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", UTCTimestamp, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("detail", sa.Text),
    )


def downgrade() -> None:
    for table in (
        "audit_log", "sync_state", "sync_runs", "ai_usage", "ai_spend", "tickets", "incidents",
        "deployment_prs", "deployments", "pull_requests",
    ):
        op.drop_table(table)
