"""An `Invocation`: one use of a command or button, whichever door it came through."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag, StrEnum
from typing import Any

from kyrios.core.i18n import DoorStyle


class Source(StrEnum):
    """The door a command came through."""

    GATEWAY = "gateway"
    HTTP = "http"
    CONSOLE = "console"
    PREFIX = "prefix"


class Permission(IntFlag):
    """The Discord permission bits Kyrios looks at."""

    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    VIEW_AUDIT_LOG = 1 << 7
    MANAGE_MESSAGES = 1 << 13
    MANAGE_ROLES = 1 << 28
    MODERATE_MEMBERS = 1 << 40


ADMIN_PERMISSIONS = Permission.ADMINISTRATOR | Permission.MANAGE_GUILD


@dataclass(frozen=True)
class Actor:
    """A Discord user as a command sees it."""

    id: int
    name: str
    is_bot: bool = False
    avatar: str | None = None

    @property
    def mention(self) -> str:
        """`<@id>`, rendered by Discord as the user's name."""
        return f"<@{self.id}>"


@dataclass(frozen=True)
class ChannelRef:
    """A channel option."""

    id: int

    @property
    def mention(self) -> str:
        """`<#id>`."""
        return f"<#{self.id}>"


@dataclass(frozen=True)
class RoleRef:
    """A role option."""

    id: int

    @property
    def mention(self) -> str:
        """`<@&id>`."""
        return f"<@&{self.id}>"


@dataclass
class Invocation:
    """What a door hands to the registry: a command path (or a button id) and raw options."""

    actor: Actor
    guild_id: int | None
    channel_id: int | None = None
    command: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    permissions: int = 0
    source: Source = Source.CONSOLE
    locale: str | None = None
    """The user's own language (Discord's `locale`, the console's `--locale`); None when unknown."""
    guild_locale: str | None = None
    """The guild's language as Discord knows it (`guild_locale`, `preferred_locale`)."""
    resolved_users: dict[int, Actor] = field(default_factory=dict)
    role_ids: tuple[int, ...] = ()
    """The actor's roles in the guild (the member's `roles`); empty outside a guild."""
    custom_id: str | None = None
    interaction_id: int | None = None
    interaction_token: str | None = None

    @property
    def is_admin(self) -> bool:
        """Administrator or Manage Server in this guild."""
        return bool(self.permissions & ADMIN_PERMISSIONS)

    @property
    def door_style(self) -> DoorStyle:
        """Discord doors show `<t:…>` times (Discord localises them); the console writes text."""
        return DoorStyle.PLAIN if self.source is Source.CONSOLE else DoorStyle.DISCORD

    @property
    def is_component(self) -> bool:
        """True for a button press."""
        return self.custom_id is not None
