"""The source's original value beside the normalised one (severity, ticket channel, deployment status);
a ticket's channel may be empty (an unresolved ticket has none yet); CSV spend and usage rows without an
id of their own are re-keyed by their parsed values (connectors.csv.identity).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from warehouse.rekey import rekey_stored_rows

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deployments", sa.Column("original_status", sa.String))
    op.add_column("incidents", sa.Column("original_severity", sa.String))
    with op.batch_alter_table("tickets") as batch:  # SQLite changes a column's nullability by copying
        batch.add_column(sa.Column("original_channel", sa.String))
        batch.alter_column("channel", existing_type=sa.String, nullable=True)
    rekey_stored_rows(op.get_bind(), ("ai_spend", "ai_usage"))  # the entities keyed by content at 0003


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("channel", existing_type=sa.String, nullable=False)
        batch.drop_column("original_channel")
    op.drop_column("incidents", "original_severity")
    op.drop_column("deployments", "original_status")
