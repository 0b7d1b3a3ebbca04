"""gacha member hints: last free day and unlocked gacha achievements on the stats row

Revision ID: 0006_gacha_member_hints
Revises: 0005_guild_config_version
Create Date: 2026-11-30 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_gacha_member_hints"
down_revision: str | None = "0005_guild_config_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gacha_stats") as batch:
        batch.add_column(sa.Column("last_free_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("unlocked", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("gacha_stats") as batch:
        batch.drop_column("unlocked")
        batch.drop_column("last_free_day")
