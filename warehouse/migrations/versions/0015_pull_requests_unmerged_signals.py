"""A partial index of the PRs never merged that name an AI signal, by creation time: the Governance page's AI
identities (governance.inventory.pr_identities: a PR counts on its merge day, else its creation day) are kept
beside the cube (`identity_facts`, cube format 12) instead of read from a scan of every PR on each first visit
(~0.9 CPU-s at 1M PRs, growing with history). The upkeep reads PRs by merge time; the never-merged ones named
by AI it reads from its cut on through this index, and the page those without a creation time. Few rows: most
PRs merge, and few name AI.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UNMERGED_SIGNALS = "merged_at IS NULL AND ai_signals IS NOT NULL AND ai_signals <> '[]'"


def upgrade() -> None:
    op.create_index("ix_pull_requests_unmerged_signals", "pull_requests", ["created_at"],
                    sqlite_where=sa.text(UNMERGED_SIGNALS), postgresql_where=sa.text(UNMERGED_SIGNALS))


def downgrade() -> None:
    op.drop_index("ix_pull_requests_unmerged_signals", table_name="pull_requests")
