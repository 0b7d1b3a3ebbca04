"""economy earn: earning rules, role multipliers, members' earning state, the ledger's period index

Revision ID: 0014_economy_earn
Revises: 0011_economy_branch
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0014_economy_earn"
down_revision: str | None = "0011_economy_branch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "economy_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("daily_amount", sa.BigInteger(), nullable=False),
        sa.Column("streak_bonus", sa.BigInteger(), nullable=False),
        sa.Column("streak_cap", sa.Integer(), nullable=False),
        sa.Column("message_points", sa.BigInteger(), nullable=False),
        sa.Column("message_cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("voice_points_per_minute", sa.BigInteger(), nullable=False),
        sa.Column("pay_daily_limit", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_economy_settings")),
    )
    op.create_table(
        "economy_role_multiplier",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "role_id", name=op.f("pk_economy_role_multiplier")),
    )
    op.create_table(
        "economy_member",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("daily_day", sa.Date(), nullable=True),
        sa.Column("daily_streak", sa.Integer(), nullable=False),
        sa.Column("pay_day", sa.Date(), nullable=True),
        sa.Column("pay_sent", sa.BigInteger(), nullable=False),
        sa.Column("message_at", kyrios.core.models.UTCDateTime(), nullable=True),
        sa.Column("voice_since", kyrios.core.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_economy_member")),
    )
    op.create_index("ix_economy_ledger_guild_created", "economy_ledger", ["guild_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_economy_ledger_guild_created", table_name="economy_ledger")
    op.drop_table("economy_member")
    op.drop_table("economy_role_multiplier")
    op.drop_table("economy_settings")
