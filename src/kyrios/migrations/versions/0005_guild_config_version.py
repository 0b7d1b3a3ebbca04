"""guild configuration version, so settings and gacha tables can be cached safely

Revision ID: 0005_guild_config_version
Revises: 0001
Create Date: 2026-11-30 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_guild_config_version"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("guild_settings",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guild_settings") as batch:
        batch.add_column(sa.Column("config_version", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("guild_settings") as batch:
        batch.drop_column("config_version")
