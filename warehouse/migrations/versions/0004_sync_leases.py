"""One writer per source: the sync lease table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from warehouse.schema import UTCTimestamp

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_leases",
        sa.Column("source", sa.String, primary_key=True),
        sa.Column("token", sa.String, nullable=False),
        sa.Column("holder", sa.String, nullable=False),
        sa.Column("acquired_at", UTCTimestamp, nullable=False),
        sa.Column("expires_at", UTCTimestamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_leases")
