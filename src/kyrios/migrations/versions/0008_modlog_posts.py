"""modlog posts: which log message shows each case, so a new reason or note can edit it

Revision ID: 0008_modlog_posts
Revises: 0003_moderation_avatars
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_modlog_posts"
down_revision: str | None = "0003_moderation_avatars"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "modlog_post",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["modlog_entry.id"],
            name=op.f("fk_modlog_post_entry_id_modlog_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_modlog_post")),
    )
    with op.batch_alter_table("modlog_post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_modlog_post_message_id"), ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("modlog_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_modlog_post_message_id"))
    op.drop_table("modlog_post")
