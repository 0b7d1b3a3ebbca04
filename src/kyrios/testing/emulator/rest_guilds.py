"""Guild routes: guild, channels (create), members, roles, member roles, audit log."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from kyrios.testing.emulator.events import UNSET
from kyrios.testing.emulator.models import AuditAction, Channel, ChannelType, Json, Overwrite, snowflake
from kyrios.testing.emulator.rest import IN_FLIGHT, RouteBase, json_response, no_content
from kyrios.testing.emulator.rest_channels import check_channel_body, check_parent
from kyrios.testing.emulator.state import ADMINISTRATOR, ApiError

MAX_NICK = 32


class GuildRoutes(RouteBase):
    """`/guilds/{guild_id}/…`."""

    async def get_guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id} (approximate counts with `with_counts`)."""
        guild = self.emu.guild(self.snowflake_arg(request, "guild_id"))
        data = guild.to_json()
        if request.query.get("with_counts") in ("true", "True", "1"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(data)

    async def get_channels(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/channels."""
        guild = self.emu.guild(self.snowflake_arg(request, "guild_id"))
        return json_response([c.to_json() for c in guild.channels.values()])

    async def create_channel(self, request: web.Request) -> web.Response:
        """POST /guilds/{id}/channels: name, type, parent_id, permission_overwrites, topic, position."""
        guild_id = self.snowflake_arg(request, "guild_id")
        guild = self.emu.guild(guild_id)
        self.emu.require(guild_id, "manage_channels")
        body = self.body(request)
        name = str(body.get("name") or "")
        check_channel_body({**body, "name": name})
        parent_id = int(body["parent_id"]) if body.get("parent_id") else None
        check_parent(guild, parent_id)
        if len(guild.channels) >= 500:
            raise ApiError(400, 30013, "Maximum number of guild channels reached (500)")
        channel = Channel(
            snowflake(),
            guild_id,
            name,
            type=ChannelType(int(body.get("type") or 0)),
            position=int(body.get("position") or len(guild.channels)),
            parent_id=parent_id,
            topic=body.get("topic"),
            nsfw=bool(body.get("nsfw", False)),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            overwrites=[Overwrite.from_json(o) for o in body.get("permission_overwrites") or []],
        )
        guild.channels[channel.id] = channel
        await self.emu.add_audit_entry(
            guild_id,
            AuditAction.CHANNEL_CREATE,
            self.emu.bot_user.id,
            channel.id,
            reason=self.reason(request),
        )
        await self.emu.dispatch("CHANNEL_CREATE", channel.to_json(), guild_id=guild_id)
        return json_response(channel.to_json(), 201)

    async def move_channels(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/channels [{id, position, parent_id, lock_permissions}] (`channel.move()`):
        each listed channel of the guild moved; `lock_permissions` copies the new parent's overwrites.
        Every item is checked before anything moves; CHANNEL_UPDATE only for channels that changed."""
        guild_id = self.snowflake_arg(request, "guild_id")
        guild = self.emu.guild(guild_id)
        self.emu.require(guild_id, "manage_channels")
        body = IN_FLIGHT[id(request)][0].body
        if not isinstance(body, list) or not all(isinstance(item, dict) and item.get("id") for item in body):
            raise ApiError(400, 50035, "Invalid Form Body (a list of channels with their ids)")
        moves = [(guild.channels.get(int(item["id"])), item) for item in body]
        if any(channel is None for channel, _ in moves):
            raise ApiError(400, 50035, "Invalid Form Body (id: unknown channel)")
        for channel, item in moves:
            assert channel is not None
            if item.get("parent_id") is not None and int(item["parent_id"]) != channel.parent_id:
                check_parent(guild, int(item["parent_id"]))
        changed = []
        for channel, item in moves:
            assert channel is not None
            before = channel.to_json()
            if item.get("position") is not None:
                channel.position = int(item["position"])
            if "parent_id" in item:
                channel.parent_id = int(item["parent_id"]) if item["parent_id"] else None
            if item.get("lock_permissions") and channel.parent_id is not None:
                parent = guild.channels[channel.parent_id]
                channel.overwrites = [Overwrite.from_json(o.to_json()) for o in parent.overwrites]
            if channel.to_json() != before:
                changed.append(channel)
        for channel in changed:
            await self.emu.dispatch("CHANNEL_UPDATE", channel.to_json(), guild_id=guild_id)
        return no_content()

    async def get_member(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members/{user_id}."""
        guild_id = self.snowflake_arg(request, "guild_id")
        return json_response(self.emu.member_json(guild_id, self.snowflake_arg(request, "user_id")))

    async def list_members(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members?limit&after (ascending user ids)."""
        guild = self.emu.guild(self.snowflake_arg(request, "guild_id"))
        after = int(request.query.get("after", 0))
        limit = min(int(request.query.get("limit", 1)), 1000)
        ids = sorted(u for u in guild.members if u > after)[:limit]
        return json_response([self.emu.member_json(guild.id, u) for u in ids])

    async def edit_member(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/members/{user_id}: nick (`""` or null clears it), roles,
        communication_disabled_until, and in voice channel_id (move; null disconnects), mute, deaf;
        with Discord's permission and role-hierarchy checks."""
        guild_id = self.snowflake_arg(request, "guild_id")
        user_id = self.snowflake_arg(request, "user_id")
        body = self.body(request)
        member = self.emu.member(guild_id, user_id)
        roles = [int(r) for r in body["roles"] or []] if "roles" in body else None
        if roles is not None:
            self.emu.require(guild_id, "manage_roles")
            for changed in set(roles) ^ set(member.roles):
                self.emu.require_above_role(guild_id, self.emu.role(guild_id, changed))
        if "nick" in body:
            if len(body["nick"] or "") > MAX_NICK:
                raise ApiError(400, 50035, "Invalid Form Body (nick: Must be 32 or fewer in length.)")
            self.emu.require(guild_id, "manage_nicknames")
            self.emu.require_above_member(guild_id, user_id)
        if "communication_disabled_until" in body:
            self.emu.require(guild_id, "moderate_members")
            self.emu.require_above_member(guild_id, user_id)
            if self.emu.permissions_for(guild_id, user_id) & ADMINISTRATOR:
                raise ApiError(403, 50013, "Missing Permissions")  # administrators cannot be timed out
        self.emu.check_voice_edit(guild_id, user_id, body)
        if {"channel_id", "mute", "deaf"} & body.keys():
            await self.emu.edit_voice(
                guild_id,
                user_id,
                channel_id=(int(body["channel_id"]) if body["channel_id"] else None)
                if "channel_id" in body
                else UNSET,
                mute=body.get("mute"),
                deaf=body.get("deaf"),
                moderator_id=self.emu.bot_user.id,
                reason=self.reason(request),
            )
        raw_until = body.get("communication_disabled_until")
        await self.emu.update_member(
            guild_id,
            user_id,
            nick=(body["nick"] or None) if "nick" in body else UNSET,
            roles=roles,
            timeout_until=(datetime.fromisoformat(raw_until) if raw_until else None)
            if "communication_disabled_until" in body
            else UNSET,
            moderator_id=self.emu.bot_user.id,
            reason=self.reason(request),
        )
        return json_response(self.emu.member_json(guild_id, user_id))

    async def kick_member(self, request: web.Request) -> web.Response:
        """DELETE /guilds/{id}/members/{user_id}: a kick by the bot (MEMBER_KICK entry with its reason)."""
        guild_id, user_id = self.snowflake_arg(request, "guild_id"), self.snowflake_arg(request, "user_id")
        self.emu.member(guild_id, user_id)
        self.emu.require(guild_id, "kick_members")
        self.emu.require_above_member(guild_id, user_id)
        await self.emu.kick_member(
            guild_id, user_id, moderator_id=self.emu.bot_user.id, reason=self.reason(request)
        )
        return no_content()

    async def get_roles(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles."""
        guild = self.emu.guild(self.snowflake_arg(request, "guild_id"))
        return json_response([r.to_json() for r in sorted(guild.roles.values(), key=lambda r: r.position)])

    async def add_member_role(self, request: web.Request) -> web.Response:
        """PUT /guilds/{id}/members/{user_id}/roles/{role_id}."""
        return await self._change_member_role(request, add=True)

    async def remove_member_role(self, request: web.Request) -> web.Response:
        """DELETE /guilds/{id}/members/{user_id}/roles/{role_id}."""
        return await self._change_member_role(request, add=False)

    async def _change_member_role(self, request: web.Request, *, add: bool) -> web.Response:
        guild_id = self.snowflake_arg(request, "guild_id")
        user_id = self.snowflake_arg(request, "user_id")
        role = self.emu.role(guild_id, self.snowflake_arg(request, "role_id"))
        member = self.emu.member(guild_id, user_id)
        self.emu.require(guild_id, "manage_roles")
        self.emu.require_above_role(guild_id, role)
        roles = [r for r in member.roles if r != role.id] + ([role.id] if add else [])
        if set(roles) != set(member.roles):
            await self.emu.update_member(
                guild_id, user_id, roles=roles, moderator_id=self.emu.bot_user.id, reason=self.reason(request)
            )
        return no_content()

    async def get_audit_log(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/audit-logs?user_id&action_type&before&after&limit (1–100, default 50)."""
        guild_id = self.snowflake_arg(request, "guild_id")
        guild = self.emu.guild(guild_id)
        self.emu.require(guild_id, "view_audit_log")
        query = request.query
        entries = list(guild.audit_log)
        if "user_id" in query:
            entries = [e for e in entries if e.user_id == int(query["user_id"])]
        if "action_type" in query:
            entries = [e for e in entries if e.action_type == int(query["action_type"])]
        if "before" in query:
            entries = [e for e in entries if e.id < int(query["before"])]
        limit = max(1, min(int(query.get("limit", 50)), 100))
        if "after" in query and "before" not in query:
            entries = sorted((e for e in entries if e.id > int(query["after"])), key=lambda e: e.id)[:limit]
        else:
            if "after" in query:
                entries = [e for e in entries if e.id > int(query["after"])]
            entries = sorted(entries, key=lambda e: e.id, reverse=True)[:limit]
        user_ids = {e.user_id for e in entries} | {e.target_id for e in entries}
        users = [self.emu.users[u].to_json() for u in user_ids if u in self.emu.users]
        body: Json = {
            "audit_log_entries": [e.to_json() for e in entries],
            "users": users,
            "webhooks": [],
            "integrations": [],
            "threads": [],
            "guild_scheduled_events": [],
            "application_commands": [],
            "auto_moderation_rules": [],
        }
        return json_response(body)
