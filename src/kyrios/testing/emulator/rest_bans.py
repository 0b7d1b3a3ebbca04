"""Ban routes: ban (with `delete_message_seconds`), unban, one ban, the ban list."""

from __future__ import annotations

from aiohttp import web

from kyrios.testing.emulator.rest import Handler, RouteBase, json_response, no_content
from kyrios.testing.emulator.state import ApiError

MAX_DELETE_SECONDS = 604_800  # seven days


class BanRoutes(RouteBase):
    """`/guilds/{guild_id}/bans…`: GUILD_BAN_ADD/REMOVE; a banned member leaves (GUILD_MEMBER_REMOVE)."""

    def ban_routes(self) -> list[tuple[str, str, Handler]]:
        """The (method, path, handler) rows of this group."""
        bans = "/guilds/{guild_id:\\d+}/bans"
        return [
            ("GET", bans, self.list_bans),
            ("GET", f"{bans}/{{user_id:\\d+}}", self.get_ban),
            ("PUT", f"{bans}/{{user_id:\\d+}}", self.ban),
            ("DELETE", f"{bans}/{{user_id:\\d+}}", self.unban),
        ]

    def _ban_ids(self, request: web.Request) -> tuple[int, int]:
        guild_id, user_id = self.snowflake_arg(request, "guild_id"), self.snowflake_arg(request, "user_id")
        self.emu.require(guild_id, "ban_members")
        return guild_id, user_id

    async def list_bans(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/bans?limit (1-1000, default 1000)&before|after (user ids), ascending user ids."""
        guild_id = self.snowflake_arg(request, "guild_id")
        self.emu.require(guild_id, "ban_members")
        bans = self.emu.guild(guild_id).bans
        ids = sorted(bans)
        query = request.query
        limit = max(1, min(int(query.get("limit", 1000)), 1000))
        if "before" in query:
            ids = [u for u in ids if u < int(query["before"])][-limit:]
        else:
            ids = [u for u in ids if u > int(query.get("after", 0))][:limit]
        return json_response([{"reason": bans[u], "user": self.emu.user(u).to_json()} for u in ids])

    async def get_ban(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/bans/{user_id} (404 10026 Unknown Ban)."""
        guild_id, user_id = self._ban_ids(request)
        bans = self.emu.guild(guild_id).bans
        if user_id not in bans:
            raise ApiError(404, 10026, "Unknown Ban")
        return json_response({"reason": bans[user_id], "user": self.emu.user(user_id).to_json()})

    async def ban(self, request: web.Request) -> web.Response:
        """PUT /guilds/{id}/bans/{user_id}?delete_message_seconds (0-604800; also read from a JSON body):
        the user's messages of that span are deleted (MESSAGE_DELETE_BULK per channel)."""
        guild_id, user_id = self._ban_ids(request)
        self.emu.user(user_id)
        body = self.body(request)
        seconds = int(request.query.get("delete_message_seconds", body.get("delete_message_seconds") or 0))
        if not 0 <= seconds <= MAX_DELETE_SECONDS:
            raise ApiError(400, 50035, "Invalid Form Body (delete_message_seconds: 0 to 604800)")
        if user_id in self.emu.guild(guild_id).members:
            self.emu.require_above_member(guild_id, user_id)
        await self.emu.ban_member(
            guild_id, user_id, moderator_id=self.emu.bot_user.id, reason=self.reason(request)
        )
        if seconds:
            await self.emu.purge_recent_messages(guild_id, user_id, seconds)
        return no_content()

    async def unban(self, request: web.Request) -> web.Response:
        """DELETE /guilds/{id}/bans/{user_id} (404 10026 when not banned)."""
        guild_id, user_id = self._ban_ids(request)
        if user_id not in self.emu.guild(guild_id).bans:
            raise ApiError(404, 10026, "Unknown Ban")
        reason = self.reason(request)
        await self.emu.unban_member(guild_id, user_id, moderator_id=self.emu.bot_user.id, reason=reason)
        return no_content()
