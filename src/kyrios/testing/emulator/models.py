"""The emulator's in-memory Discord objects and their JSON, shaped like `discord/types/*.py`."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kyrios.testing.emulator.threads import Thread

DISCORD_EPOCH_MS = 1_420_070_400_000
_increment = itertools.count(1)

Json = dict[str, Any]


def snowflake(at: datetime | None = None) -> int:
    """A fresh snowflake whose timestamp is `at` (now by default), unique within the process."""
    ms = int(at.timestamp() * 1000) if at else int(time.time() * 1000)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (next(_increment) % (1 << 22))


def iso(moment: datetime | None) -> str | None:
    """Discord's ISO-8601 timestamp text."""
    return moment.isoformat() if moment else None


def utcnow() -> datetime:
    """The current UTC time (the emulator stamps messages and joins with real time)."""
    return datetime.now(UTC)


class ChannelType(IntEnum):
    """The channel types the emulator models."""

    TEXT = 0
    VOICE = 2
    CATEGORY = 4
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    STAGE_VOICE = 13


class AuditAction(IntEnum):
    """Audit-log action types used by Kyrios."""

    CHANNEL_CREATE = 10
    CHANNEL_UPDATE = 11
    CHANNEL_DELETE = 12
    CHANNEL_OVERWRITE_CREATE = 13
    CHANNEL_OVERWRITE_UPDATE = 14
    CHANNEL_OVERWRITE_DELETE = 15
    MEMBER_KICK = 20
    MEMBER_BAN_ADD = 22
    MEMBER_BAN_REMOVE = 23
    MEMBER_UPDATE = 24
    MEMBER_ROLE_UPDATE = 25
    ROLE_CREATE = 30
    ROLE_UPDATE = 31
    ROLE_DELETE = 32
    MESSAGE_DELETE = 72
    MESSAGE_BULK_DELETE = 73
    MESSAGE_PIN = 74
    MESSAGE_UNPIN = 75
    THREAD_CREATE = 110
    THREAD_UPDATE = 111
    THREAD_DELETE = 112


@dataclass
class User:
    """A Discord user (bots included)."""

    id: int
    username: str
    global_name: str | None = None
    avatar: str | None = None
    banner: str | None = None
    bot: bool = False

    def to_json(self) -> Json:
        """`types.user.User`."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "banner": self.banner,
            "accent_color": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
            "avatar_decoration_data": None,
            "collectibles": None,
        }


@dataclass
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int = 0
    color: int = 0
    position: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None  # the bot whose managed role this is (Discord's `tags.bot_id`)

    def to_json(self) -> Json:
        """`types.role.Role` (`tags` only on roles that have some, as Discord sends them)."""
        data: Json = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A permission overwrite on a channel: type 0 is a role, 1 a member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_json(self) -> Json:
        """`types.channel.PermissionOverwrite`."""
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}

    @classmethod
    def from_json(cls, data: Json) -> Overwrite:
        """Parse an overwrite from a request body."""
        return cls(
            id=int(data["id"]),
            type=int(data.get("type", 0)),
            allow=int(data.get("allow") or 0),
            deny=int(data.get("deny") or 0),
        )


@dataclass
class Channel:
    """A guild channel: text, voice, stage or category."""

    id: int
    guild_id: int
    name: str
    type: ChannelType = ChannelType.TEXT
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    overwrites: list[Overwrite] = field(default_factory=list)
    last_message_id: int | None = None
    rate_limit_per_user: int = 0  # slowmode, seconds

    def to_json(self) -> Json:
        """`types.channel.TextChannel` / `VoiceChannel` / `CategoryChannel`."""
        data: Json = {
            "id": str(self.id),
            "type": int(self.type),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_json() for o in self.overwrites],
            "nsfw": self.nsfw,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "flags": 0,
        }
        if self.type != ChannelType.CATEGORY:
            data["last_message_id"] = str(self.last_message_id) if self.last_message_id else None
            data["rate_limit_per_user"] = self.rate_limit_per_user
        if self.type == ChannelType.TEXT:
            if self.topic is not None:
                data["topic"] = self.topic
            data["default_auto_archive_duration"] = 1440
        if self.type in (ChannelType.VOICE, ChannelType.STAGE_VOICE):
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        return data


@dataclass
class Member:
    """A user's membership of a guild."""

    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    avatar: str | None = None
    joined_at: datetime = field(default_factory=utcnow)
    communication_disabled_until: datetime | None = None
    pending: bool = False

    def to_json(self, user: User | None = None) -> Json:
        """`types.member.Member` (`MemberWithUser` when `user` is given; without it, the partial member
        Discord puts in gateway messages). Unset values are sent as null, as Discord does: a cleared
        nickname arrives as `"nick": null`, never as a missing key (discord.py keeps the old nick then)."""
        data: Json = {
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(self.joined_at),
            "nick": self.nick,
            "avatar": self.avatar,
            "banner": None,
            "premium_since": None,
            "communication_disabled_until": iso(self.communication_disabled_until),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": self.pending,
        }
        if user is not None:
            data["user"] = user.to_json()
        return data


@dataclass
class Message:
    """A message in a guild channel."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[Json] = field(default_factory=list)
    flags: int = 0
    timestamp: datetime = field(default_factory=utcnow)
    edited_at: datetime | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    mentions: list[int] = field(default_factory=list)
    pinned_at: datetime | None = None  # set while the message is pinned
    reactions: dict[str, list[int]] = field(default_factory=dict)  # emoji ("👍", "name:id") -> user ids
    thread_id: int | None = None  # the thread started from this message
    type: int = 0  # 0 a default message; 6 "pinned a message", which carries a `reference`
    reference: Json | None = None  # `message_reference`


@dataclass
class AuditEntry:
    """One audit-log entry; `user_id` is who did it."""

    id: int
    guild_id: int
    action_type: int
    user_id: int | None
    target_id: int | None = None
    reason: str | None = None
    options: Json | None = None
    changes: list[Json] | None = None

    def to_json(self) -> Json:
        """`types.audit_log.AuditLogEntry`."""
        data: Json = {
            "id": str(self.id),
            "action_type": self.action_type,
            "user_id": str(self.user_id) if self.user_id else None,
            "target_id": str(self.target_id) if self.target_id else None,
        }
        if self.reason is not None:
            data["reason"] = self.reason
        if self.options is not None:
            data["options"] = self.options
        if self.changes is not None:
            data["changes"] = self.changes
        return data


@dataclass
class Guild:
    """A guild with its roles, channels, members, bans and audit log."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    bans: dict[int, str | None] = field(default_factory=dict)
    audit_log: list[AuditEntry] = field(default_factory=list)
    commands: list[Json] = field(default_factory=list)
    threads: dict[int, Thread] = field(default_factory=dict)
    icon: str | None = None
    created_at: datetime = field(default_factory=utcnow)

    def to_json(self) -> Json:
        """`types.guild.Guild` as `GET /guilds/{id}` returns it (no members or channels)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": self.icon,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.to_json() for r in sorted(self.roles.values(), key=lambda r: r.position)],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "nsfw_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "home_header": None,
            "banner": None,
            "widget_enabled": False,
            "widget_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "premium_progress_bar_enabled": False,
            "nsfw": False,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "max_members": 500_000,
            "incidents_data": None,
        }
