"""rumble battles: challenges with their seed and log, players' records and locks, timeout and stake rules

Revision ID: 0014_rumble_battles
Revises: 0011_rumble_settings
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0014_rumble_battles"
down_revision: str | None = "0011_rumble_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = kyrios.core.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("rumble_settings") as batch:
        batch.add_column(
            sa.Column("challenge_timeout_seconds", sa.Integer(), nullable=False, server_default="60")
        )
        batch.add_column(sa.Column("max_stake", sa.BigInteger(), nullable=False, server_default="10000"))
    op.create_table(
        "rumble_battle",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("challenger_id", sa.BigInteger(), nullable=False),
        sa.Column("opponent_id", sa.BigInteger(), nullable=False),
        sa.Column("stake", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("expires_at", WHEN(), nullable=False),
        sa.Column("resolved_at", WHEN(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("challenger_bonus", sa.Integer(), nullable=False),
        sa.Column("opponent_bonus", sa.Integer(), nullable=False),
        sa.Column("winner_id", sa.BigInteger(), nullable=True),
        sa.Column("loser_id", sa.BigInteger(), nullable=True),
        sa.Column("winner_points", sa.BigInteger(), nullable=False),
        sa.Column("loser_points", sa.BigInteger(), nullable=False),
        sa.Column("log", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rumble_battle")),
    )
    op.create_index("ix_rumble_battle_guild_time", "rumble_battle", ["guild_id", "resolved_at"])
    op.create_index(
        "ix_rumble_battle_challenger", "rumble_battle", ["guild_id", "challenger_id", "resolved_at"]
    )
    op.create_index("ix_rumble_battle_opponent", "rumble_battle", ["guild_id", "opponent_id", "resolved_at"])
    op.create_index("ix_rumble_battle_winner", "rumble_battle", ["guild_id", "winner_id", "resolved_at"])
    op.create_table(
        "rumble_player",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("points_won", sa.BigInteger(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("pending_battle_id", sa.BigInteger(), nullable=True),
        sa.Column("pending_until", WHEN(), nullable=True),
        sa.Column("last_battle_at", WHEN(), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_rumble_player")),
    )
    op.create_index("ix_rumble_player_guild_wins", "rumble_player", ["guild_id", "wins"])


def downgrade() -> None:
    op.drop_index("ix_rumble_player_guild_wins", table_name="rumble_player")
    op.drop_table("rumble_player")
    for name in ("winner", "opponent", "challenger", "guild_time"):
        op.drop_index(f"ix_rumble_battle_{name}", table_name="rumble_battle")
    op.drop_table("rumble_battle")
    with op.batch_alter_table("rumble_settings") as batch:
        batch.drop_column("max_stake")
        batch.drop_column("challenge_timeout_seconds")
