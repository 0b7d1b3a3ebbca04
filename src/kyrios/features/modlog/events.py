"""Gateway events as plain values (the cog builds them from discord.py objects; no discord import here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_time(snowflake: int) -> datetime:
    """When a Discord id was made."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


class AuditAction(IntEnum):
    """Discord audit-log action types Kyrios reads (`resources/audit-log.mdx`)."""

    CHANNEL_CREATE = 10
    CHANNEL_DELETE = 12
    MEMBER_KICK = 20
    MEMBER_BAN_ADD = 22
    MEMBER_BAN_REMOVE = 23
    MEMBER_UPDATE = 24
    MEMBER_ROLE_UPDATE = 25
    MESSAGE_DELETE = 72


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log entry as Discord's JSON gives it; `moderator_id` is the entry's `user_id`."""

    id: int
    action: int
    moderator_id: int | None
    target_id: int | None
    channel_id: int | None = None
    count: int | None = None
    reason: str | None = None

    @property
    def created_at(self) -> datetime:
        """When the entry was first written (repeated message deletes only bump `count`)."""
        return snowflake_time(self.id)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditEntry:
        """Parse one element of `audit_log_entries`."""
        options = data.get("options") or {}

        def as_int(value: Any) -> int | None:
            return int(value) if value not in (None, "") else None

        return cls(
            id=int(data["id"]),
            action=int(data["action_type"]),
            moderator_id=as_int(data.get("user_id")),
            target_id=as_int(data.get("target_id")),
            channel_id=as_int(options.get("channel_id")),
            count=as_int(options.get("count")),
            reason=data.get("reason"),
        )


@dataclass(frozen=True)
class UserInfo:
    """Who an event is about."""

    id: int
    name: str
    bot: bool = False


@dataclass(frozen=True)
class MessageSeen:
    """A message created or edited, with the content the gateway gave."""

    guild_id: int
    channel_id: int
    message_id: int
    author_id: int
    author_bot: bool
    content: str
    at: datetime
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageDeleted:
    """A message was deleted; Discord only says which one."""

    guild_id: int
    channel_id: int
    message_id: int
    at: datetime


@dataclass(frozen=True)
class MemberEvent:
    """A member joined, left (or was kicked), was banned or unbanned."""

    guild_id: int
    user: UserInfo
    at: datetime
    account_created_at: datetime | None = None


@dataclass(frozen=True)
class MemberUpdated:
    """A member's roles or timeout changed."""

    guild_id: int
    user: UserInfo
    at: datetime
    roles_added: tuple[int, ...] = ()
    roles_removed: tuple[int, ...] = ()
    timeout_before: datetime | None = None
    timeout_after: datetime | None = None


@dataclass(frozen=True)
class ChannelChanged:
    """A channel was created or deleted."""

    guild_id: int
    channel_id: int
    name: str
    created: bool
    at: datetime
