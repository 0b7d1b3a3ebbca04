"""achievements outbox: announcements written with each unlock, and the roles guilds grant with one

Revision ID: 0015_achievements_outbox
Revises: 0011_achievements_branch
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0015_achievements_outbox"
down_revision: str | None = "0011_achievements_branch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = kyrios.core.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "achievement_outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("role_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("sent_at", WHEN(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_achievement_outbox")),
    )
    op.create_index("ix_achievement_outbox_pending", "achievement_outbox", ["sent_at", "id"])
    op.create_table(
        "achievement_role",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "code", name=op.f("pk_achievement_role")),
    )


def downgrade() -> None:
    op.drop_table("achievement_role")
    op.drop_index("ix_achievement_outbox_pending", table_name="achievement_outbox")
    op.drop_table("achievement_outbox")
