"""Per-person AI tool usage (`ai_usage_people`) and the vendor user / API key of a spend row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from warehouse.schema import Day

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _bool(name, **kw):
    return sa.Column(name, sa.Boolean(create_constraint=False), **kw)


def upgrade() -> None:
    with op.batch_alter_table("ai_spend") as batch:
        batch.add_column(sa.Column("vendor_user", sa.String))
        batch.add_column(sa.Column("api_key", sa.String))
    op.create_table(
        "ai_usage_people",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("date", Day, nullable=False),
        sa.Column("tool", sa.String, nullable=False),
        sa.Column("vendor_user", sa.String, nullable=False),
        sa.Column("email", sa.String),
        sa.Column("login", sa.String),
        sa.Column("person", sa.String),
        sa.Column("team", sa.String),
        sa.Column("model", sa.String),
        sa.Column("api_key", sa.String),
        _bool("active"),
        _bool("engaged"),
        sa.Column("suggestions", sa.BigInteger),
        sa.Column("acceptances", sa.BigInteger),
        sa.Column("lines_added", sa.BigInteger),
        sa.Column("lines_removed", sa.BigInteger),
        sa.Column("sessions", sa.BigInteger),
        sa.Column("requests", sa.BigInteger),
        sa.Column("commits", sa.BigInteger),
        sa.Column("prs", sa.BigInteger),
        sa.Column("tokens", sa.BigInteger),
        sa.Column("cost_usd", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("ai_usage_people")
    with op.batch_alter_table("ai_spend") as batch:
        batch.drop_column("api_key")
        batch.drop_column("vendor_user")
