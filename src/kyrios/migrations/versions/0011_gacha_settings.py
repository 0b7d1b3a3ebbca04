"""gacha settings: pull cost, pity and the daily free pull move from guild_settings to gacha_settings

Starts the gacha slice's own line (its first tables were created by 0001, the shared root, and its
member hints by 0006 on the guild_settings line).

Revision ID: 0011_gacha_settings
Revises:
Depends on: 0006_gacha_member_hints
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from kyrios.migrations.moves import Moved, back_into_guild_settings, out_of_guild_settings

revision: str = "0011_gacha_settings"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("gacha",)
depends_on: str | Sequence[str] | None = "0006_gacha_member_hints"

MOVED = (
    Moved("gacha_pull_cost", "pull_cost", sa.BigInteger(), "100"),
    Moved("gacha_pity_threshold", "pity_threshold", sa.Integer(), "50"),
    Moved("gacha_daily_free", "daily_free", sa.Boolean(), sa.true()),
)


def upgrade() -> None:
    out_of_guild_settings("gacha_settings", MOVED)


def downgrade() -> None:
    back_into_guild_settings("gacha_settings", MOVED)
