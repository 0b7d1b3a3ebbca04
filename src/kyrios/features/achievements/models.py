"""Achievement tables: unlocks (one per member, guild and code), the announcement outbox, and the
roles guilds grant with an achievement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, UTCDateTime


class AchievementUnlock(Base):
    """A member unlocked an achievement in a guild."""

    __tablename__ = "achievement_unlock"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    unlocked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AchievementOutbox(Base):
    """An unlock to announce (and its role to grant), written in the unlock's transaction.

    The relay posts it with the nonce `ach-<id>` and Discord's `enforce_nonce`, then sets
    `sent_at`: a relay that crashed between the two posts again and gets the same message back.
    """

    __tablename__ = "achievement_outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    code: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    """Where the stat changed (the command's channel); None: nowhere to announce, only the role."""
    role_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    message_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_achievement_outbox_pending", "sent_at", "id"),)


class AchievementRole(Base):
    """The role a guild grants with an achievement."""

    __tablename__ = "achievement_role"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    role_id: Mapped[int] = mapped_column(Snowflake)
