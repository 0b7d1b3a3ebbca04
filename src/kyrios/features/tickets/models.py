"""The tickets tables: a guild's ticket rules, each ticket, its transcript and the blacklist."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime


class TicketsSettings(Base):
    """A guild's ticket rules: the categories (`/settings set ticket_category: archive_category:`),
    the staff roles, the per-member limit, what closing does and the auto-close delay (`/ticket config`)."""

    __tablename__ = "tickets_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    category_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    archive_category_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    staff_role_ids: Mapped[str] = mapped_column(String(400), default="")
    """Comma-separated role ids whose members see and handle every ticket."""
    max_open_per_category: Mapped[int] = mapped_column(Integer, default=1)
    delete_on_close: Mapped[bool] = mapped_column(Boolean, default=False)
    """True: a closed ticket's channel is deleted; False: it moves to the archive category."""
    auto_close_hours: Mapped[int | None] = mapped_column(Integer, default=None)
    """Close a ticket the opener has not answered for this long (a warning comes first); None: never."""


class TicketCategory(StrEnum):
    """What a ticket is about (seed 002)."""

    TECHNICAL = "technical"
    MODERATION = "moderation"
    GENERAL = "general"
    OTHER = "other"


class TicketStatus(StrEnum):
    """OPEN → IN_PROGRESS (claimed) → CLOSED → ARCHIVED (moved to the archive); reopen goes back to OPEN."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    ARCHIVED = "archived"


class TicketPriority(IntEnum):
    """Seed 002's priorities, stored as their number so lists sort by it."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    URGENT = 4

    @property
    def response_time(self) -> timedelta:
        """How soon staff should first answer a ticket of this priority."""
        return RESPONSE_TIMES[self]


RESPONSE_TIMES = {
    TicketPriority.LOW: timedelta(hours=72),
    TicketPriority.MEDIUM: timedelta(hours=24),
    TicketPriority.HIGH: timedelta(hours=4),
    TicketPriority.URGENT: timedelta(hours=1),
}
LIVE = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


class Ticket(Base):
    """One ticket. `channel_id` is None until the gateway made its channel (and after a deletion)."""

    __tablename__ = "tickets_ticket"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    channel_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    opener_id: Mapped[int] = mapped_column(Snowflake)
    category: Mapped[TicketCategory] = mapped_column(StrEnumColumn(TicketCategory, length=16))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[TicketStatus] = mapped_column(StrEnumColumn(TicketStatus, length=16))
    priority: Mapped[int] = mapped_column(Integer, default=int(TicketPriority.MEDIUM))
    claimed_by: Mapped[int | None] = mapped_column(Snowflake, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_opener_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The opener's last message (or the opening)."""
    last_staff_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """Staff's last message: auto-close counts from here while the opener has not answered it."""
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    close_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_by: Mapped[int | None] = mapped_column(Snowflake, default=None)
    close_reason: Mapped[str] = mapped_column(String(400), default="")

    __table_args__ = (
        Index("ix_tickets_ticket_guild_status", "guild_id", "status"),
        Index("ix_tickets_ticket_opener", "guild_id", "opener_id", "status"),
        Index("ix_tickets_ticket_channel", "channel_id"),
    )


class TicketMessage(Base):
    """One line of a ticket's transcript: a member's message as the gateway delivered it, or a system
    line (opened, claimed, closed …; `is_system`, no message id)."""

    __tablename__ = "tickets_message"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    author_id: Mapped[int] = mapped_column(Snowflake)
    author_name: Mapped[str] = mapped_column(String(100), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[str] = mapped_column(Text, default="")
    """One attachment a line: `name<TAB>url`."""
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_tickets_message_ticket", "ticket_id", "id"),)


class TicketBlacklist(Base):
    """A member who may not open tickets in a guild."""

    __tablename__ = "tickets_blacklist"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(400), default="")
    added_by: Mapped[int] = mapped_column(Snowflake)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
