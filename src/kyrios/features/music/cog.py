"""The music slice in the bot process: FFmpeg sources, the voice door over discord.py, and the
listeners that keep sessions true (the bot moved, kicked, left alone; a restart's waiting queues).

FFmpeg reads the stream with reconnect options, so a long stream whose server drops a slow
reader (YouTube's CDN does) resumes instead of ending the track early.
"""

from __future__ import annotations

import io
import logging
import shutil
import socket
import subprocess
from typing import TYPE_CHECKING, cast

import discord
from discord.ext import commands

from kyrios.core.i18n import N_
from kyrios.features.guild_settings.service import guild_translator
from kyrios.features.music import service
from kyrios.features.music.player import AudioOut, SourceFactory, Voice
from kyrios.features.music.resolver import Resolver
from kyrios.features.music.stage import ADAPTER, UNAVAILABLE, MusicStage
from kyrios.slash.reply import Button, ButtonStyle, Reply

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot

log = logging.getLogger(__name__)

RECONNECT = "-reconnect 1 -reconnect_streamed 1 -reconnect_delay_max 5"
WAITING = N_("⏯️ I was restarted. **{n}** tracks are still queued here; press Resume to go on.")
FRAME_SECONDS = 0.02
EXIT_WAIT_SECONDS = 5.0


class CountedVolume(discord.PCMVolumeTransformer[discord.FFmpegPCMAudio]):
    """A volume-controlled FFmpeg source that counts the audio it gave (the player tells a source
    that could not open from one that played)."""

    def __init__(self, original: discord.FFmpegPCMAudio, volume: float) -> None:
        super().__init__(original, volume)
        self.frames = 0
        self.exit_code: int | None = None

    def read(self) -> bytes:
        """One 20 ms frame of PCM, counted; at the end, FFmpeg's exit code is kept."""
        data = super().read()
        if data:
            self.frames += 1
        elif self.exit_code is None:
            process = getattr(self.original, "_process", None)
            if isinstance(process, subprocess.Popen):
                try:
                    self.exit_code = process.wait(timeout=EXIT_WAIT_SECONDS)
                except subprocess.TimeoutExpired:
                    self.exit_code = None
        return data

    @property
    def failed(self) -> bool:
        """Whether FFmpeg ended with an error (it could not open the stream, or lost it)."""
        return self.exit_code not in (None, 0)

    @property
    def played_seconds(self) -> float:
        """The audio given so far."""
        return self.frames * FRAME_SECONDS

    def cleanup(self) -> None:
        """Stop FFmpeg and close its pipe (discord.py 2.7 leaves it open when FFmpeg already ended)."""
        pipe = getattr(self.original, "_stdout", None)
        super().cleanup()
        if isinstance(pipe, io.IOBase) and not pipe.closed:
            pipe.close()


def ffmpeg_sources(executable: str = "ffmpeg") -> SourceFactory:
    """Sources through FFmpeg: network streams with reconnects, any offset with `-ss`."""

    def make(url: str, offset: float, volume: float) -> AudioOut:
        before = [RECONNECT] if url.startswith(("http://", "https://")) else []
        if offset > 0:
            before.append(f"-ss {offset:.3f}")
        original = discord.FFmpegPCMAudio(
            url, executable=executable, before_options=" ".join(before) or None, options="-vn"
        )
        return CountedVolume(original, volume)

    return make


def udp_socket(client: discord.VoiceClient) -> socket.socket | None:
    """The voice client's UDP socket (discord.py keeps it on its private connection state)."""
    found = getattr(getattr(client, "_connection", None), "socket", None)
    return found if isinstance(found, socket.socket) else None


class GatewayVoice:
    """The `VoiceDoor` over discord.py's cache and voice clients."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot

    def channel_of(self, guild_id: int, user_id: int) -> int | None:
        """The member's voice channel."""
        guild = self.bot.get_guild(guild_id)
        member = None if guild is None else guild.get_member(user_id)
        if member is None or member.voice is None or member.voice.channel is None:
            return None
        return member.voice.channel.id

    def listeners(self, guild_id: int, channel_id: int) -> list[int]:
        """The people (no bots) in a voice channel."""
        guild = self.bot.get_guild(guild_id)
        channel = None if guild is None else guild.get_channel(channel_id)
        if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            return []
        return [member.id for member in channel.members if not member.bot]

    async def join(self, guild_id: int, channel_id: int) -> Voice:
        """Connect to the channel, or move there when already connected in the guild."""
        guild = self.bot.get_guild(guild_id)
        channel = None if guild is None else guild.get_channel(channel_id)
        if guild is None or not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            raise LookupError(f"voice channel {channel_id} of guild {guild_id} is not in the cache")
        current = guild.voice_client
        if isinstance(current, discord.VoiceClient) and current.is_connected():
            old = udp_socket(current)
            await current.move_to(channel)
            if old is not None and udp_socket(current) is not old:
                old.close()  # discord.py 2.7 opens a new UDP socket on its own move, leaking the old one
            return cast(Voice, current)
        client: discord.VoiceClient = await channel.connect(timeout=30.0, reconnect=True, self_deaf=True)
        return cast(Voice, client)

    async def leave(self, guild_id: int) -> None:
        """Disconnect in the guild."""
        guild = self.bot.get_guild(guild_id)
        if guild is not None and guild.voice_client is not None:
            await guild.voice_client.disconnect(force=False)


class Music(commands.Cog, name="music"):
    """Builds the music stage for the commands, and follows voice states."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot
        self._offered = False
        runtime = bot.runtime
        settings = runtime.settings
        self.stage: MusicStage | None = None
        if shutil.which(settings.ffmpeg) is None:
            log.error(
                "music: FFmpeg (%r) is not installed, so music is unavailable"
                " (Debian: apt-get install ffmpeg)",
                settings.ffmpeg,
            )
            return
        cookies = None if settings.music_cookies_file is None else str(settings.music_cookies_file)
        self.stage = MusicStage(
            runtime.db,
            runtime.clock,
            Resolver(cookies_file=cookies, timeout=settings.music_resolve_timeout_seconds),
            ffmpeg_sources(settings.ffmpeg),
            self._say,
            GatewayVoice(bot),
        )

    async def _say(self, channel_id: int, text: str) -> None:
        await self.bot.port.send_message(channel_id, Reply(content=text).to_message())

    async def cog_load(self) -> None:
        """Offer the stage to the commands."""
        self.bot.runtime.registry.adapters[ADAPTER] = self.stage if self.stage is not None else UNAVAILABLE

    async def cog_unload(self) -> None:
        """Leave every voice channel; the queues stay in the database."""
        self.bot.runtime.registry.adapters.pop(ADAPTER, None)
        if self.stage is not None:
            await self.stage.aclose()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """After a start nothing of this process is connected: offer each waiting queue of its
        guilds (a sharded deployment's other processes keep theirs) for a resume. Once: a later
        READY (a new gateway session) leaves the voice connections as they are."""
        if self._offered:
            return
        self._offered = True
        runtime = self.bot.runtime
        now = runtime.clock.now()
        guild_ids = [guild.id for guild in self.bot.guilds]
        waiting = await runtime.db.run(lambda s: service.forget_connections(s, guild_ids, now))
        for row in waiting:
            if row.text_channel_id is None:
                continue
            async with runtime.db.read() as session:
                count = len(await service.tracks(session, row.guild_id))
                translator = await guild_translator(session, row.guild_id, now=now)
            reply = Reply(
                content=translator.t(WAITING, n=count),
                buttons=[[Button(translator.t("Resume"), "music-resume", ButtonStyle.SUCCESS)]],
            )
            try:
                await self.bot.port.send_message(row.text_channel_id, reply.to_message())
            except Exception:
                log.warning("music: could not offer guild %s its queue", row.guild_id, exc_info=True)

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        """Follow the bot being moved or disconnected, and people leaving it alone."""
        stage = self.stage
        if stage is None:
            return
        guild_id = member.guild.id
        me = self.bot.user
        if me is not None and member.id == me.id:
            if after.channel is None:
                await stage.voice_lost(guild_id)
            elif before.channel is not None and before.channel.id != after.channel.id:
                await stage.voice_moved(guild_id, after.channel.id)
            return
        if stage.connected(guild_id) is None:
            return
        voice = member.guild.voice_client
        channel = getattr(voice, "channel", None)
        if channel is not None and channel.id in {
            getattr(before.channel, "id", None),
            getattr(after.channel, "id", None),
        }:
            await stage.check_alone(guild_id, channel.id)


async def setup(bot: KyriosBot) -> None:
    """Add the music cog."""
    await bot.add_cog(Music(bot))
