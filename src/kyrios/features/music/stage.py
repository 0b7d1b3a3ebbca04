"""The music stage: every guild's player in this process, and the voice door they play through.

The gateway's cog builds one (`Registry.adapters["music"]`) with a `VoiceDoor` over discord.py;
commands find it in `ctx.adapters`. A process without a gateway connection has none, and the
commands that need voice say so. The stage also keeps the idle timers: a player alone in its
channel, or with nothing left to play, leaves after the guild's idle time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict
from kyrios.features.music import service
from kyrios.features.music.player import GuildPlayer, Say, SourceFactory, Voice
from kyrios.features.music.resolver import Resolver

log = logging.getLogger(__name__)
ADAPTER = "music"
"""The key of the stage in `Registry.adapters`."""
UNAVAILABLE = "ffmpeg-missing"
"""What the cog puts there instead of a stage when FFmpeg is missing."""


class VoiceDoor(Protocol):
    """What the stage needs of the gateway: who is in which voice channel, and joining one."""

    def channel_of(self, guild_id: int, user_id: int) -> int | None:
        """The voice channel the member is in (None: none)."""

    def listeners(self, guild_id: int, channel_id: int) -> list[int]:
        """The members (bots left out) in a voice channel."""

    async def join(self, guild_id: int, channel_id: int) -> Voice:
        """Connect to (or move to) a voice channel."""

    async def leave(self, guild_id: int) -> None:
        """Disconnect from the guild's voice channel, if connected."""


@dataclass
class MusicStage:
    """The players of this process, by guild."""

    db: Database
    clock: Clock
    resolver: Resolver
    make_source: SourceFactory
    say: Say
    door: VoiceDoor
    players: dict[int, GuildPlayer] = field(default_factory=dict)
    idle: dict[int, asyncio.Task[None]] = field(default_factory=dict)

    def player(self, guild_id: int) -> GuildPlayer:
        """The guild's player (created on first use)."""
        found = self.players.get(guild_id)
        if found is None:
            found = GuildPlayer(guild_id, self.db, self.clock, self.resolver, self.make_source, self.say)
            found.on_idle = lambda: self.start_idle(guild_id)
            self.players[guild_id] = found
        return found

    def connected(self, guild_id: int) -> GuildPlayer | None:
        """The guild's player if it is in a voice channel."""
        found = self.players.get(guild_id)
        if found is None or found.voice is None or not found.voice.is_connected():
            return None
        return found

    def require(self, guild_id: int) -> GuildPlayer:
        """The connected player, or a clear refusal."""
        found = self.connected(guild_id)
        if found is None:
            raise Conflict("I am not in a voice channel here. Start with /play.")
        return found

    async def join(self, guild_id: int, user_id: int, text_channel_id: int | None) -> GuildPlayer:
        """Be in the member's voice channel: join it, or stay where others already listen."""
        channel = self.door.channel_of(guild_id, user_id)
        if channel is None:
            raise Conflict("Join a voice channel first, then use /play.")
        self.cancel_idle(guild_id)
        found = self.player(guild_id)
        where = await self.db.run(lambda s: service.lock(s, guild_id, self.clock.now()))
        if found.voice is not None and found.voice.is_connected():
            if where.voice_channel_id == channel:
                return found
            if self.door.listeners(guild_id, where.voice_channel_id or 0):
                raise Conflict("I am playing in <#{channel}>; join me there.", channel=where.voice_channel_id)
        found.voice = await self.door.join(guild_id, channel)
        now = self.clock.now()
        await self.db.run(
            lambda s: service.connect(
                s, guild_id, voice_channel_id=channel, text_channel_id=text_channel_id, now=now
            )
        )
        return found

    async def leave(self, guild_id: int) -> None:
        """Stop playing here and leave the voice channel; the queue stays for a resume."""
        self.cancel_idle(guild_id)
        found = self.players.get(guild_id)
        if found is not None:
            await found.detach()
        await self.door.leave(guild_id)

    async def voice_lost(self, guild_id: int) -> None:
        """The bot was disconnected (kicked, channel deleted): record it, without leaving again."""
        self.cancel_idle(guild_id)
        found = self.players.get(guild_id)
        if found is not None:
            await found.detach()
        else:
            await self.db.run(lambda s: service.disconnected(s, guild_id, self.clock.now()))

    async def voice_moved(self, guild_id: int, channel_id: int) -> None:
        """The bot was moved to another voice channel: the session follows."""
        now = self.clock.now()
        await self.db.run(
            lambda s: service.connect(s, guild_id, voice_channel_id=channel_id, text_channel_id=None, now=now)
        )
        await self.check_alone(guild_id, channel_id)

    async def check_alone(self, guild_id: int, channel_id: int) -> None:
        """Start the idle timer when nobody listens in the bot's channel; stop it when someone does."""
        if self.door.listeners(guild_id, channel_id):
            self.cancel_idle(guild_id)
        else:
            await self.start_idle(guild_id)

    async def start_idle(self, guild_id: int) -> None:
        """Leave after the guild's idle time, unless cancelled first."""
        if guild_id in self.idle:
            return
        async with self.db.read() as session:
            seconds = (await service.settings(session, guild_id)).idle_timeout_seconds
        self.idle[guild_id] = asyncio.create_task(self._leave_later(guild_id, seconds))

    def cancel_idle(self, guild_id: int) -> None:
        """Forget a running idle timer."""
        task = self.idle.pop(guild_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _leave_later(self, guild_id: int, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.idle.pop(guild_id, None)
        log.info("music: leaving guild %s after %s s idle", guild_id, seconds)
        try:
            await self.leave(guild_id)
        except Exception:
            log.exception("music: leaving guild %s after the idle time failed", guild_id)

    async def aclose(self) -> None:
        """Leave every channel (the queues stay in the database)."""
        for guild_id in list(self.players):
            try:
                await self.leave(guild_id)
            except Exception:
                log.warning("music: leaving guild %s at shutdown failed", guild_id, exc_info=True)


def stage_of(adapters: Any) -> MusicStage | None:
    """The music stage among a context's adapters (None where the door attached none)."""
    found = adapters.get(ADAPTER) if hasattr(adapters, "get") else None
    return found if isinstance(found, MusicStage) else None
