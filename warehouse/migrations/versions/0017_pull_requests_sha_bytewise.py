"""On PostgreSQL, `pull_requests.merge_commit_sha` compared byte by byte (collation "C"): its index is rebuilt by
every bulk import of PRs, and under the database's own collation (a libc locale such as C.UTF-8 or en_US.UTF-8)
each comparison of that build's sort is a `strcoll` call and PostgreSQL sorts without abbreviated keys; with
"C" the sort compares the first bytes as integers. The build of 1,050,298 PRs' shas: 0.78 CPU-s of the server
against 1.97 (the largest of the import's index builds). A sha is hex, so its order and every lookup the
product makes of it (equality; a lower-cased prefix's range, warehouse/slice.py: the same bounds under any
collation) answer the same; no query compares it with another table's column. SQLite compares text by its
bytes already: nothing to do there. The table is not rewritten; the index is rebuilt once.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("pull_requests", "merge_commit_sha", type_=sa.String(collation="C"), existing_type=sa.String())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("pull_requests", "merge_commit_sha", type_=sa.String(), existing_type=sa.String(collation="C"))
