"""What the emulated Discord knows: users, guilds, messages, interactions, CDN images; builders for tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import discord

from kyrios.testing.emulator.models import (
    Channel,
    ChannelType,
    Guild,
    Json,
    Member,
    Message,
    Overwrite,
    Role,
    User,
    iso,
    snowflake,
)

ADMINISTRATOR = discord.Permissions(administrator=True).value
ALL_PERMISSIONS = discord.Permissions.all().value
BOT_PERMISSIONS = ALL_PERMISSIONS & ~ADMINISTRATOR
EVERYONE_PERMISSIONS = discord.Permissions.general().value | discord.Permissions.text().value
BOT_USER_ID = 900
APPLICATION_ID = 999
BOT_TOKEN = "emulator.bot.token"  # noqa: S105 (a fake token for a fake Discord)


class ApiError(Exception):
    """A Discord error response: HTTP status, JSON error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message = status, code, message

    def to_json(self) -> Json:
        """Discord's error body."""
        return {"message": self.message, "code": self.code}


@dataclass
class InteractionRecord:
    """An interaction the emulator sent, and how the bot answered it."""

    id: int
    token: str
    guild_id: int | None
    channel_id: int | None
    message_id: int | None
    callback: Json | None = None
    original_message_id: int | None = None
    followups: list[int] = field(default_factory=list)


class EmulatorState:
    """The emulated Discord's data. Builders (`add_*`) change state without sending gateway events."""

    def __init__(self) -> None:
        self.token = BOT_TOKEN
        self.shard_count = 1  # what GET /gateway/bot recommends (AutoShardedClient launches that many)
        self.application_id = APPLICATION_ID
        self.bot_user = User(BOT_USER_ID, "Kyrios", global_name="Kyrios", bot=True)
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.messages: dict[int, Message] = {}
        self.message_nonces: dict[tuple[int, str], int] = {}
        """(author, nonce) → message of a create with `enforce_nonce` (Discord keeps them minutes;
        the emulator for its whole life)."""
        self.interactions: dict[str, InteractionRecord] = {}
        self.global_commands: list[Json] = []
        self.cdn: dict[str, tuple[bytes, str]] = {}
        self.dm_channels: dict[int, int] = {}  # DM channel id -> the user at the other end
        self.dms_closed: set[int] = set()  # users whose DMs refuse the bot (403 50007)

    # builders ---------------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        username: str | None = None,
        *,
        global_name: str | None = None,
        avatar: str | None = None,
        bot: bool = False,
    ) -> User:
        """Create (or return) a user."""
        if user_id in self.users:
            return self.users[user_id]
        user = User(user_id, username or f"user{user_id}", global_name, avatar, bot=bot)
        self.users[user_id] = user
        return user

    def add_guild(
        self,
        guild_id: int,
        name: str = "Test Guild",
        *,
        owner_id: int = 1000,
        bot_permissions: int | None = None,
    ) -> Guild:
        """A guild with @everyone, an owner, and the bot as a member holding a managed bot role."""
        self.add_user(owner_id, f"owner{owner_id}")
        guild = Guild(guild_id, name, owner_id)
        guild.roles[guild_id] = Role(guild_id, "@everyone", permissions=EVERYONE_PERMISSIONS)
        self.guilds[guild_id] = guild
        bot_role = self.add_role(
            guild_id, self.bot_user.username, permissions=bot_permissions or BOT_PERMISSIONS
        )
        bot_role.managed, bot_role.bot_id = True, self.bot_user.id
        self.add_member(guild_id, owner_id)
        self.add_member(guild_id, self.bot_user.id, roles=[bot_role.id])
        return guild

    def add_role(
        self, guild_id: int, name: str, *, role_id: int | None = None, permissions: int = 0, color: int = 0
    ) -> Role:
        """A role at the bottom of the hierarchy (position 1), as Discord creates them; others move up."""
        guild = self.guild(guild_id)
        for other in guild.roles.values():
            if other.id != guild_id:
                other.position += 1
        role = Role(role_id or snowflake(), name, permissions=permissions, color=color, position=1)
        guild.roles[role.id] = role
        return role

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        channel_id: int | None = None,
        type: ChannelType = ChannelType.TEXT,
        parent_id: int | None = None,
        overwrites: Iterable[Overwrite] = (),
        topic: str | None = None,
    ) -> Channel:
        """A text channel (or voice/category with `type`)."""
        guild = self.guild(guild_id)
        channel = Channel(
            channel_id or snowflake(),
            guild_id,
            name,
            type=type,
            position=len(guild.channels),
            parent_id=parent_id,
            topic=topic,
            overwrites=list(overwrites),
        )
        guild.channels[channel.id] = channel
        return channel

    def add_category(
        self, guild_id: int, name: str, *, channel_id: int | None = None, overwrites: Iterable[Overwrite] = ()
    ) -> Channel:
        """A category channel."""
        return self.add_channel(
            guild_id, name, channel_id=channel_id, type=ChannelType.CATEGORY, overwrites=overwrites
        )

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        username: str | None = None,
        *,
        roles: Iterable[int] = (),
        nick: str | None = None,
        avatar: str | None = None,
        bot: bool = False,
        joined_at: datetime | None = None,
    ) -> Member:
        """Make a user (created if needed) a member of a guild."""
        self.add_user(user_id, username, bot=bot)
        member = Member(user_id, roles=list(roles), nick=nick, avatar=avatar)
        if joined_at is not None:
            member.joined_at = joined_at
        self.guild(guild_id).members[user_id] = member
        return member

    def add_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        message_id: int | None = None,
        embeds: list[Json] | None = None,
        components: list[Json] | None = None,
        attachments: list[Json] | None = None,
    ) -> Message:
        """A message stored in a channel (authored by an existing user)."""
        channel = self.channel(channel_id)
        self.user(author_id)
        message = Message(
            message_id or snowflake(),
            channel_id,
            channel.guild_id,
            author_id,
            content,
            embeds=list(embeds or []),
            components=list(components or []),
            attachments=list(attachments or []),
        )
        self.messages[message.id] = message
        channel.last_message_id = message.id
        return message

    def add_cdn_image(self, path: str, data: bytes, content_type: str = "image/png") -> None:
        """Serve `data` at a CDN path such as `/avatars/42/abc` (any extension and query are accepted)."""
        self.cdn[path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path] = (data, content_type)

    def set_user_avatar(self, user_id: int, image: bytes, content_type: str = "image/png") -> str:
        """Give a user an avatar image served by the CDN; returns the avatar hash (no event sent)."""
        avatar = hashlib.md5(image, usedforsecurity=False).hexdigest()
        self.add_cdn_image(f"/avatars/{user_id}/{avatar}", image, content_type)
        self.user(user_id).avatar = avatar
        return avatar

    def set_user_banner(self, user_id: int, image: bytes, content_type: str = "image/png") -> str:
        """Give a user a banner image served by the CDN; returns its hash."""
        banner = hashlib.md5(image, usedforsecurity=False).hexdigest()
        self.add_cdn_image(f"/banners/{user_id}/{banner}", image, content_type)
        self.user(user_id).banner = banner
        return banner

    def set_member_avatar(
        self, guild_id: int, user_id: int, image: bytes, content_type: str = "image/png"
    ) -> str:
        """Give a member a per-server avatar served by the CDN; returns its hash."""
        avatar = hashlib.md5(image, usedforsecurity=False).hexdigest()
        self.add_cdn_image(f"/guilds/{guild_id}/users/{user_id}/avatars/{avatar}", image, content_type)
        self.member(guild_id, user_id).avatar = avatar
        return avatar

    # lookups (404 with Discord's codes) --------------------------------------------------------------

    def guild(self, guild_id: int) -> Guild:
        """A guild or 404 Unknown Guild."""
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise ApiError(404, 10004, "Unknown Guild") from None

    def channel(self, channel_id: int) -> Channel:
        """A channel in any guild or 404 Unknown Channel."""
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
            if channel_id in guild.threads:
                return guild.threads[channel_id]
        raise ApiError(404, 10003, "Unknown Channel")

    def member(self, guild_id: int, user_id: int) -> Member:
        """A member or 404 Unknown Member."""
        try:
            return self.guild(guild_id).members[user_id]
        except KeyError:
            raise ApiError(404, 10007, "Unknown Member") from None

    def role(self, guild_id: int, role_id: int) -> Role:
        """A role or 404 Unknown Role."""
        try:
            return self.guild(guild_id).roles[role_id]
        except KeyError:
            raise ApiError(404, 10011, "Unknown Role") from None

    def user(self, user_id: int) -> User:
        """A user or 404 Unknown User."""
        try:
            return self.users[user_id]
        except KeyError:
            raise ApiError(404, 10013, "Unknown User") from None

    def message(self, channel_id: int, message_id: int) -> Message:
        """A message in a channel or 404 Unknown Message."""
        message = self.messages.get(message_id)
        if message is None or message.channel_id != channel_id:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def dm_channel_json(self, channel_id: int) -> Json:
        """`types.channel.DMChannel`."""
        recipient = self.user(self.dm_channels[channel_id]).to_json()
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "recipients": [recipient],
            "flags": 0,
        }

    def dm_messages(self, user_id: int) -> list[Message]:
        """What the bot sent a user by DM, oldest first."""
        channels = [c for c, u in self.dm_channels.items() if u == user_id]
        bot = self.bot_user.id
        return [m for c in channels for m in self.channel_messages(c) if m.author_id == bot]

    def channel_messages(self, channel_id: int) -> list[Message]:
        """A channel's messages, oldest first."""
        return sorted((m for m in self.messages.values() if m.channel_id == channel_id), key=lambda m: m.id)

    # JSON ---------------------------------------------------------------------------------------------

    def member_json(self, guild_id: int, user_id: int) -> Json:
        """`MemberWithUser`."""
        return self.member(guild_id, user_id).to_json(self.user(user_id))

    def message_json(self, message: Message, *, gateway: bool = False) -> Json:
        """`types.message.Message` as REST answers it; `gateway=True` for MESSAGE_CREATE/UPDATE, which
        alone add `guild_id`, the author's partial `member` and a partial `member` on each mentioned guild
        member (REST message objects never carry them: there the author is a plain user)."""
        data: Json = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "type": message.type,
            "author": self.user(message.author_id).to_json(),
            "content": message.content,
            "timestamp": iso(message.timestamp),
            "edited_timestamp": iso(message.edited_at),
            "tts": False,
            "mention_everyone": False,
            "mentions": [
                self._mention_json(message, u, gateway) for u in message.mentions if u in self.users
            ],
            "mention_roles": [],
            "attachments": message.attachments,
            "embeds": message.embeds,
            "components": message.components,
            "pinned": message.pinned_at is not None,
            "flags": message.flags,
        }
        if message.reference is not None:
            data["message_reference"] = message.reference
        if message.reactions:
            data["reactions"] = [self._reaction_json(e, users) for e, users in message.reactions.items()]
        if gateway and message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
            guild_member = self.guilds[message.guild_id].members.get(message.author_id)
            if guild_member is not None and message.webhook_id is None:
                data["member"] = guild_member.to_json()
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
        if message.application_id is not None:
            data["application_id"] = str(message.application_id)
        return data

    def _reaction_json(self, emoji: str, users: list[int]) -> Json:
        """`MessageReactionResponse` as the bot sees it (`me`: the bot reacted)."""
        return {
            "emoji": emoji_json(emoji),
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "burst_colors": [],
            "me_burst": False,
            "me": self.bot_user.id in users,
        }

    def _mention_json(self, message: Message, user_id: int, gateway: bool) -> Json:
        data = self.users[user_id].to_json()
        guild = self.guilds.get(message.guild_id) if message.guild_id is not None else None
        if gateway and guild is not None and user_id in guild.members:
            data["member"] = guild.members[user_id].to_json()
        return data

    def guild_create_json(self, guild: Guild) -> Json:
        """The full guild of GUILD_CREATE: channels, roles, members."""
        data = guild.to_json()
        bot_member = guild.members.get(self.bot_user.id)
        data.update(
            unavailable=False,
            joined_at=iso(bot_member.joined_at if bot_member else guild.created_at),
            large=len(guild.members) > 250,
            member_count=len(guild.members),
            members=[self.member_json(guild.id, uid) for uid in guild.members],
            channels=[c.to_json() for c in guild.channels.values()],
            threads=[t.to_json() for t in guild.threads.values() if not t.archived],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data

    def application_json(self) -> Json:
        """`types.appinfo.AppInfo`."""
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "Kyrios under test",
            "summary": "",  # deprecated, "an empty string" until API v11 (Discord's docs)
            "verify_key": "0" * 64,
            "flags": 0,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.users[next(iter(self.guilds.values())).owner_id].to_json()
            if self.guilds
            else self.bot_user.to_json(),
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "redirect_uris": [],
            "type": None,
            "flags_new": "0",
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "team": None,
            "eligible_oauth2_scopes": [],
        }


def emoji_json(emoji: str) -> Json:
    """A reaction's partial emoji from its URL form: `👍` (unicode) or `name:id` (custom)."""
    name, _, emoji_id = emoji.partition(":")
    return {"id": emoji_id or None, "name": name}
