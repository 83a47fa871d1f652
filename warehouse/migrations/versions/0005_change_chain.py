"""The change chain: the files each PR touched, submitted reviews, and people (for senior review load).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from warehouse.schema import UTCTimestamp

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_request_files",
        sa.Column("pr_id", sa.String, primary_key=True),
        sa.Column("path", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("pr_id", sa.String, nullable=False),
        sa.Column("reviewer", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("submitted_at", UTCTimestamp),
    )
    op.create_table(
        "people",
        sa.Column("login", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("name", sa.String),
        sa.Column("team", sa.String),
        sa.Column("level", sa.String),
        sa.Column("since", UTCTimestamp),
        sa.Column("emails", sa.Text),
    )


def downgrade() -> None:
    for table in ("people", "reviews", "pull_request_files"):
        op.drop_table(table)
