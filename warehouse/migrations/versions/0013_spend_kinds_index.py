"""The spend rows' tool, model, workflow and team with their day and cost, as one index
(`ix_ai_spend_kinds`): the Governance page sums every spend row per tool × model × workflow × team
(reports/governance_data.load_spend_groups), which SQLite answered by reading every row and sorting them
(1.5 CPU-s at 1M PRs, 1M spend rows, growing with the history); from this index's entries, in their order,
it needs neither (0.3 CPU-s). On a large warehouse it is built once (~1.6 CPU-s and ~60 MB at 1M spend rows).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ai_spend_kinds", "ai_spend", ["tool", "model", "workflow", "team", "date", "cost_usd"])


def downgrade() -> None:
    op.drop_index("ix_ai_spend_kinds", table_name="ai_spend")
