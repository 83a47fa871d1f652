"""A partial index of the PRs that name an AI tool, by merge and close time, holding their ids and tools: the
Adoption page's per-tool economics read those merged or closed in its range (reports/adoption_data.load_tool_prs).
Through the merged_at index that read fetched every PR of the range from the table to look at its `ai_tools`
(1M PRs, 26 weeks: ~250k rows scattered over the table for the 47k that name a tool; 6 s of the page's first
visit with the file not in the page cache); from this one it reads the 47k index entries alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NAMES_A_TOOL = "ai_tools IS NOT NULL AND ai_tools <> '[]'"


def upgrade() -> None:
    op.create_index("ix_pull_requests_tools_merged_at", "pull_requests", ["merged_at", "closed_at", "id", "ai_tools"],
                    sqlite_where=sa.text(NAMES_A_TOOL), postgresql_where=sa.text(NAMES_A_TOOL))


def downgrade() -> None:
    op.drop_index("ix_pull_requests_tools_merged_at", table_name="pull_requests")
