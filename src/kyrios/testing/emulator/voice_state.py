"""Voice states: who sits in which voice channel, the bot's own op 4 requests, moves, server mute/deafen.

The bot's op 4 (join) is answered as Discord does: VOICE_SERVER_UPDATE (a token for the emulator's voice
server, `VoiceServer`) to the asking session, and VOICE_STATE_UPDATE to the guild. Tests move simulated
users with `voice_state(...)`; REST moves and mutes go through `edit_voice` (PATCH member).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kyrios.testing.emulator.events import UNSET, EventSender, Unset
from kyrios.testing.emulator.models import AuditAction, ChannelType, Guild, Json, iso
from kyrios.testing.emulator.permissions import permission_value
from kyrios.testing.emulator.state import ApiError

if TYPE_CHECKING:
    from kyrios.testing.emulator.gateway import GatewaySession
    from kyrios.testing.emulator.voice_server import VoiceServer

VOICE_TYPES = (ChannelType.VOICE, ChannelType.STAGE_VOICE)


@dataclass
class VoiceState:
    """A member connected to a voice channel (server mute/deafen live on the member: `ServerVoiceFlags`)."""

    user_id: int
    channel_id: int
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False
    self_video: bool = False
    suppress: bool = False
    request_to_speak_timestamp: datetime | None = None


@dataclass
class ServerVoiceFlags:
    """A member's server mute and deafen: set by moderators, kept while the member is not in voice."""

    mute: bool = False
    deaf: bool = False


class VoiceEvents(EventSender):
    """Voice states of every guild, and the events that change them."""

    voice_server: VoiceServer

    def __init__(self) -> None:
        super().__init__()
        self.voice_states: dict[int, dict[int, VoiceState]] = {}
        self.voice_flags: dict[tuple[int, int], ServerVoiceFlags] = {}

    # lookups and JSON -------------------------------------------------------------------------------

    def voice_of(self, guild_id: int, user_id: int) -> VoiceState | None:
        """The member's voice state, None when not in voice."""
        return self.voice_states.get(guild_id, {}).get(user_id)

    def members_in(self, channel_id: int) -> list[int]:
        """Users connected to a voice channel."""
        guild_id = self.channel(channel_id).guild_id
        assert guild_id is not None
        return [u for u, v in self.voice_states.get(guild_id, {}).items() if v.channel_id == channel_id]

    def flags_of(self, guild_id: int, user_id: int) -> ServerVoiceFlags:
        """Server mute/deafen of a member (created on first use)."""
        return self.voice_flags.setdefault((guild_id, user_id), ServerVoiceFlags())

    def voice_json(self, guild_id: int, user_id: int, *, state: VoiceState | None = None) -> Json:
        """`VoiceStateResponse` (and the VOICE_STATE_UPDATE payload); `channel_id` null when not in voice."""
        state = state or self.voice_of(guild_id, user_id)
        flags = self.flags_of(guild_id, user_id)
        return {
            "guild_id": str(guild_id),
            "channel_id": str(state.channel_id) if state and state.channel_id else None,
            "user_id": str(user_id),
            "member": self.member_json(guild_id, user_id),
            "session_id": state.session_id if state else f"voice-{user_id}",
            "deaf": flags.deaf,
            "mute": flags.mute,
            "self_deaf": bool(state and state.self_deaf),
            "self_mute": bool(state and state.self_mute),
            "self_video": bool(state and state.self_video),
            "self_stream": False,
            "suppress": bool(state and state.suppress),
            "request_to_speak_timestamp": iso(state.request_to_speak_timestamp) if state else None,
        }

    def member_json(self, guild_id: int, user_id: int) -> Json:
        """`MemberWithUser`, with the member's server mute and deafen."""
        data = super().member_json(guild_id, user_id)
        flags = self.voice_flags.get((guild_id, user_id))
        if flags is not None:
            data.update(mute=flags.mute, deaf=flags.deaf)
        return data

    def guild_create_json(self, guild: Guild) -> Json:
        """GUILD_CREATE with the guild's voice states (Discord leaves out `guild_id` and `member` there)."""
        data = super().guild_create_json(guild)
        data["voice_states"] = [
            {k: v for k, v in self.voice_json(guild.id, u).items() if k not in ("guild_id", "member")}
            for u in self.voice_states.get(guild.id, {})
        ]
        return data

    # test-side changes ------------------------------------------------------------------------------

    async def voice_state(
        self,
        guild_id: int,
        user_id: int,
        channel_id: int | None,
        *,
        self_deaf: bool = False,
        self_mute: bool = False,
    ) -> None:
        """A member joins, moves in or leaves (`channel_id=None`) voice, or (un)deafens: VOICE_STATE_UPDATE
        (the bot disconnected this way also loses its voice connection, closed with 4014)."""
        self.member(guild_id, user_id)
        if channel_id is not None:
            self._voice_channel(guild_id, channel_id)
        current = self.voice_of(guild_id, user_id)
        session_id = current.session_id if current else f"voice-{user_id}"
        new = (
            VoiceState(user_id, channel_id, session_id, self_mute=self_mute, self_deaf=self_deaf)
            if channel_id is not None
            else None
        )
        if (
            new is not None
            and current is not None
            and current.channel_id != channel_id
            and user_id == self.bot_user.id
        ):
            await self._move_bot(guild_id, new)
            return
        await self._set_voice(guild_id, user_id, new)
        if new is None and user_id == self.bot_user.id:  # the bot was disconnected by someone else
            await self._drop_bot_voice(guild_id)

    async def _set_voice(self, guild_id: int, user_id: int, state: VoiceState | None) -> None:
        guild_states = self.voice_states.setdefault(guild_id, {})
        previous = guild_states.pop(user_id, None)
        if state is not None:
            guild_states[user_id] = state
        left = state or (VoiceState(user_id, 0, previous.session_id) if previous else None)
        data = self.voice_json(guild_id, user_id, state=left)
        await self.dispatch("VOICE_STATE_UPDATE", data, guild_id=guild_id)

    def _voice_channel(self, guild_id: int, channel_id: int) -> int:
        channel = self.channel(channel_id)
        if channel.guild_id != guild_id or channel.type not in VOICE_TYPES:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return channel_id

    # the bot's op 4 -----------------------------------------------------------------------------------

    async def on_voice_state_request(self, session: GatewaySession, data: Json) -> None:
        """Main-gateway op 4 from the bot: join, move, change self mute/deaf, or leave (`channel_id` null).

        Like Discord, a request the bot may not make (unknown guild, not a voice channel, no CONNECT)
        gets no answer at all: discord.py then times out.
        """
        guild_id = int(data["guild_id"])
        bot_id = self.bot_user.id
        if guild_id not in self.guilds or bot_id not in self.guilds[guild_id].members:
            return
        current = self.voice_of(guild_id, bot_id)
        if data.get("channel_id") is None:
            if current is not None:
                await self._set_voice(guild_id, bot_id, None)
            return
        channel_id = int(data["channel_id"])
        channel = self.guilds[guild_id].channels.get(channel_id)
        allowed = self.permissions_for(guild_id, bot_id, channel_id) if channel else 0
        if channel is None or channel.type not in VOICE_TYPES or not allowed & permission_value("connect"):
            return
        state = VoiceState(
            bot_id,
            channel_id,
            session.id,
            self_mute=bool(data.get("self_mute")),
            self_deaf=bool(data.get("self_deaf")),
            suppress=channel.type == ChannelType.STAGE_VOICE,
        )
        if current is not None and current.channel_id != channel_id:
            await self._move_bot(guild_id, state)
            return
        if current is None or current == state or current.session_id != session.id:
            # a join, a repeated one (discord.py's voice resume) or one from a new gateway session (a
            # restarted bot still listed in voice): a voice server first, then the state; a change of
            # self mute/deaf alone gets only the state
            await self._offer_voice_server(guild_id, session.id)
        await self._set_voice(guild_id, bot_id, state)

    async def _offer_voice_server(self, guild_id: int, session_id: str) -> None:
        """VOICE_SERVER_UPDATE with a fresh token to the bot's gateway session (if it is still there)."""
        session = self.gateway.sessions.get(session_id)
        if session is None:
            return
        token = self.voice_server.grant(guild_id, self.bot_user.id, session_id)
        server = {"token": token, "guild_id": str(guild_id), "endpoint": self.voice_server.endpoint}
        await self.gateway.send_to(session, "VOICE_SERVER_UPDATE", server)

    async def _move_bot(self, guild_id: int, state: VoiceState) -> None:
        """The bot changes channel (by itself or moved): the new state, a new voice server, and the old
        voice session ends with 4014; discord.py then IDENTIFIES on a new WebSocket. The state must come
        first: discord.py forgets the new channel when it arrives after the voice server."""
        await self._set_voice(guild_id, self.bot_user.id, state)
        await self._offer_voice_server(guild_id, state.session_id)
        await self._drop_bot_voice(guild_id)

    # moderation (PATCH /guilds/{id}/members/{id}) ------------------------------------------------------

    def check_voice_edit(self, guild_id: int, user_id: int, body: Json) -> None:
        """Refuse a member edit's `channel_id`/`mute`/`deaf` as Discord would, before anything changes."""
        if "channel_id" in body:
            self.require(guild_id, "move_members")
            if self.voice_of(guild_id, user_id) is None:
                raise ApiError(400, 40032, "Target user is not connected to voice.")
            if body["channel_id"] is not None:
                target = self._voice_channel(guild_id, int(body["channel_id"]))
                self.require(guild_id, "connect", channel_id=target)
        if "mute" in body:
            self.require(guild_id, "mute_members")
        if "deaf" in body:
            self.require(guild_id, "deafen_members")

    async def edit_voice(
        self,
        guild_id: int,
        user_id: int,
        *,
        channel_id: int | Unset | None = UNSET,
        mute: bool | None = None,
        deaf: bool | None = None,
        moderator_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Move (`channel_id`; None disconnects), server-mute or server-deafen a member:
        VOICE_STATE_UPDATE, and a MEMBER_UPDATE audit entry for mute/deafen by `moderator_id`."""
        flags, current = self.flags_of(guild_id, user_id), self.voice_of(guild_id, user_id)
        changes = [
            {"key": key, "old_value": getattr(flags, key), "new_value": value}
            for key, value in (("mute", mute), ("deaf", deaf))
            if value is not None and value != getattr(flags, key)
        ]
        flags.mute = flags.mute if mute is None else mute
        flags.deaf = flags.deaf if deaf is None else deaf
        if moderator_id is not None and changes:
            await self.add_audit_entry(
                guild_id, AuditAction.MEMBER_UPDATE, moderator_id, user_id, reason=reason, changes=changes
            )
        if isinstance(channel_id, Unset):
            if current is not None and changes:
                await self._set_voice(guild_id, user_id, current)
            return
        if channel_id is None:
            await self._set_voice(guild_id, user_id, None)
            if user_id == self.bot_user.id:  # Discord then drops the bot's voice connection too
                await self._drop_bot_voice(guild_id)
        elif current is not None:
            moved = VoiceState(**{**vars(current), "channel_id": channel_id})
            if user_id == self.bot_user.id:
                await self._move_bot(guild_id, moved)
            else:
                await self._set_voice(guild_id, user_id, moved)

    async def _drop_bot_voice(self, guild_id: int) -> None:
        with contextlib.suppress(KeyError):  # it never connected
            await self.voice_server.close_connection(guild_id, code=4014)

    # stage voice states (PATCH /guilds/{id}/voice-states/…) -------------------------------------------

    async def edit_stage_voice(
        self,
        guild_id: int,
        user_id: int,
        *,
        suppress: bool | None = None,
        request_to_speak: datetime | Unset | None = UNSET,
    ) -> None:
        """Suppress/unsuppress a member on a stage, or set its request to speak: VOICE_STATE_UPDATE."""
        current = self.voice_of(guild_id, user_id)
        assert current is not None
        if suppress is not None:
            current.suppress = suppress
        if not isinstance(request_to_speak, Unset):
            current.request_to_speak_timestamp = request_to_speak
        await self._set_voice(guild_id, user_id, current)
