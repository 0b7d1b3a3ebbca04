"""gacha owned items: copies of each item a member owns, backfilled from the pulls made so far

Counting a member's different items (the collector achievements, `/gacha collection`, `/profile`)
reads these rows instead of the member's whole pull history. Every pull keeps them from now on.

Revision ID: 0015_gacha_owned_items
Revises: 0011_gacha_settings
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0015_gacha_owned_items"
down_revision: str | None = "0011_gacha_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "gacha_owned_item",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", ID, autoincrement=False, nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("first_obtained_at", kyrios.core.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["gacha_item.id"], name=op.f("fk_gacha_owned_item_item_id_gacha_item")
        ),
        sa.PrimaryKeyConstraint("guild_id", "user_id", "item_id", name=op.f("pk_gacha_owned_item")),
    )
    # One statement, in the database: a member's copies and their first pull of each item.
    op.execute(
        "INSERT INTO gacha_owned_item (guild_id, user_id, item_id, copies, first_obtained_at)"
        " SELECT guild_id, user_id, item_id, COUNT(*), MIN(created_at) FROM gacha_pull"
        " GROUP BY guild_id, user_id, item_id"
    )


def downgrade() -> None:
    op.drop_table("gacha_owned_item")
