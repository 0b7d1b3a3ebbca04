"""wallet settings: the wallet requirement and chains move from guild_settings to wallet_settings

Revision ID: 0011_wallet_settings
Revises:
Depends on: 0001
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from kyrios.migrations.moves import Moved, back_into_guild_settings, out_of_guild_settings

revision: str = "0011_wallet_settings"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("wallet",)
depends_on: str | Sequence[str] | None = "0001"

MOVED = (
    Moved("wallet_required", "required", sa.Boolean(), sa.false()),
    Moved("wallet_allowed_chains", "allowed_chains", sa.String(length=64), "ETH,SOL"),
)


def upgrade() -> None:
    out_of_guild_settings("wallet_settings", MOVED)


def downgrade() -> None:
    back_into_guild_settings("wallet_settings", MOVED)
