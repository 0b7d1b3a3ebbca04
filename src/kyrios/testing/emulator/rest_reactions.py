"""Reaction routes: the bot's own reactions, removing others', listing who reacted, clearing."""

from __future__ import annotations

from aiohttp import web

from kyrios.testing.emulator.models import Message
from kyrios.testing.emulator.rest import Handler, RouteBase, json_response, no_content
from kyrios.testing.emulator.state import ApiError

MAX_REACTION_EMOJIS = 20


class ReactionRoutes(RouteBase):
    """`/channels/{channel_id}/messages/{message_id}/reactions…`; the emulator's methods send the events."""

    def reaction_routes(self) -> list[tuple[str, str, Handler]]:
        """The (method, path, handler) rows of this group."""
        base = "/channels/{channel_id:\\d+}/messages/{message_id:\\d+}/reactions"
        return [
            ("DELETE", base, self.clear_reactions),
            ("GET", f"{base}/{{emoji}}", self.reaction_users),
            ("DELETE", f"{base}/{{emoji}}", self.clear_emoji),
            ("PUT", f"{base}/{{emoji}}/@me", self.add_own_reaction),
            ("DELETE", f"{base}/{{emoji}}/@me", self.remove_own_reaction),
            ("DELETE", f"{base}/{{emoji}}/{{user_id:\\d+}}", self.remove_user_reaction),
        ]

    def _target(self, request: web.Request, *permissions: str) -> tuple[int, Message]:
        """(channel id, message) of a guild channel, a thread or a DM channel (where only the bot's own
        reactions can be removed: 403 50003 for the moderator routes)."""
        channel_id = self.snowflake_arg(request, "channel_id")
        message_id = self.snowflake_arg(request, "message_id")
        if channel_id in self.emu.dm_channels:
            if "manage_messages" in permissions:
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            return channel_id, self.emu.any_message(channel_id, message_id)
        channel = self.emu.channel(channel_id)
        self.emu.require(channel.guild_id, "read_message_history", *permissions, channel_id=channel.id)
        return channel.id, self.emu.message(channel.id, message_id)

    def _may_add(self, channel_id: int, message: Message) -> None:
        """A new emoji needs Add Reactions (not in a DM); at most 20 emojis per message (30010)."""
        if len(message.reactions) >= MAX_REACTION_EMOJIS:
            raise ApiError(400, 30010, "Maximum number of reactions reached (20)")
        if channel_id not in self.emu.dm_channels:
            self.emu.require(self.emu.channel(channel_id).guild_id, "add_reactions", channel_id=channel_id)

    @staticmethod
    def _emoji(request: web.Request) -> str:
        emoji = request.match_info["emoji"].removeprefix("<").removesuffix(">").removeprefix(":")
        if not emoji:
            raise ApiError(400, 10014, "Unknown Emoji")
        return emoji

    async def add_own_reaction(self, request: web.Request) -> web.Response:
        """PUT …/reactions/{emoji}/@me: a new emoji needs Add Reactions; at most 20 emojis (30010)."""
        channel_id, message = self._target(request)
        emoji = self._emoji(request)
        if emoji not in message.reactions:
            self._may_add(channel_id, message)
        await self.emu.add_reaction(channel_id, message.id, self.emu.bot_user.id, emoji)
        return no_content()

    async def remove_own_reaction(self, request: web.Request) -> web.Response:
        """DELETE …/reactions/{emoji}/@me."""
        channel_id, message = self._target(request)
        await self.emu.remove_reaction(channel_id, message.id, self.emu.bot_user.id, self._emoji(request))
        return no_content()

    async def remove_user_reaction(self, request: web.Request) -> web.Response:
        """DELETE …/reactions/{emoji}/{user_id}: needs Manage Messages."""
        channel_id, message = self._target(request, "manage_messages")
        user_id = self.snowflake_arg(request, "user_id")
        await self.emu.remove_reaction(channel_id, message.id, user_id, self._emoji(request))
        return no_content()

    async def reaction_users(self, request: web.Request) -> web.Response:
        """GET …/reactions/{emoji}?after&limit (1-100, default 25): the users, by ascending id."""
        _, message = self._target(request)
        users = sorted(message.reactions.get(self._emoji(request), []))
        after = int(request.query.get("after", 0))
        limit = max(1, min(int(request.query.get("limit", 25)), 100))
        chosen = [u for u in users if u > after][:limit]
        return json_response([self.emu.user(u).to_json() for u in chosen])

    async def clear_emoji(self, request: web.Request) -> web.Response:
        """DELETE …/reactions/{emoji}: every reaction with it (Manage Messages); REMOVE_EMOJI."""
        channel_id, message = self._target(request, "manage_messages")
        await self.emu.clear_reactions(channel_id, message.id, self._emoji(request))
        return no_content()

    async def clear_reactions(self, request: web.Request) -> web.Response:
        """DELETE …/reactions: every reaction (Manage Messages); MESSAGE_REACTION_REMOVE_ALL."""
        channel_id, message = self._target(request, "manage_messages")
        await self.emu.clear_reactions(channel_id, message.id)
        return no_content()
