"""modlog retention: the log retention moves from guild_settings to modlog_guild

Every guild with a settings row gets a modlog_guild row (message store off, as before) holding its
retention; the downgrade removes the rows this added (those never changed: no `updated_at`).

Revision ID: 0011_modlog_retention
Revises: 0008_modlog_posts
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_modlog_retention"
down_revision: str | None = "0008_modlog_posts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

shared = sa.table("guild_settings", sa.column("guild_id"), sa.column("retention_days"))
modlog = sa.table(
    "modlog_guild",
    sa.column("guild_id"),
    sa.column("store_messages"),
    sa.column("retention_days"),
    sa.column("updated_at"),
)
same_guild = modlog.c.guild_id == shared.c.guild_id


def upgrade() -> None:
    with op.batch_alter_table("modlog_guild") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer(), server_default="30", nullable=False))
    new_rows = sa.select(shared.c.guild_id, sa.false(), shared.c.retention_days).where(
        ~sa.exists().where(same_guild)
    )
    op.execute(modlog.insert().from_select(["guild_id", "store_messages", "retention_days"], new_rows))
    retention = sa.select(shared.c.retention_days).where(same_guild).scalar_subquery()
    op.execute(modlog.update().values(retention_days=retention).where(sa.exists().where(same_guild)))
    with op.batch_alter_table("guild_settings") as batch:
        batch.drop_column("retention_days")


def downgrade() -> None:
    with op.batch_alter_table("guild_settings") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer(), server_default="30", nullable=False))
    retention = sa.select(modlog.c.retention_days).where(same_guild).scalar_subquery()
    op.execute(shared.update().values(retention_days=retention).where(sa.exists().where(same_guild)))
    with op.batch_alter_table("guild_settings") as batch:
        batch.alter_column(
            "retention_days", server_default=None, existing_type=sa.Integer(), existing_nullable=False
        )
    op.execute(modlog.delete().where(modlog.c.updated_at.is_(None)))
    with op.batch_alter_table("modlog_guild") as batch:
        batch.drop_column("retention_days")
