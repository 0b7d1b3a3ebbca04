"""Avatar history (seed 002 `AvatarHistory`) and per-user statistics (`UserAvatarStats`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, Index, Integer, String
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

    __table_args__ = (Index("ix_avatar_history_user_time", "user_id", "changed_at"),)


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
