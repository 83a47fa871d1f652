"""PostgreSQL only (SQLite is left as it is):

- The tickets' `resolved_at` index carries the columns the cube reads of a ticket (team, channel, csat:
  `INCLUDE`), so the upkeep's read of the tickets resolved from its cut on comes from the index alone. A bulk
  load leaves the rows in key order, not by resolution: the read fetched one table page per ticket (4,931 pages
  for 5,572 tickets of two days at 1M PRs, 121-143 ms of the server's ~0.6 s per small import; from the
  index, 36 pages and under 1 ms).
- The cube's chunks (`cube_chunks.data`) are compressed with lz4 where the server has it (PostgreSQL 14+ built
  with lz4), not pglz: each upkeep writes the changed month's chunks again (~7 MB of Arrow IPC at 1M PRs),
  and compressing them with pglz cost the server ~94 ms per write against ~28 ms with lz4 (1.75 MB stored
  against 1.49 MB); lz4 also reads back faster. Chunks stored before keep pglz until they are written again
  (a rebuild writes all).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TICKET_COLUMNS = ["team", "channel", "csat"]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.drop_index("ix_tickets_resolved_at", table_name="tickets")
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at"], postgresql_include=TICKET_COLUMNS)
    if has_lz4(bind):
        op.execute("ALTER TABLE cube_chunks ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.drop_index("ix_tickets_resolved_at", table_name="tickets")
    op.create_index("ix_tickets_resolved_at", "tickets", ["resolved_at"])
    if has_lz4(bind):
        op.execute("ALTER TABLE cube_chunks ALTER COLUMN data SET COMPRESSION default")


def has_lz4(bind) -> bool:
    """Whether the server can compress with lz4 (its `default_toast_compression` offers it: PostgreSQL 14+ built
    with lz4)."""
    return bool(bind.execute(sa.text(
        "SELECT coalesce(bool_or('lz4' = ANY(enumvals)), false) FROM pg_settings WHERE name = 'default_toast_compression'"
    )).scalar())
