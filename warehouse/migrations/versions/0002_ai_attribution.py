"""Pull requests carry their AI tools, mode and confidence (DESIGN.md "AI-assisted PR", revision 2).

Rows imported before this migration keep null in the new columns until they are synced or imported again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pull_requests") as batch:
        batch.add_column(sa.Column("ai_tools", sa.Text))
        batch.add_column(sa.Column("ai_mode", sa.String))
        batch.add_column(sa.Column("ai_confidence", sa.String))


def downgrade() -> None:
    with op.batch_alter_table("pull_requests") as batch:
        batch.drop_column("ai_confidence")
        batch.drop_column("ai_mode")
        batch.drop_column("ai_tools")
