"""music: the guild's limits, its session, its persistent queue of tracks and the skip votes

Revision ID: 0015_music_queue
Revises:
Depends on: 0001
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyrios.core.models

revision: str = "0015_music_queue"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("music",)
depends_on: str | Sequence[str] | None = "0001"

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = kyrios.core.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "music_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("max_queue_length", sa.Integer(), nullable=False),
        sa.Column("max_track_seconds", sa.Integer(), nullable=False),
        sa.Column("dj_role_id", sa.BigInteger(), nullable=True),
        sa.Column("idle_timeout_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_music_settings")),
    )
    op.create_table(
        "music_session",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("voice_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("text_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("current_track_id", sa.BigInteger(), nullable=True),
        sa.Column("loop_mode", sa.String(length=8), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("elapsed_ms", sa.BigInteger(), nullable=False),
        sa.Column("resumed_at", WHEN(), nullable=True),
        sa.Column("updated_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_music_session")),
    )
    op.create_table(
        "music_track",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("uploader", sa.String(length=200), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("webpage_url", sa.Text(), nullable=False),
        sa.Column("stream_url", sa.Text(), nullable=True),
        sa.Column("stream_expires_at", WHEN(), nullable=True),
        sa.Column("requester_id", sa.BigInteger(), nullable=False),
        sa.Column("added_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_music_track")),
        sa.UniqueConstraint("guild_id", "position", name="uq_music_track_guild_position"),
    )
    op.create_table(
        "music_skip_vote",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("track_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "track_id", "user_id", name=op.f("pk_music_skip_vote")),
    )


def downgrade() -> None:
    op.drop_table("music_skip_vote")
    op.drop_table("music_track")
    op.drop_table("music_session")
    op.drop_table("music_settings")
