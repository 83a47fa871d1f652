"""Per-person usage: the OpenAI project, chat / agent / CLI use, and the vendor's other documented fields.

`project` lets a day's OpenAI project cost be shared out to the project's users and keys
(metrics.openai_allocation); `used_chat` / `used_agent` / `used_cli` are the vendors' own flags (Copilot)
or counts above zero (Cursor); `detail` keeps every other documented field of the vendor's record under
its API name, as JSON text (docs/vendors.md lists where each field goes).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _bool(name):
    return sa.Column(name, sa.Boolean(create_constraint=False))


def upgrade() -> None:
    with op.batch_alter_table("ai_usage_people") as batch:
        batch.add_column(sa.Column("project", sa.String))
        batch.add_column(_bool("used_chat"))
        batch.add_column(_bool("used_agent"))
        batch.add_column(_bool("used_cli"))
        batch.add_column(sa.Column("detail", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("ai_usage_people") as batch:
        for name in ("detail", "used_cli", "used_agent", "used_chat", "project"):
            batch.drop_column(name)
