"""An index on the kept deployment verdicts' finish time (`cube_deployments.finished_at`): the upkeep reads the
verdicts from the slice's start on to compare them with the new ones (warehouse/cube_store.py
`_changed_deployments`), which scanned the whole table (PostgreSQL: 2,931 pages at 1M PRs, 20-110 ms of a
small import) for the few hundred rows of the slice's days; SQLite likewise (853k rows at 3M PRs: 0.05 CPU-s
of a small import, growing with the warehouse's history).

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
