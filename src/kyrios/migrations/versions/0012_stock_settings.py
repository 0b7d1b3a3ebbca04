"""stock bank: a guild's points ⇄ game cash rate and daily limit, and the conversions made

Revision ID: 0012_stock_settings
Revises:
Depends on: 0001
Create Date: 2026-12-03 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0012_stock_settings"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("stock",)
depends_on: str | Sequence[str] | None = "0001"


def upgrade() -> None:
    op.create_table(
        "stock_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("cents_per_point", sa.BigInteger(), nullable=False),
        sa.Column("daily_limit_points", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id"),
    )
    op.create_table(
        "stock_transfer",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("cash_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_stock_transfer_member_time", "stock_transfer", ["guild_id", "user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_stock_transfer_member_time", table_name="stock_transfer")
    op.drop_table("stock_transfer")
    op.drop_table("stock_settings")
