"""The follow-up fix rule the cube was built with (`cube_state.fix_rule`), so a write of a PR or its files
reaches back the rework window only when that PR is a fix (warehouse/reach.py). Empty on a cube built
before: the next upkeep records it (the rule is part of the cube's fingerprint), and until then every PR
with files reaches back.

And the PRs' merged_at index with the author and the AI flag: the upkeep's weekly merge counts per author
are read from the index alone (on a large warehouse it is built again once: ~3 s at 1M PRs).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cube_state", sa.Column("fix_rule", sa.Text))
    op.drop_index("ix_pull_requests_merged_at", table_name="pull_requests")
    op.create_index("ix_pull_requests_merged_at", "pull_requests", ["merged_at", "author", "ai_assisted"])


def downgrade() -> None:
    op.drop_index("ix_pull_requests_merged_at", table_name="pull_requests")
    op.create_index("ix_pull_requests_merged_at", "pull_requests", ["merged_at"])
    with op.batch_alter_table("cube_state") as batch:
        batch.drop_column("fix_rule")
