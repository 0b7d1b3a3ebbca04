"""exchange settings: the admin's risk and pacing rules

Revision ID: 0007_exchange_settings
Revises: 0004_exchange_ledger_index
Create Date: 2026-11-30 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0007_exchange_settings"
down_revision: str | None = "0004_exchange_ledger_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("max_short_quantity", sa.BigInteger(), nullable=False),
        sa.Column("market_collar_bps", sa.Integer(), nullable=False),
        sa.Column("orders_per_second", sa.Float(), nullable=False),
        sa.Column("order_burst", sa.Integer(), nullable=False),
        sa.Column("updated_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_settings")),
    )


def downgrade() -> None:
    op.drop_table("exchange_settings")
