"""Moderation log tables: entries (cases), notes, per-event routing, ignored channels, the message store."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime


class LogType(StrEnum):
    """What happened (seed 002 `LogType`)."""

    MESSAGE_DELETE = "message_delete"
    MESSAGE_EDIT = "message_edit"
    MEMBER_JOIN = "member_join"
    MEMBER_LEAVE = "member_leave"
    MEMBER_BAN = "member_ban"
    MEMBER_UNBAN = "member_unban"
    MEMBER_KICK = "member_kick"
    MEMBER_TIMEOUT = "member_timeout"
    ROLE_ADD = "role_add"
    ROLE_REMOVE = "role_remove"
    CHANNEL_CREATE = "channel_create"
    CHANNEL_DELETE = "channel_delete"
    SYSTEM_EVENT = "system_event"


class Attribution(StrEnum):
    """How sure we are about who did it."""

    NONE = "none"  # nobody else did it (or the audit log did not say)
    EXACT = "exact"  # an audit-log entry for this very target and action
    LIKELY = "likely"  # the message-delete heuristic: same author and channel, a few seconds apart


class ModlogEntry(Base):
    """One logged event; its id is the case number shown to moderators."""

    __tablename__ = "modlog_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    log_type: Mapped[LogType] = mapped_column(StrEnumColumn(LogType, length=32))
    user_id: Mapped[int | None] = mapped_column(Snowflake, default=None)  # who it happened to / author
    channel_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    message_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    role_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    moderator_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    attribution: Mapped[Attribution] = mapped_column(
        StrEnumColumn(Attribution, length=8), default=Attribution.NONE
    )
    before: Mapped[str | None] = mapped_column(Text, default=None)
    after: Mapped[str | None] = mapped_column(Text, default=None)
    attachments: Mapped[str | None] = mapped_column(Text, default=None)  # newline-separated URLs
    reason: Mapped[str | None] = mapped_column(String(512), default=None)
    detail: Mapped[str | None] = mapped_column(String(512), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_modlog_entry_guild_time", "guild_id", "created_at"),
        Index("ix_modlog_entry_guild_user", "guild_id", "user_id", "created_at"),
    )


class ModlogNote(Base):
    """A note a moderator added to a case (notes add up; the reason is replaced)."""

    __tablename__ = "modlog_note"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("modlog_entry.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(Snowflake)
    text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ModlogPost(Base):
    """Where a case's embed was posted: the log message and its place among that message's embeds."""

    __tablename__ = "modlog_post"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("modlog_entry.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    channel_id: Mapped[int] = mapped_column(Snowflake)
    message_id: Mapped[int] = mapped_column(Snowflake, index=True)
    position: Mapped[int] = mapped_column(Integer)


class ModlogEventConfig(Base):
    """Per-guild, per-event switches: on/off, a channel of its own, whether bots are ignored."""

    __tablename__ = "modlog_event_config"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    log_type: Mapped[LogType] = mapped_column(StrEnumColumn(LogType, length=32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    channel_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    ignore_bots: Mapped[bool] = mapped_column(Boolean, default=True)


class ModlogIgnoredChannel(Base):
    """A channel whose messages are neither stored nor logged."""

    __tablename__ = "modlog_ignored_channel"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    channel_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)


class ModlogGuild(Base):
    """Guild-wide modlog settings; a guild without a row has the message store off and keeps its
    log for 30 days."""

    __tablename__ = "modlog_guild"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    store_messages: Mapped[bool] = mapped_column(Boolean, default=False)
    # Days log entries and stored messages are kept (`/settings set retention_days:`).
    retention_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ModlogMessage(Base):
    """A message's last known content, kept (opt-in, retention-bound) to log deletes and edits."""

    __tablename__ = "modlog_message"

    message_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    channel_id: Mapped[int] = mapped_column(Snowflake)
    author_id: Mapped[int] = mapped_column(Snowflake)
    author_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[str | None] = mapped_column(Text, default=None)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (Index("ix_modlog_message_guild_created", "guild_id", "created_at"),)
