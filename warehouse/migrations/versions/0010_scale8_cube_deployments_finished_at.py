"""The kept rollback verdicts (`cube_deployments`) by finish time: the upkeep compares the stored verdicts
from the slice's start on with those it made (warehouse/cube_store.py `_changed_deployments`), and
without this index SQLite read the whole table for them (853k rows at 3M PRs: 0.05 CPU-s a small
import, growing with the warehouse's history).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cube_deployments_finished_at", "cube_deployments", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_cube_deployments_finished_at", table_name="cube_deployments")
