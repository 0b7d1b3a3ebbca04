"""Voice-state routes: `/guilds/{guild_id}/voice-states/@me` and `/…/{user_id}` (read; stage suppress)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from kyrios.testing.emulator.events import UNSET, Unset
from kyrios.testing.emulator.models import ChannelType, utcnow
from kyrios.testing.emulator.rest import RouteBase, json_response, no_content
from kyrios.testing.emulator.state import ApiError
from kyrios.testing.emulator.voice_state import VoiceState


class VoiceRoutes(RouteBase):
    """GET answers a member's voice state; PATCH works on stage channels only, as on Discord."""

    async def get_my_voice_state(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/voice-states/@me."""
        return self._voice_state(request, self.emu.bot_user.id)

    async def get_voice_state(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/voice-states/{user_id}."""
        return self._voice_state(request, self.snowflake_arg(request, "user_id"))

    def _voice_state(self, request: web.Request, user_id: int) -> web.Response:
        guild_id = self.snowflake_arg(request, "guild_id")
        self.emu.guild(guild_id)
        if self.emu.voice_of(guild_id, user_id) is None:
            raise ApiError(404, 10065, "Unknown Voice State")
        return json_response(self.emu.voice_json(guild_id, user_id))

    async def edit_my_voice_state(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/voice-states/@me: suppress (unsuppressing needs MUTE_MEMBERS) and
        request_to_speak_timestamp (setting one needs REQUEST_TO_SPEAK) on the stage the bot is in."""
        guild_id = self.snowflake_arg(request, "guild_id")
        body = self.body(request)
        self._stage_state(guild_id, self.emu.bot_user.id, body)
        if body.get("suppress") is False:
            self.emu.require(guild_id, "mute_members")
        raw = body.get("request_to_speak_timestamp")
        if raw is not None:
            self.emu.require(guild_id, "request_to_speak")
        request_to_speak: datetime | Unset | None = UNSET
        if "request_to_speak_timestamp" in body:
            request_to_speak = datetime.fromisoformat(raw) if raw else None
        await self.emu.edit_stage_voice(
            guild_id, self.emu.bot_user.id, suppress=body.get("suppress"), request_to_speak=request_to_speak
        )
        return no_content()

    async def edit_voice_state(self, request: web.Request) -> web.Response:
        """PATCH /guilds/{id}/voice-states/{user_id}: (un)suppress a member on a stage (MUTE_MEMBERS).
        Unsuppressing a human also stamps its request to speak; suppressing clears it."""
        guild_id, user_id = self.snowflake_arg(request, "guild_id"), self.snowflake_arg(request, "user_id")
        body = self.body(request)
        self._stage_state(guild_id, user_id, body)
        self.emu.require(guild_id, "mute_members")
        suppress = body.get("suppress")
        stamp: datetime | Unset | None = UNSET
        if suppress is not None:
            stamp = None if suppress or self.emu.user(user_id).bot else utcnow()
        await self.emu.edit_stage_voice(guild_id, user_id, suppress=suppress, request_to_speak=stamp)
        return no_content()

    def _stage_state(self, guild_id: int, user_id: int, body: dict[str, object]) -> VoiceState:
        self.emu.member(guild_id, user_id)
        state = self.emu.voice_of(guild_id, user_id)
        if state is None:
            raise ApiError(404, 10065, "Unknown Voice State")
        channel = self.emu.channel(int(str(body.get("channel_id") or state.channel_id)))
        if channel.type != ChannelType.STAGE_VOICE:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if channel.id != state.channel_id:
            raise ApiError(400, 50035, "Invalid Form Body (channel_id: the user is not in this channel)")
        return state
