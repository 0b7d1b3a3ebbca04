"""Role routes: create, read, edit, delete and reorder roles; reorder channels (`channel.move()`)."""

from __future__ import annotations

from aiohttp import web

from kyrios.testing.emulator.models import AuditAction, Json, Role
from kyrios.testing.emulator.rest import IN_FLIGHT, Handler, RouteBase, json_response, no_content
from kyrios.testing.emulator.state import ADMINISTRATOR, ApiError

MAX_ROLES = 250
MAX_ROLE_NAME = 100
MAX_COLOR = 0xFFFFFF
ROLE_FIELDS = ("name", "permissions", "color", "hoist", "mentionable")


class RoleRoutes(RouteBase):
    """`/guilds/{guild_id}/roles…` (channel positions: `GuildRoutes.move_channels`)."""

    def role_routes(self) -> list[tuple[str, str, Handler]]:
        """The (method, path, handler) rows of this group."""
        guild = "/guilds/{guild_id:\\d+}"
        role = f"{guild}/roles/{{role_id:\\d+}}"
        return [
            ("POST", f"{guild}/roles", self.create_role),
            ("PATCH", f"{guild}/roles", self.move_roles),
            ("GET", role, self.get_role),
            ("PATCH", role, self.edit_role),
            ("DELETE", role, self.delete_role),
        ]

    def _checked_fields(self, guild_id: int, body: Json) -> Json:
        """The role attributes of a create/edit body, with Discord's limits: 400 50035 for a bad name or
        colour, 403 50013 for a permission the bot does not hold itself."""
        changes = {key: body[key] for key in ROLE_FIELDS if body.get(key) is not None}
        if isinstance(body.get("colors"), dict):  # what discord.py 2.6+ sends instead of `color`
            changes["color"] = body["colors"].get("primary_color") or 0
        if "name" in changes and not 1 <= len(str(changes["name"])) <= MAX_ROLE_NAME:
            raise ApiError(400, 50035, "Invalid Form Body (name: Must be between 1 and 100 in length.)")
        if "color" in changes and not 0 <= int(changes["color"]) <= MAX_COLOR:
            raise ApiError(400, 50035, "Invalid Form Body (color: int value should be <= 16777215.)")
        if "permissions" in changes:
            changes["permissions"] = int(changes["permissions"])
            held = self.emu.permissions_for(guild_id, self.emu.bot_user.id)
            if not held & ADMINISTRATOR and changes["permissions"] & ~held:
                raise ApiError(403, 50013, "Missing Permissions")
        return changes

    async def create_role(self, request: web.Request) -> web.Response:
        """POST /guilds/{id}/roles: a role at the bottom (position 1); GUILD_ROLE_CREATE."""
        guild_id = self.snowflake_arg(request, "guild_id")
        self.emu.require(guild_id, "manage_roles")
        if len(self.emu.guild(guild_id).roles) >= MAX_ROLES:
            raise ApiError(400, 30005, "Maximum number of guild roles reached (250)")
        changes = self._checked_fields(guild_id, self.body(request))
        before = self._positions(guild_id)
        role = self.emu.add_role(guild_id, str(changes.pop("name", "new role")))
        for key, value in changes.items():
            setattr(role, key, value)
        await self._log_role(guild_id, AuditAction.ROLE_CREATE, role, request)
        await self.emu.dispatch("GUILD_ROLE_CREATE", role_event(guild_id, role), guild_id=guild_id)
        await self._announce_moves(guild_id, before)
        return json_response(role.to_json())

    def _positions(self, guild_id: int) -> dict[int, int]:
        return {r.id: r.position for r in self.emu.guild(guild_id).roles.values()}

    async def _announce_moves(self, guild_id: int, before: dict[int, int]) -> None:
        """GUILD_ROLE_UPDATE for every role a create, delete or reorder shifted (Discord sends them too)."""
        for role in self.emu.guild(guild_id).roles.values():
            if role.id in before and role.position != before[role.id]:
                await self.emu.dispatch("GUILD_ROLE_UPDATE", role_event(guild_id, role), guild_id=guild_id)

    async def get_role(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles/{role_id}."""
        guild_id = self.snowflake_arg(request, "guild_id")
        return json_response(self.emu.role(guild_id, self.snowflake_arg(request, "role_id")).to_json())

    async def edit_role(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/roles/{role_id}: name, permissions, color, hoist, mentionable (only below the
        bot's highest role); GUILD_ROLE_UPDATE."""
        guild_id = self.snowflake_arg(request, "guild_id")
        role = self.emu.role(guild_id, self.snowflake_arg(request, "role_id"))
        self.emu.require(guild_id, "manage_roles")
        if role.id != guild_id:  # @everyone's permissions may be edited, it is below every role
            self.emu.require_above_role(guild_id, role)
        changes = self._checked_fields(guild_id, self.body(request))
        await self._log_role(guild_id, AuditAction.ROLE_UPDATE, role, request)
        await self.emu.update_role(guild_id, role.id, **changes)
        return json_response(role.to_json())

    async def delete_role(self, request: web.Request) -> web.Response:
        """DELETE /guilds/{id}/roles/{role_id}: members lose it; GUILD_ROLE_DELETE."""
        guild_id = self.snowflake_arg(request, "guild_id")
        role = self.emu.role(guild_id, self.snowflake_arg(request, "role_id"))
        self.emu.require(guild_id, "manage_roles")
        self.emu.require_above_role(guild_id, role)
        await self._log_role(guild_id, AuditAction.ROLE_DELETE, role, request)
        await self.emu.delete_role(guild_id, role.id)
        before = self._positions(guild_id)
        for other in self.emu.guild(guild_id).roles.values():
            if other.position > role.position:
                other.position -= 1
        await self._announce_moves(guild_id, before)
        return no_content()

    async def move_roles(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/roles [{id, position}]: what `Role.edit(position=)` sends. Positions are then
        renumbered 1..n (@everyone stays 0); GUILD_ROLE_UPDATE for each role that moved; answers all roles."""
        guild_id = self.snowflake_arg(request, "guild_id")
        guild = self.emu.guild(guild_id)
        self.emu.require(guild_id, "manage_roles")
        record = self.body_list(request)
        bot_top = self.emu.top_position(guild_id, self.emu.bot_user.id)
        wanted: dict[int, int] = {}
        for item in record:
            role = self.emu.role(guild_id, int(item["id"]))
            if role.id == guild_id:
                raise ApiError(400, 50035, "Invalid Form Body (@everyone cannot be moved)")
            self.emu.require_above_role(guild_id, role)
            position = int(item.get("position") or 0)
            if position >= bot_top and self.emu.bot_user.id != guild.owner_id:
                raise ApiError(403, 50013, "Missing Permissions")
            wanted[role.id] = position
        before = self._positions(guild_id)
        ranked = sorted(
            (r for r in guild.roles.values() if r.id != guild_id),
            key=lambda r: (wanted.get(r.id, r.position), r.id not in wanted),
        )
        for number, role in enumerate(ranked, start=1):
            role.position = number
        await self._announce_moves(guild_id, before)
        return json_response([r.to_json() for r in sorted(guild.roles.values(), key=lambda r: r.position)])

    @staticmethod
    def body_list(request: web.Request) -> list[Json]:
        """A JSON array body (400 50035 otherwise)."""
        body = IN_FLIGHT[id(request)][0].body
        if not isinstance(body, list) or not all(isinstance(item, dict) and "id" in item for item in body):
            raise ApiError(400, 50035, "Invalid Form Body (expected an array of {id, position})")
        return body

    async def _log_role(self, guild_id: int, action: int, role: Role, request: web.Request) -> None:
        await self.emu.add_audit_entry(
            guild_id, action, self.emu.bot_user.id, role.id, reason=self.reason(request)
        )


def role_event(guild_id: int, role: Role) -> Json:
    """GUILD_ROLE_CREATE / GUILD_ROLE_UPDATE data."""
    return {"guild_id": str(guild_id), "role": role.to_json()}
