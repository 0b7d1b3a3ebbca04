"""Unlocked achievements: one row per (guild, user, code), so an unlock happens exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, Snowflake, UTCDateTime


class AchievementUnlock(Base):
    """A member unlocked an achievement in a guild."""

    __tablename__ = "achievement_unlock"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    unlocked_at: Mapped[datetime] = mapped_column(UTCDateTime)
