"""`DiscordPort`: the Discord side effects slices ask for, as plain data.

Ids are ints; message bodies are Discord's message JSON (`Reply.to_message()` gives one:
content, embeds, components, allowed_mentions, message_reference, flags); files are `Upload`s,
sent as Discord's multipart form. Failures are the `DiscordError` family below, so a slice
handles a deleted channel or a missing permission without importing discord.py.

Implementations: `kyrios.gateway.port.GatewayDiscordPort` (discord.py's HTTP client, while the
gateway bot runs) and `kyrios.core.discord_rest.RestDiscordPort` (a bot token over REST, for the
HTTP-interactions-only deployment). Both wait out ordinary 429s themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

Json = dict[str, Any]

# Discord's JSON error codes a caller may want to tell apart (`topics/opcodes-and-status-codes`).
UNKNOWN_CHANNEL = 10003
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
MISSING_ACCESS = 50001
CANNOT_DM_USER = 50007
MISSING_PERMISSIONS = 50013


class DiscordError(Exception):
    """Discord refused or failed a request: HTTP `status`, Discord's JSON `code`, its `message`.

    `status` is 0 when Discord could not be reached at all.
    """

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {message} (code {code})" if code else f"{status} {message}")
        self.status = status
        self.code = code
        self.message = message


class DiscordNotFound(DiscordError):
    """404: the channel, message, member, role or interaction does not exist (any more)."""


class DiscordForbidden(DiscordError):
    """403: the bot lacks a permission or access to the channel, or the user does not take DMs."""


class DiscordRateLimited(DiscordError):
    """429 asking to wait longer than the port waits by itself; retry after `retry_after` seconds."""

    def __init__(self, retry_after: float, message: str = "You are being rate limited.") -> None:
        super().__init__(429, 0, message)
        self.retry_after = retry_after


class ChannelType(IntEnum):
    """Discord channel types a slice creates."""

    TEXT = 0
    VOICE = 2
    CATEGORY = 4
    ANNOUNCEMENT = 5
    STAGE = 13
    FORUM = 15


class OverwriteType(IntEnum):
    """Whom a permission overwrite is for."""

    ROLE = 0
    MEMBER = 1


@dataclass(frozen=True)
class Overwrite:
    """One permission overwrite: permission bits allowed and denied for a role or member."""

    target_id: int
    type: OverwriteType
    allow: int = 0
    deny: int = 0

    def to_json(self) -> Json:
        """Discord's overwrite JSON (bit sets as strings)."""
        return {
            "id": str(self.target_id),
            "type": int(self.type),
            "allow": str(self.allow),
            "deny": str(self.deny),
        }

    @classmethod
    def from_json(cls, data: Json) -> Overwrite:
        """Parse Discord's overwrite JSON."""
        return cls(
            int(data["id"]),
            OverwriteType(int(data["type"])),
            int(data.get("allow", 0)),
            int(data.get("deny", 0)),
        )


@dataclass(frozen=True)
class Upload:
    """A file to attach to a message."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    description: str | None = None


def with_attachments(body: Json, files: Sequence[Upload]) -> Json:
    """A message body naming its uploads in `attachments` (`files[n]` is attachment `n`)."""
    if not files:
        return body
    attachments = [
        {"id": index, "filename": upload.filename}
        | ({"description": upload.description} if upload.description else {})
        for index, upload in enumerate(files)
    ]
    return {**body, "attachments": attachments}


def callback_with_attachments(body: Json, files: Sequence[Upload]) -> Json:
    """An interaction callback (`{"type", "data"}`) whose message names its uploads."""
    if not files or not isinstance(body.get("data"), dict):
        return body
    return {**body, "data": with_attachments(body["data"], files)}


@dataclass(frozen=True)
class Attachment:
    """A file on a posted message, served by Discord's CDN at `url`."""

    id: int
    filename: str
    size: int
    url: str
    content_type: str | None = None

    @classmethod
    def from_json(cls, data: Json) -> Attachment:
        """Parse an element of a message's `attachments`."""
        return cls(
            int(data["id"]),
            str(data["filename"]),
            int(data["size"]),
            str(data["url"]),
            data.get("content_type"),
        )


@dataclass(frozen=True)
class Message:
    """A message the bot posted or edited."""

    id: int
    channel_id: int
    content: str = ""
    attachments: tuple[Attachment, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> Message:
        """Parse Discord's message JSON."""
        return cls(
            int(data["id"]),
            int(data["channel_id"]),
            str(data.get("content") or ""),
            tuple(Attachment.from_json(a) for a in data.get("attachments") or ()),
        )


@dataclass(frozen=True)
class Channel:
    """A guild channel or category as Discord describes it."""

    id: int
    guild_id: int | None
    type: int
    name: str
    parent_id: int | None = None
    position: int = 0
    topic: str | None = None
    overwrites: tuple[Overwrite, ...] = ()

    @classmethod
    def from_json(cls, data: Json) -> Channel:
        """Parse Discord's channel JSON."""
        return cls(
            int(data["id"]),
            int(data["guild_id"]) if data.get("guild_id") else None,
            int(data["type"]),
            str(data.get("name") or ""),
            int(data["parent_id"]) if data.get("parent_id") else None,
            int(data.get("position") or 0),
            data.get("topic"),
            tuple(Overwrite.from_json(o) for o in data.get("permission_overwrites") or ()),
        )


@dataclass(frozen=True)
class Member:
    """A guild member: the user and their role ids."""

    guild_id: int
    user_id: int
    username: str
    nick: str | None = None
    roles: tuple[int, ...] = ()
    bot: bool = False

    @classmethod
    def from_json(cls, guild_id: int, data: Json) -> Member:
        """Parse Discord's guild member JSON."""
        user = data["user"]
        return cls(
            guild_id,
            int(user["id"]),
            str(user.get("username") or ""),
            data.get("nick"),
            tuple(int(r) for r in data.get("roles") or ()),
            bool(user.get("bot", False)),
        )


@dataclass(frozen=True)
class AuditLogEntry:
    """One audit-log entry; `user_id` is who did it, `options` holds e.g. `channel_id` and `count`."""

    id: int
    action_type: int
    user_id: int | None
    target_id: int | None
    reason: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Json) -> AuditLogEntry:
        """Parse an element of `audit_log_entries`."""

        def as_int(value: Any) -> int | None:
            return int(value) if value not in (None, "") else None

        return cls(
            int(data["id"]),
            int(data["action_type"]),
            as_int(data.get("user_id")),
            as_int(data.get("target_id")),
            data.get("reason"),
            {str(k): str(v) for k, v in (data.get("options") or {}).items()},
        )


class Keep:
    """The type of `KEEP`: an `edit_channel` argument left as it is (None would clear it)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep()


class DiscordPort(Protocol):
    """Every Discord side effect a slice may cause: one method per effect, plain data in and out.

    Each raises `DiscordNotFound`, `DiscordForbidden`, `DiscordRateLimited` or `DiscordError`.
    `reason` becomes the audit-log entry's reason (`X-Audit-Log-Reason`).
    """

    async def send_message(self, channel_id: int, body: Json, *, files: Sequence[Upload] = ()) -> Message:
        """Post a message (content, embeds, components, allowed_mentions, message_reference) with files."""
        ...

    async def edit_message(self, channel_id: int, message_id: int, body: Json) -> Message:
        """Replace the given fields of one of the bot's messages."""
        ...

    async def delete_message(self, channel_id: int, message_id: int, *, reason: str | None = None) -> None:
        """Delete a message."""
        ...

    async def open_dm(self, user_id: int) -> int:
        """The id of the bot's DM channel with a user (opened if needed)."""
        ...

    async def send_dm(self, user_id: int, body: Json, *, files: Sequence[Upload] = ()) -> Message:
        """Open the DM channel with a user and post there (`DiscordForbidden` if they take no DMs)."""
        ...

    async def add_role(self, guild_id: int, user_id: int, role_id: int, *, reason: str | None = None) -> None:
        """Give a member a role."""
        ...

    async def remove_role(
        self, guild_id: int, user_id: int, role_id: int, *, reason: str | None = None
    ) -> None:
        """Take a role from a member."""
        ...

    async def create_channel(
        self,
        guild_id: int,
        name: str,
        *,
        kind: ChannelType = ChannelType.TEXT,
        parent_id: int | None = None,
        topic: str | None = None,
        overwrites: Sequence[Overwrite] = (),
        position: int | None = None,
        reason: str | None = None,
    ) -> Channel:
        """Create a channel (or category) with its permission overwrites."""
        ...

    async def edit_channel(
        self,
        channel_id: int,
        *,
        name: str | Keep = KEEP,
        parent_id: int | Keep | None = KEEP,
        position: int | Keep = KEEP,
        topic: str | Keep | None = KEEP,
        overwrites: Sequence[Overwrite] | Keep = KEEP,
        reason: str | None = None,
    ) -> Channel:
        """Rename, move to another category (`parent_id=None`: out of any), reorder, or replace overwrites."""
        ...

    async def delete_channel(self, channel_id: int, *, reason: str | None = None) -> None:
        """Delete a channel or category."""
        ...

    async def set_overwrite(
        self, channel_id: int, overwrite: Overwrite, *, reason: str | None = None
    ) -> None:
        """Create or replace one permission overwrite on a channel."""
        ...

    async def delete_overwrite(self, channel_id: int, target_id: int, *, reason: str | None = None) -> None:
        """Remove a role's or member's overwrite from a channel."""
        ...

    async def audit_log(
        self,
        guild_id: int,
        *,
        action_type: int | None = None,
        user_id: int | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[AuditLogEntry]:
        """The newest audit-log entries (1–100), optionally of one action, by one user, before an entry id."""
        ...

    async def guild_channels(self, guild_id: int) -> list[Channel]:
        """Every channel and category of a guild."""
        ...

    async def member(self, guild_id: int, user_id: int) -> Member:
        """One guild member."""
        ...

    async def interaction_callback(
        self, interaction_id: int, token: str, body: Json, *, files: Sequence[Upload] = ()
    ) -> None:
        """The initial response to an interaction (`{"type": 4 | 5 | 7, "data": …}`), within 3 s."""
        ...

    async def edit_original(
        self, application_id: int, token: str, body: Json, *, files: Sequence[Upload] = ()
    ) -> Message:
        """Edit the interaction's original response (ends a deferred response's loading state)."""
        ...

    async def followup(
        self, application_id: int, token: str, body: Json, *, files: Sequence[Upload] = ()
    ) -> Message:
        """Post a follow-up message to an interaction (its token lasts 15 minutes)."""
        ...

    async def delete_original(self, application_id: int, token: str) -> None:
        """Delete the interaction's original response (e.g. a public "thinking…" message)."""
        ...
