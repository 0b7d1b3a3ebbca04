"""The bot's permissions in the emulated guilds: Discord's computation, and the 403s it leads to."""

from __future__ import annotations

import discord

from kyrios.testing.emulator.models import Overwrite, Role
from kyrios.testing.emulator.state import ADMINISTRATOR, ALL_PERMISSIONS, ApiError, EmulatorState


def permission_value(name: str) -> int:
    """The bit of a discord.py permission name such as `send_messages`."""
    return discord.Permissions(**{name: True}).value


class PermissionState(EmulatorState):
    """Permission checks the REST routes apply, and the test hooks that take permissions away."""

    def bot_role(self, guild_id: int) -> Role:
        """The bot's managed role in a guild."""
        member = self.member(guild_id, self.bot_user.id)
        guild = self.guild(guild_id)
        return next(guild.roles[r] for r in member.roles if guild.roles[r].managed)

    def revoke_permission(self, guild_id: int, name: str, *, channel_id: int | None = None) -> None:
        """Take a permission (discord.py name) from the bot, guild-wide or with a channel overwrite."""
        bit = permission_value(name)
        if channel_id is None:
            for role in (self.bot_role(guild_id), self.guild(guild_id).roles[guild_id]):
                role.permissions &= ~bit
            return
        channel = self.channel(channel_id)
        own = next((o for o in channel.overwrites if o.id == self.bot_user.id and o.type == 1), None)
        if own is None:
            own = Overwrite(self.bot_user.id, 1)
            channel.overwrites.append(own)
        own.deny |= bit
        own.allow &= ~bit

    def forbid_channel(self, channel_id: int) -> None:
        """Hide a channel from the bot: every request on it answers 403 (50001 Missing Access)."""
        self.revoke_permission(self.channel(channel_id).guild_id, "view_channel", channel_id=channel_id)

    def permissions_for(self, guild_id: int, user_id: int, channel_id: int | None = None) -> int:
        """Discord's permission computation: roles, then @everyone/role/member overwrites."""
        guild = self.guild(guild_id)
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        member = self.member(guild_id, user_id)
        value = guild.roles[guild_id].permissions
        for role_id in member.roles:
            value |= guild.roles[role_id].permissions if role_id in guild.roles else 0
        if value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel_id is None:
            return value
        channel = self.channel(channel_id)
        if channel_id in guild.threads and channel.parent_id is not None:
            channel = self.channel(channel.parent_id)  # a thread has its parent's permissions
        overwrites = channel.overwrites
        for ow in overwrites:
            if ow.type == 0 and ow.id == guild_id:
                value = (value & ~ow.deny) | ow.allow
        allow = deny = 0
        for ow in overwrites:
            if ow.type == 0 and ow.id != guild_id and ow.id in member.roles:
                allow, deny = allow | ow.allow, deny | ow.deny
        value = (value & ~deny) | allow
        for ow in overwrites:
            if ow.type == 1 and ow.id == user_id:
                value = (value & ~ow.deny) | ow.allow
        return value

    def require(self, guild_id: int, *names: str, channel_id: int | None = None) -> None:
        """Raise 403 unless the bot sees the channel (50001) and has every named permission (50013)."""
        have = self.permissions_for(guild_id, self.bot_user.id, channel_id)
        if channel_id is not None and not have & permission_value("view_channel"):
            raise ApiError(403, 50001, "Missing Access")
        for name in names:
            if not have & permission_value(name):
                raise ApiError(403, 50013, "Missing Permissions")

    # role hierarchy ---------------------------------------------------------------------------------

    def top_position(self, guild_id: int, user_id: int) -> int:
        """The position of a member's highest role (0: only @everyone)."""
        guild = self.guild(guild_id)
        roles = self.member(guild_id, user_id).roles
        return max((guild.roles[r].position for r in roles if r in guild.roles), default=0)

    def require_above_role(self, guild_id: int, role: Role) -> None:
        """403 50013 unless the bot may hand out or take away `role`: it is not managed (an integration's
        or a bot's own role) and sits below the bot's highest role (Administrator does not lift this)."""
        if role.managed or role.id == guild_id:
            raise ApiError(403, 50013, "Missing Permissions")
        if self.bot_user.id != self.guild(guild_id).owner_id and role.position >= self.top_position(
            guild_id, self.bot_user.id
        ):
            raise ApiError(403, 50013, "Missing Permissions")

    def require_above_member(self, guild_id: int, user_id: int) -> None:
        """403 50013 unless the bot outranks the member (kick, ban, nickname, timeout): the owner
        outranks everyone, and otherwise the bot's highest role must be above the member's."""
        owner_id = self.guild(guild_id).owner_id
        if user_id == self.bot_user.id or self.bot_user.id == owner_id:
            return
        if user_id == owner_id or self.top_position(guild_id, user_id) >= self.top_position(
            guild_id, self.bot_user.id
        ):
            raise ApiError(403, 50013, "Missing Permissions")
