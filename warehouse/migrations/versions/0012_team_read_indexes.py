"""What the Rollbacks page's team drill-down reads, from indexes (warehouse/slice.py):

- the PRs' merged_at index with the repo and the team as well: the (repo, team) pairs of a range's PRs (which
  repos hold a team's PRs) are read from the index alone, not from a row scattered over the table per PR;
- a partial index of the PRs that name what they revert, by merge time: a range's reverts are a few hundred
  of its hundreds of thousands of PRs;
- the reviews' submitted_at index with the reviewer: a team's seniors' reviews of a range are picked from
  the index's entries, and only their rows read.

On a large warehouse they are built again once (~5 s at 1M PRs).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REVERT_NAMED = "reverts_pr_id IS NOT NULL OR revert_ref IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_pull_requests_merged_at", table_name="pull_requests")
    op.create_index("ix_pull_requests_merged_at", "pull_requests", ["merged_at", "author", "ai_assisted", "repo", "team"])
    op.create_index("ix_pull_requests_reverts_merged_at", "pull_requests", ["merged_at"],
                    sqlite_where=sa.text(REVERT_NAMED), postgresql_where=sa.text(REVERT_NAMED))
    op.drop_index("ix_reviews_submitted_at", table_name="reviews")
    op.create_index("ix_reviews_submitted_at", "reviews", ["submitted_at", "reviewer"])


def downgrade() -> None:
    op.drop_index("ix_reviews_submitted_at", table_name="reviews")
    op.create_index("ix_reviews_submitted_at", "reviews", ["submitted_at"])
    op.drop_index("ix_pull_requests_reverts_merged_at", table_name="pull_requests")
    op.drop_index("ix_pull_requests_merged_at", table_name="pull_requests")
    op.create_index("ix_pull_requests_merged_at", "pull_requests", ["merged_at", "author", "ai_assisted"])
