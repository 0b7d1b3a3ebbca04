"""avatars archive: the bytes of recorded avatars and banners, once per SHA-256

History rows gain the SHA-256 of their archived old and new images (None for the rows recorded
before: their images were never kept). The downgrade drops the archive and the two columns.

Revision ID: 0015_avatars_archive
Revises: 0011_modlog_retention
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import kyrios.core.models

revision: str = "0015_avatars_archive"
down_revision: str | None = "0011_modlog_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = kyrios.core.models.UTCDateTime
IMAGE_BYTES = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "avatar_blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", IMAGE_BYTES, nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_at", WHEN(), nullable=False),
        sa.Column("last_seen_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_avatar_blob")),
    )
    op.create_index("ix_avatar_blob_last_seen", "avatar_blob", ["last_seen_at"])
    with op.batch_alter_table("avatar_history") as batch:
        batch.add_column(sa.Column("old_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("new_sha256", sa.String(length=64), nullable=True))
    op.create_index("ix_avatar_history_old_sha256", "avatar_history", ["old_sha256"])
    op.create_index("ix_avatar_history_new_sha256", "avatar_history", ["new_sha256"])


def downgrade() -> None:
    op.drop_index("ix_avatar_history_new_sha256", table_name="avatar_history")
    op.drop_index("ix_avatar_history_old_sha256", table_name="avatar_history")
    with op.batch_alter_table("avatar_history") as batch:
        batch.drop_column("new_sha256")
        batch.drop_column("old_sha256")
    op.drop_index("ix_avatar_blob_last_seen", table_name="avatar_blob")
    op.drop_table("avatar_blob")
