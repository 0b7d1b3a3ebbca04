"""The test-side API: change the emulated Discord and send the matching gateway events."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from kyrios.testing.emulator.gateway import Gateway
from kyrios.testing.emulator.models import (
    AuditAction,
    AuditEntry,
    ChannelType,
    Json,
    Member,
    Message,
    Role,
    iso,
)
from kyrios.testing.emulator.models import snowflake as new_id
from kyrios.testing.emulator.models import utcnow as now
from kyrios.testing.emulator.permissions import PermissionState


class Unset(Enum):
    """Marks an argument the caller did not pass (None is a real value: "clear it")."""

    UNSET = 0


UNSET = Unset.UNSET


class EventSender(PermissionState):
    """Each method updates the state first, then dispatches what Discord would send, so both agree."""

    gateway: Gateway

    async def dispatch(self, event: str, data: Json, *, guild_id: int | None = None) -> int:
        """Send any DISPATCH as is (no state change); returns how many sessions received it."""
        return await self.gateway.dispatch(event, data, guild_id=guild_id)

    # messages ---------------------------------------------------------------------------------------

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        embeds: list[Json] | None = None,
        attachments: list[Json] | None = None,
        mentions: list[int] | None = None,
    ) -> Message:
        """A user posts a message: MESSAGE_CREATE."""
        message = self.add_message(channel_id, author_id, content, embeds=embeds, attachments=attachments)
        message.mentions = list(mentions or [])
        data = self.message_json(message, gateway=True)
        await self.dispatch("MESSAGE_CREATE", data, guild_id=message.guild_id)
        return message

    async def edit_message(
        self,
        channel_id: int,
        message_id: int,
        content: str | None = None,
        *,
        embeds: list[Json] | None = None,
    ) -> Message:
        """A user edits a message: MESSAGE_UPDATE with the full new message."""
        message = self.message(channel_id, message_id)
        if content is not None:
            message.content = content
        if embeds is not None:
            message.embeds = embeds
        message.edited_at = now()
        data = self.message_json(message, gateway=True)
        await self.dispatch("MESSAGE_UPDATE", data, guild_id=message.guild_id)
        return message

    async def announce_edit(self, message: Message) -> Json:
        """Stamp an edit already applied to `message` and send MESSAGE_UPDATE; returns its REST JSON."""
        message.edited_at = now()
        data = self.message_json(message, gateway=True)
        await self.dispatch("MESSAGE_UPDATE", data, guild_id=message.guild_id)
        return self.message_json(message)

    async def delete_message(
        self, channel_id: int, message_id: int, *, deleted_by: int | None = None
    ) -> None:
        """MESSAGE_DELETE (ids only). A moderator deleting someone else's message adds or bumps a
        MESSAGE_DELETE audit entry targeting the author (no message id), as Discord does."""
        message = self.message(channel_id, message_id)
        del self.messages[message_id]
        if message.guild_id is not None and deleted_by is not None and deleted_by != message.author_id:
            await self._log_message_delete(message, deleted_by)
        data = {"id": str(message_id), "channel_id": str(channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        await self.dispatch("MESSAGE_DELETE", data, guild_id=message.guild_id)

    async def _log_message_delete(self, message: Message, moderator_id: int) -> None:
        assert message.guild_id is not None
        log = self.guild(message.guild_id).audit_log
        last = log[-1] if log else None
        if (
            last is not None
            and last.action_type == AuditAction.MESSAGE_DELETE
            and last.user_id == moderator_id
            and last.target_id == message.author_id
            and last.options is not None
            and last.options.get("channel_id") == str(message.channel_id)
        ):
            last.options["count"] = str(int(last.options["count"]) + 1)  # Discord bumps, no new entry
            return
        options = {"channel_id": str(message.channel_id), "count": "1"}
        await self.add_audit_entry(
            message.guild_id, AuditAction.MESSAGE_DELETE, moderator_id, message.author_id, options=options
        )

    # members ----------------------------------------------------------------------------------------

    async def member_join(
        self, guild_id: int, user_id: int, username: str | None = None, *, bot: bool = False
    ) -> Member:
        """GUILD_MEMBER_ADD."""
        member = self.add_member(guild_id, user_id, username, bot=bot)
        await self.dispatch(
            "GUILD_MEMBER_ADD",
            {**self.member_json(guild_id, user_id), "guild_id": str(guild_id)},
            guild_id=guild_id,
        )
        return member

    async def member_leave(self, guild_id: int, user_id: int) -> None:
        """GUILD_MEMBER_REMOVE (a leave; see `kick_member` for a kick)."""
        self.guild(guild_id).members.pop(user_id, None)
        data = {"guild_id": str(guild_id), "user": self.user(user_id).to_json()}
        await self.dispatch("GUILD_MEMBER_REMOVE", data, guild_id=guild_id)

    async def kick_member(
        self, guild_id: int, user_id: int, *, moderator_id: int, reason: str | None = None
    ) -> None:
        """A kick: MEMBER_KICK audit entry, then GUILD_MEMBER_REMOVE."""
        await self.add_audit_entry(guild_id, AuditAction.MEMBER_KICK, moderator_id, user_id, reason=reason)
        await self.member_leave(guild_id, user_id)

    async def ban_member(
        self, guild_id: int, user_id: int, *, moderator_id: int, reason: str | None = None
    ) -> None:
        """A ban: MEMBER_BAN_ADD audit entry, GUILD_BAN_ADD, then GUILD_MEMBER_REMOVE if a member."""
        self.guild(guild_id).bans[user_id] = reason
        await self.add_audit_entry(guild_id, AuditAction.MEMBER_BAN_ADD, moderator_id, user_id, reason=reason)
        data = {"guild_id": str(guild_id), "user": self.user(user_id).to_json()}
        await self.dispatch("GUILD_BAN_ADD", data, guild_id=guild_id)
        if user_id in self.guild(guild_id).members:
            await self.member_leave(guild_id, user_id)

    async def unban_member(
        self, guild_id: int, user_id: int, *, moderator_id: int, reason: str | None = None
    ) -> None:
        """An unban: MEMBER_BAN_REMOVE audit entry, then GUILD_BAN_REMOVE."""
        self.guild(guild_id).bans.pop(user_id, None)
        await self.add_audit_entry(
            guild_id, AuditAction.MEMBER_BAN_REMOVE, moderator_id, user_id, reason=reason
        )
        data = {"guild_id": str(guild_id), "user": self.user(user_id).to_json()}
        await self.dispatch("GUILD_BAN_REMOVE", data, guild_id=guild_id)

    async def update_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        nick: str | Unset | None = UNSET,
        roles: list[int] | None = None,
        avatar: str | Unset | None = UNSET,
        timeout_until: datetime | Unset | None = UNSET,
        moderator_id: int | None = None,
        reason: str | None = None,
    ) -> Member:
        """GUILD_MEMBER_UPDATE; with `moderator_id`, also the MEMBER_ROLE_UPDATE / MEMBER_UPDATE entry."""
        member = self.member(guild_id, user_id)
        changes: list[Json] = []
        if not isinstance(nick, Unset):
            changes.append({"key": "nick", "old_value": member.nick, "new_value": nick})
            member.nick = nick
        if not isinstance(avatar, Unset):
            member.avatar = avatar
        if not isinstance(timeout_until, Unset):
            key = "communication_disabled_until"
            changes.append({"key": key, "old_value": iso(member.communication_disabled_until)})
            changes[-1]["new_value"] = iso(timeout_until)
            member.communication_disabled_until = timeout_until
        role_changes: list[Json] = []
        if roles is not None:
            guild = self.guild(guild_id)
            added, removed = set(roles) - set(member.roles), set(member.roles) - set(roles)
            for key, ids in (("$add", added), ("$remove", removed)):
                if ids:
                    value = [{"id": str(r), "name": guild.roles[r].name} for r in sorted(ids)]
                    role_changes.append({"key": key, "new_value": value})
            member.roles = list(roles)
        if moderator_id is not None and role_changes:
            await self.add_audit_entry(
                guild_id,
                AuditAction.MEMBER_ROLE_UPDATE,
                moderator_id,
                user_id,
                reason=reason,
                changes=role_changes,
            )
        if moderator_id is not None and changes:
            await self.add_audit_entry(
                guild_id, AuditAction.MEMBER_UPDATE, moderator_id, user_id, reason=reason, changes=changes
            )
        await self.dispatch_member_update(guild_id, user_id)
        return member

    async def dispatch_member_update(self, guild_id: int, user_id: int) -> None:
        """GUILD_MEMBER_UPDATE with the member's current state (`avatar` always present)."""
        data = {**self.member_json(guild_id, user_id), "guild_id": str(guild_id)}
        data.setdefault("avatar", None)
        await self.dispatch("GUILD_MEMBER_UPDATE", data, guild_id=guild_id)

    async def update_user(
        self,
        user_id: int,
        *,
        username: str | None = None,
        global_name: str | Unset | None = UNSET,
        avatar_image: bytes | None = None,
        banner_image: bytes | None = None,
    ) -> None:
        """A global profile change. Discord sends USER_UPDATE only for the bot itself; other users'
        changes arrive as GUILD_MEMBER_UPDATE in every guild shared with the bot."""
        user = self.user(user_id)
        if username is not None:
            user.username = username
        if not isinstance(global_name, Unset):
            user.global_name = global_name
        if avatar_image is not None:
            self.set_user_avatar(user_id, avatar_image)
        if banner_image is not None:
            self.set_user_banner(user_id, banner_image)
        if user_id == self.bot_user.id:
            await self.dispatch("USER_UPDATE", user.to_json())
            return
        for guild in self.guilds.values():
            if user_id in guild.members and self.bot_user.id in guild.members:
                await self.dispatch_member_update(guild.id, user_id)

    # roles and channels -----------------------------------------------------------------------------

    async def create_role(self, guild_id: int, name: str, *, permissions: int = 0, color: int = 0) -> Role:
        """GUILD_ROLE_CREATE."""
        role = self.add_role(guild_id, name, permissions=permissions, color=color)
        await self.dispatch("GUILD_ROLE_CREATE", _role_event(guild_id, role), guild_id=guild_id)
        return role

    async def update_role(self, guild_id: int, role_id: int, **changes: Any) -> Role:
        """GUILD_ROLE_UPDATE; `changes` are `Role` attributes (name, permissions, color, …)."""
        role = self.role(guild_id, role_id)
        for key, value in changes.items():
            setattr(role, key, value)
        await self.dispatch("GUILD_ROLE_UPDATE", _role_event(guild_id, role), guild_id=guild_id)
        return role

    async def delete_role(self, guild_id: int, role_id: int) -> None:
        """GUILD_ROLE_DELETE; members lose the role."""
        guild = self.guild(guild_id)
        guild.roles.pop(role_id, None)
        for member in guild.members.values():
            if role_id in member.roles:
                member.roles.remove(role_id)
        data = {"guild_id": str(guild_id), "role_id": str(role_id)}
        await self.dispatch("GUILD_ROLE_DELETE", data, guild_id=guild_id)

    async def create_channel(
        self,
        guild_id: int,
        name: str,
        *,
        type: ChannelType = ChannelType.TEXT,
        parent_id: int | None = None,
        moderator_id: int | None = None,
        reason: str | None = None,
    ) -> int:
        """CHANNEL_CREATE (and a CHANNEL_CREATE audit entry when a moderator made it); returns its id."""
        channel = self.add_channel(guild_id, name, type=type, parent_id=parent_id)
        if moderator_id is not None:
            await self.add_audit_entry(
                guild_id, AuditAction.CHANNEL_CREATE, moderator_id, channel.id, reason=reason
            )
        await self.dispatch("CHANNEL_CREATE", channel.to_json(), guild_id=guild_id)
        return channel.id

    async def delete_channel(
        self, channel_id: int, *, moderator_id: int | None = None, reason: str | None = None
    ) -> None:
        """CHANNEL_DELETE (and a CHANNEL_DELETE audit entry when a moderator did it)."""
        channel = self.channel(channel_id)
        del self.guild(channel.guild_id).channels[channel_id]
        if moderator_id is not None:
            await self.add_audit_entry(
                channel.guild_id, AuditAction.CHANNEL_DELETE, moderator_id, channel_id, reason=reason
            )
        await self.dispatch("CHANNEL_DELETE", channel.to_json(), guild_id=channel.guild_id)

    async def bot_joins_guild(self, guild_id: int) -> None:
        """GUILD_CREATE for a guild the bot was just added to (build it with `add_guild` first)."""
        data = self.guild_create_json(self.guild(guild_id))
        del data["unavailable"]  # present only when an outage ends; discord.py then fires guild_available
        await self.dispatch("GUILD_CREATE", data, guild_id=guild_id)

    async def bot_leaves_guild(self, guild_id: int) -> None:
        """GUILD_DELETE (the bot was removed); the guild stays in the emulator's state."""
        self.guild(guild_id).members.pop(self.bot_user.id, None)
        await self.dispatch("GUILD_DELETE", {"id": str(guild_id)}, guild_id=guild_id)

    # audit log --------------------------------------------------------------------------------------

    async def add_audit_entry(
        self,
        guild_id: int,
        action_type: int,
        user_id: int | None,
        target_id: int | None = None,
        *,
        reason: str | None = None,
        options: Json | None = None,
        changes: list[Json] | None = None,
        dispatch: bool = True,
    ) -> AuditEntry:
        """Append an audit-log entry and (by default) send GUILD_AUDIT_LOG_ENTRY_CREATE."""
        entry = AuditEntry(new_id(), guild_id, int(action_type), user_id, target_id, reason, options, changes)
        self.guild(guild_id).audit_log.append(entry)
        if dispatch:
            data = {**entry.to_json(), "guild_id": str(guild_id)}
            await self.dispatch("GUILD_AUDIT_LOG_ENTRY_CREATE", data, guild_id=guild_id)
        return entry


def _role_event(guild_id: int, role: Role) -> Json:
    return {"guild_id": str(guild_id), "role": role.to_json()}
