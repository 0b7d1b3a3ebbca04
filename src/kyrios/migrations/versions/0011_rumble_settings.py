"""rumble settings: points per win and loss and the cooldown move from guild_settings to rumble_settings

Revision ID: 0011_rumble_settings
Revises:
Depends on: 0001
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from kyrios.migrations.moves import Moved, back_into_guild_settings, out_of_guild_settings

revision: str = "0011_rumble_settings"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rumble",)
depends_on: str | Sequence[str] | None = "0001"

MOVED = (
    Moved("rumble_points_per_win", "points_per_win", sa.BigInteger(), "50"),
    Moved("rumble_points_per_loss", "points_per_loss", sa.BigInteger(), "10"),
    Moved("rumble_cooldown_minutes", "cooldown_minutes", sa.Integer(), "30"),
)


def upgrade() -> None:
    out_of_guild_settings("rumble_settings", MOVED)


def downgrade() -> None:
    back_into_guild_settings("rumble_settings", MOVED)
