"""The derived daily cube in the warehouse (issue 15): the `cube_*` tables, `cube_state`, and the
counting-time indexes its time-scoped upkeep reads the evidence by. The cube is built on first use.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from warehouse.schema import UTCTimestamp

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


INDEXES = {
    "ix_pull_requests_merged_at": ("pull_requests", ["merged_at"]),
    "ix_pull_requests_repo_merged_at": ("pull_requests", ["repo", "merged_at"]),
    "ix_deployments_finished_at": ("deployments", ["finished_at"]),
    "ix_deployments_repo_finished_at": ("deployments", ["repo", "finished_at"]),
    "ix_deployments_sha": ("deployments", ["sha"]),
    "ix_incidents_started_at": ("incidents", ["started_at"]),
    "ix_incidents_resolved_at": ("incidents", ["resolved_at"]),
    "ix_incidents_caused_by_deployment_id": ("incidents", ["caused_by_deployment_id"]),
    "ix_tickets_resolved_at": ("tickets", ["resolved_at"]),
    "ix_ai_spend_date": ("ai_spend", ["date"]),
    "ix_reviews_submitted_at": ("reviews", ["submitted_at"]),
    "ix_reviews_pr_id": ("reviews", ["pr_id"]),
    "ix_deployment_prs_pr_id": ("deployment_prs", ["pr_id"]),  # the deployments naming a PR of the slice
    "ix_pull_requests_repo_number": ("pull_requests", ["repo", "number"]),  # a revert's target by number
    "ix_pull_requests_merge_commit_sha": ("pull_requests", ["merge_commit_sha"]),  # ... by merge sha
}


def upgrade() -> None:
    op.create_table("cube_chunks", sa.Column("part", sa.String, primary_key=True),
                    sa.Column("chunk", sa.String, primary_key=True), sa.Column("rows", sa.BigInteger, nullable=False),
                    sa.Column("data", sa.LargeBinary, nullable=False))
    op.create_table("cube_deployments", sa.Column("id", sa.String, primary_key=True), sa.Column("repo", sa.String),
                    sa.Column("finished_at", UTCTimestamp), sa.Column("ships", sa.Boolean(create_constraint=False)))
    op.create_index("ix_cube_deployments_repo_finished_at", "cube_deployments", ["repo", "finished_at"])
    op.create_table(
        "cube_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fingerprint", sa.String, nullable=False),
        sa.Column("built_at", UTCTimestamp, nullable=False),
        sa.Column("look_back_seconds", sa.Float, nullable=False),
        sa.Column("rollback_window_seconds", sa.Float, nullable=False),
        sa.Column("production_environments", sa.Text, nullable=False),
        sa.Column("pending_from", UTCTimestamp),
        sa.Column("pending_full", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("pending_seq", sa.BigInteger, nullable=False),
    )
    # On a large warehouse these take a while once (each a sort of one column).
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
    for table in ("cube_state", "cube_deployments", "cube_chunks"):
        op.drop_table(table)
