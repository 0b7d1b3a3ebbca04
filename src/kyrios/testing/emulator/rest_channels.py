"""Channel routes: channel read/edit/delete, permission overwrites, messages."""

from __future__ import annotations

from aiohttp import web

from kyrios.testing.emulator.models import (
    AuditAction,
    Channel,
    ChannelType,
    Guild,
    Json,
    Message,
    Overwrite,
    snowflake,
)
from kyrios.testing.emulator.rest import IN_FLIGHT, RouteBase, json_response, no_content
from kyrios.testing.emulator.state import ApiError

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_CHANNEL_NAME = 100
MAX_TOPIC = 1024
MAX_SLOWMODE = 21600  # six hours
MAX_CATEGORY_CHANNELS = 50


class ChannelRoutes(RouteBase):
    """`/channels/{channel_id}/…`."""

    def _channel(self, request: web.Request, *permissions: str) -> Channel:
        channel = self.emu.channel(self.snowflake_arg(request, "channel_id"))
        self.emu.require(channel.guild_id, *permissions, channel_id=channel.id)
        return channel

    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id} (guild channels and the bot's DM channels)."""
        channel_id = self.snowflake_arg(request, "channel_id")
        if channel_id in self.emu.dm_channels:
            return json_response(self.emu.dm_channel_json(channel_id))
        return json_response(self._channel(request).to_json())

    async def edit_channel(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}: name, topic, nsfw, rate_limit_per_user (slowmode), parent_id, position,
        permission_overwrites."""
        channel = self._channel(request, "manage_channels")
        body = self.body(request)
        check_channel_body(body)
        if "name" in body:
            channel.name = str(body["name"])
        if "topic" in body:
            channel.topic = body["topic"]
        if "nsfw" in body:
            channel.nsfw = bool(body["nsfw"])
        if "rate_limit_per_user" in body:
            channel.rate_limit_per_user = int(body["rate_limit_per_user"] or 0)
        if "position" in body and body["position"] is not None:
            channel.position = int(body["position"])
        if "parent_id" in body:
            parent_id = int(body["parent_id"]) if body["parent_id"] else None
            if parent_id is not None and parent_id != channel.parent_id:
                check_parent(self.emu.guild(channel.guild_id), parent_id)
            channel.parent_id = parent_id
        if "permission_overwrites" in body:
            channel.overwrites = [Overwrite.from_json(o) for o in body["permission_overwrites"] or []]
        await self._log(channel, AuditAction.CHANNEL_UPDATE, request)
        await self.emu.dispatch("CHANNEL_UPDATE", channel.to_json(), guild_id=channel.guild_id)
        return json_response(channel.to_json())

    async def delete_channel(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}: answers the deleted channel."""
        channel = self._channel(request, "manage_channels")
        del self.emu.guild(channel.guild_id).channels[channel.id]
        for message in self.emu.channel_messages(channel.id):
            del self.emu.messages[message.id]
        await self._log(channel, AuditAction.CHANNEL_DELETE, request)
        await self.emu.dispatch("CHANNEL_DELETE", channel.to_json(), guild_id=channel.guild_id)
        return json_response(channel.to_json())

    async def put_overwrite(self, request: web.Request) -> web.Response:
        """PUT /channels/{id}/permissions/{overwrite_id}: allow, deny, type."""
        channel = self._channel(request, "manage_roles")
        body = self.body(request)
        target = self.snowflake_arg(request, "overwrite_id")
        new = Overwrite.from_json({**body, "id": target})
        existing = next((o for o in channel.overwrites if o.id == target), None)
        if existing is None:
            channel.overwrites.append(new)
        else:
            existing.type, existing.allow, existing.deny = new.type, new.allow, new.deny
        action = (
            AuditAction.CHANNEL_OVERWRITE_CREATE if existing is None else AuditAction.CHANNEL_OVERWRITE_UPDATE
        )
        await self._log(channel, action, request, options={"id": str(target), "type": str(new.type)})
        await self.emu.dispatch("CHANNEL_UPDATE", channel.to_json(), guild_id=channel.guild_id)
        return no_content()

    async def delete_overwrite(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/permissions/{overwrite_id}."""
        channel = self._channel(request, "manage_roles")
        target = self.snowflake_arg(request, "overwrite_id")
        before = len(channel.overwrites)
        channel.overwrites = [o for o in channel.overwrites if o.id != target]
        if len(channel.overwrites) == before:
            raise ApiError(404, 10009, "Unknown Overwrite")
        await self._log(channel, AuditAction.CHANNEL_OVERWRITE_DELETE, request, options={"id": str(target)})
        await self.emu.dispatch("CHANNEL_UPDATE", channel.to_json(), guild_id=channel.guild_id)
        return no_content()

    async def _log(
        self, channel: Channel, action: int, request: web.Request, options: Json | None = None
    ) -> None:
        await self.emu.add_audit_entry(
            channel.guild_id,
            action,
            self.emu.bot_user.id,
            channel.id,
            reason=self.reason(request),
            options=options,
        )

    # messages ---------------------------------------------------------------------------------------

    async def list_messages(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages?limit&around|before|after, newest first (limit 1-100, default 50).

        `around` answers up to limit // 2 messages on each side of the id, and the message itself if it
        is in the channel (so an even limit can give limit + 1 messages, as on Discord)."""
        channel = self._channel(request, "read_message_history")
        messages = self.emu.channel_messages(channel.id)
        query = request.query
        limit = max(1, min(int(query.get("limit", 50)), 100))
        if "around" in query:
            pivot = int(query["around"])
            older = [m for m in messages if m.id < pivot][::-1][: limit // 2]
            newer = [m for m in messages if m.id > pivot][: limit // 2]
            middle = [m for m in messages if m.id == pivot]
            chosen = sorted([*older, *middle, *newer], key=lambda m: m.id, reverse=True)
            return json_response([self.emu.message_json(m) for m in chosen])
        if "before" in query:
            messages = [m for m in messages if m.id < int(query["before"])]
        if "after" in query:
            messages = [m for m in messages if m.id > int(query["after"])]
        newest = sorted(messages, key=lambda m: m.id, reverse=True)
        chosen = newest[-limit:] if "after" in query and "before" not in query else newest[:limit]
        return json_response([self.emu.message_json(m) for m in chosen])

    async def get_message(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/{message_id}."""
        channel = self._channel(request, "read_message_history")
        message = self.emu.message(channel.id, self.snowflake_arg(request, "message_id"))
        return json_response(self.emu.message_json(message))

    async def create_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages: content, embeds, components, files (multipart)."""
        body = self.body(request)
        files = IN_FLIGHT[id(request)][1]
        channel_id = self.snowflake_arg(request, "channel_id")
        guild_id: int | None = None
        if channel_id in self.emu.dm_channels:
            if self.emu.dm_channels[channel_id] in self.emu.dms_closed:
                raise ApiError(403, 50007, "Cannot send messages to this user")
        else:
            needed = ["send_messages"] + (["embed_links"] if body.get("embeds") else [])
            channel = self._channel(request, *needed, *(["attach_files"] if files else []))
            guild_id = channel.guild_id
        nonce = (self.emu.bot_user.id, str(body["nonce"])) if body.get("nonce") is not None else None
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same author and nonce within a few minutes answers the first message again.
            earlier = self.emu.messages.get(self.emu.message_nonces.get(nonce, 0))
            if earlier is not None:
                return json_response(self.emu.message_json(earlier))
        message = Message(snowflake(), channel_id, guild_id, self.emu.bot_user.id)
        apply_message_body(message, body)
        message.attachments = [
            self.emu.add_attachment(channel_id, name, data, ctype) for name, data, ctype in files
        ]
        if not (message.content or message.embeds or message.attachments or message.components):
            raise ApiError(400, 50006, "Cannot send an empty message")
        self.emu.messages[message.id] = message
        if guild_id is not None:
            self.emu.channel(channel_id).last_message_id = message.id
        if nonce is not None and body.get("enforce_nonce"):
            self.emu.message_nonces[nonce] = message.id
        await self.emu.dispatch(
            "MESSAGE_CREATE", self.emu.message_json(message, gateway=True), guild_id=guild_id
        )
        return json_response(self.emu.message_json(message))

    async def edit_message(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}/messages/{message_id}: only the bot's own messages."""
        channel = self._channel(request)
        message = self.emu.message(channel.id, self.snowflake_arg(request, "message_id"))
        if message.author_id != self.emu.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        apply_message_body(message, self.body(request))
        return json_response(await self.emu.announce_edit(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/messages/{message_id}: own messages, or with Manage Messages (no audit entry:
        Discord does not log a bot's single deletes)."""
        channel = self._channel(request)
        message = self.emu.message(channel.id, self.snowflake_arg(request, "message_id"))
        if message.author_id != self.emu.bot_user.id:
            self.emu.require(channel.guild_id, "manage_messages", channel_id=channel.id)
        await self.emu.delete_message(channel.id, message.id)
        return no_content()

    async def bulk_delete(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/bulk-delete {messages: 2-100 ids}: MESSAGE_DELETE_BULK."""
        channel = self._channel(request, "manage_messages")
        ids = [int(i) for i in self.body(request).get("messages") or []]
        if not 2 <= len(ids) <= 100:
            raise ApiError(400, 50035, "Invalid Form Body (messages: 2 to 100 ids)")
        found = [i for i in ids if i in self.emu.messages and self.emu.messages[i].channel_id == channel.id]
        for message_id in found:
            del self.emu.messages[message_id]
        await self.emu.add_audit_entry(
            channel.guild_id,
            AuditAction.MESSAGE_BULK_DELETE,
            self.emu.bot_user.id,
            channel.id,
            reason=self.reason(request),
            options={"count": str(len(found))},
        )
        data = {
            "ids": [str(i) for i in found],
            "channel_id": str(channel.id),
            "guild_id": str(channel.guild_id),
        }
        await self.emu.dispatch("MESSAGE_DELETE_BULK", data, guild_id=channel.guild_id)
        return no_content()


def check_channel_body(body: Json) -> None:
    """400 50035 for channel fields outside Discord's limits (create and edit)."""
    if "name" in body and not 1 <= len(str(body["name"] or "")) <= MAX_CHANNEL_NAME:
        raise ApiError(400, 50035, "Invalid Form Body (name: Must be between 1 and 100 in length.)")
    if len(body.get("topic") or "") > MAX_TOPIC:
        raise ApiError(400, 50035, "Invalid Form Body (topic: Must be 1024 or fewer in length.)")
    if not 0 <= int(body.get("rate_limit_per_user") or 0) <= MAX_SLOWMODE:
        raise ApiError(400, 50035, "Invalid Form Body (rate_limit_per_user: int value should be <= 21600.)")


def check_parent(guild: Guild, parent_id: int | None) -> None:
    """400 50035 unless `parent_id` is None or a category of the guild with room (Discord's 50 channels)."""
    if parent_id is None:
        return
    parent = guild.channels.get(parent_id)
    if parent is None or parent.type != ChannelType.CATEGORY:
        raise ApiError(400, 50035, "Invalid Form Body (parent_id: not a category of this guild)")
    if sum(c.parent_id == parent_id for c in guild.channels.values()) >= MAX_CATEGORY_CHANNELS:
        raise ApiError(
            400, 50035, "Invalid Form Body (parent_id: Maximum number of channels in category reached (50))"
        )


def apply_message_body(message: Message, body: Json) -> None:
    """Copy content/embeds/components/flags from a create or edit body, with Discord's limits."""
    if "content" in body:
        content = body["content"] or ""
        if len(content) > MAX_CONTENT:
            raise ApiError(400, 50035, "Invalid Form Body (content: Must be 2000 or fewer in length.)")
        message.content = content
    embeds = body.get("embeds")
    if embeds is None and body.get("embed"):
        embeds = [body["embed"]]
    if embeds is not None:
        if len(embeds) > MAX_EMBEDS:
            raise ApiError(400, 50035, "Invalid Form Body (embeds: Must be 10 or fewer in length.)")
        message.embeds = [{"type": "rich", **e} for e in embeds]
    if "components" in body:
        message.components = list(body["components"] or [])
    if body.get("flags") is not None:
        message.flags = int(body["flags"])
