"""Whether a write since the cube's last upkeep touched the AI spend (`cube_state.spend_pending`): the spend's
two parts kept beside the cube (`spend_sums`, `spend_rollup`, cube format 12) depend on the spend rows alone, so
the upkeep after a write of PRs, deployments, incidents or tickets leaves them as they are instead of summing
the spend again from its cut (~0.1-0.2 s of every small import at 1M PRs).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # True on a cube kept before: its next upkeep sums the spend from its cut as it always did.
    op.add_column("cube_state", sa.Column("spend_pending", sa.Boolean(create_constraint=False), nullable=False,
                                          server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("cube_state") as batch:
        batch.drop_column("spend_pending")
