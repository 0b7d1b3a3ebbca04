"""admin notices: problems the admins were told about survive a restart

Revision ID: 0009_admin_notices
Revises: 0006_gacha_member_hints
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0009_admin_notices"
down_revision: str | None = "0006_gacha_member_hints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_notice",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("problem", sa.String(length=100), nullable=False),
        sa.Column("told_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "problem", name=op.f("pk_admin_notice")),
    )


def downgrade() -> None:
    op.drop_table("admin_notice")
