"""Avatar history (seed 002 `AvatarHistory`), per-user statistics (`UserAvatarStats`) and the archive
of the images themselves (`AvatarBlob`: one row per distinct SHA-256, however many rows name it)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, Index, Integer, LargeBinary, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime


class AvatarKind(StrEnum):
    """What changed (seed 002 `AvatarHistoryType`)."""

    AVATAR_CHANGE = "avatar_change"
    BANNER_CHANGE = "banner_change"
    SERVER_AVATAR_CHANGE = "server_avatar_change"


class AvatarHistory(Base):
    """One change of a user's avatar, banner or per-server avatar (guild_id None = global)."""

    __tablename__ = "avatar_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Snowflake)
    guild_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    kind: Mapped[AvatarKind] = mapped_column(StrEnumColumn(AvatarKind, length=24))
    old_url: Mapped[str | None] = mapped_column(String(512), default=None)
    new_url: Mapped[str | None] = mapped_column(String(512), default=None)
    dominant_color: Mapped[str | None] = mapped_column(String(7), default=None)  # "#rrggbb"
    image_format: Mapped[str | None] = mapped_column(String(8), default=None)
    image_size: Mapped[int | None] = mapped_column(Integer, default=None)  # bytes
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The archived images (`avatar_blob.sha256`); None when the bytes could not be kept (fetch failed,
    # too large, dropped by the size limit). No foreign key: the sweep removes blobs, and a reader
    # checks the blob is there before linking to it.
    old_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    new_sha256: Mapped[str | None] = mapped_column(String(64), default=None)

    __table_args__ = (
        Index("ix_avatar_history_user_time", "user_id", "changed_at"),
        Index("ix_avatar_history_old_sha256", "old_sha256"),
        Index("ix_avatar_history_new_sha256", "new_sha256"),
    )


ImageBytes = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
"""Image bytes: MySQL's plain BLOB stops at 64 KiB."""


class AvatarBlob(Base):
    """The bytes of one archived image, stored once per SHA-256."""

    __tablename__ = "avatar_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex
    data: Mapped[bytes] = mapped_column(ImageBytes)
    content_type: Mapped[str] = mapped_column(String(32))  # image/png, image/gif, …
    size: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set whenever a change names the image again: the size limit drops the least recently seen
    # first, and the sweep leaves blobs seen within its grace period alone (a change being recorded).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_avatar_blob_last_seen", "last_seen_at"),)


class AvatarStats(Base):
    """Per-user counters, kept in the same transaction as each history row."""

    __tablename__ = "avatar_user_stats"

    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    total_avatar_changes: Mapped[int] = mapped_column(Integer, default=0)
    total_server_avatar_changes: Mapped[int] = mapped_column(Integer, default=0)
    total_banner_changes: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_avatar_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_banner_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    most_used_format: Mapped[str | None] = mapped_column(String(8), default=None)
    average_change_interval_days: Mapped[float | None] = mapped_column(Float, default=None)
    banner_url: Mapped[str | None] = mapped_column(String(512), default=None)  # last banner we saw

    @property
    def total_changes(self) -> int:
        """Avatar, per-server avatar and banner changes together."""
        return self.total_avatar_changes + self.total_server_avatar_changes + self.total_banner_changes
