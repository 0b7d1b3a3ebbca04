"""tickets settings: the ticket and archive categories move from guild_settings to tickets_settings

Revision ID: 0011_tickets_settings
Revises:
Depends on: 0001
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from kyrios.migrations.moves import Moved, back_into_guild_settings, out_of_guild_settings

revision: str = "0011_tickets_settings"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("tickets",)
depends_on: str | Sequence[str] | None = "0001"

MOVED = (
    Moved("ticket_category_id", "category_id", sa.BigInteger()),
    Moved("archive_category_id", "archive_category_id", sa.BigInteger()),
)


def upgrade() -> None:
    out_of_guild_settings("tickets_settings", MOVED)


def downgrade() -> None:
    back_into_guild_settings("tickets_settings", MOVED)
