"""auto role settings: the auto role moves from guild_settings to the auto_role slice's table

Revision ID: 0011_auto_role_settings
Revises:
Depends on: 0001
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from kyrios.migrations.moves import Moved, back_into_guild_settings, out_of_guild_settings

revision: str = "0011_auto_role_settings"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("auto_role",)
depends_on: str | Sequence[str] | None = "0001"

MOVED = (Moved("auto_role_id", "role_id", sa.BigInteger()),)


def upgrade() -> None:
    out_of_guild_settings("auto_role_settings", MOVED)


def downgrade() -> None:
    back_into_guild_settings("auto_role_settings", MOVED)
