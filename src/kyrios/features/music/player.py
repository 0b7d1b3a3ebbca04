"""One guild's player: it asks the queue what to play, gets a stream, hands an audio source to the
voice connection, and moves on when the source ends. No discord.py here: the voice connection and
the audio sources are ports (the cog gives discord.py's `VoiceClient` and FFmpeg sources).

A source that cannot be resolved, or ends in an FFmpeg error or without a single frame, is
resolved once more (stream URLs expire; loop track plays one for hours) and then reported in the
text channel and skipped: the queue never stalls. Everything that changes the player runs
under one lock per guild, commands and ends of tracks alike, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict, DomainError
from kyrios.core.i18n import N_, Translator
from kyrios.core.rng import RandomSource
from kyrios.features.guild_settings.service import guild_translator
from kyrios.features.music import service
from kyrios.features.music.models import LoopMode, MusicSession, MusicTrack
from kyrios.features.music.resolver import Resolver

log = logging.getLogger(__name__)

FRESH_FOR = timedelta(seconds=60)
"""A stream URL expiring sooner than this is resolved again before it plays."""
NOW_PLAYING = N_("🎶 Now playing **{title}** ({length}), requested by <@{user}>.")
SKIPPED = N_("⚠️ Skipped **{title}**: {reason}")
QUEUE_ENDED = N_("⏹️ The queue has ended.")
ALL_FAILED = N_("⚠️ Stopped: none of the queued tracks could be played.")


class AudioOut(Protocol):
    """A playing source, as the player sees it."""

    volume: float

    @property
    def played_seconds(self) -> float:
        """How much audio it has given so far."""

    @property
    def failed(self) -> bool:
        """Whether its reader ended with an error (FFmpeg could not open or lost the stream)."""


class Voice(Protocol):
    """What the player needs of a voice connection (discord.py's `VoiceClient` fits)."""

    def play(self, source: Any, *, after: Callable[[Exception | None], Any]) -> None:
        """Start `source`; `after` is called (from another thread) once it ends or is stopped."""

    def stop(self) -> None:
        """Stop the current source (its `after` still runs)."""

    def pause(self) -> None:
        """Pause sending audio."""

    def resume(self) -> None:
        """Resume sending audio."""

    def is_connected(self) -> bool:
        """Whether it is still in a voice channel."""


SourceFactory = Callable[[str, float, float], AudioOut]
"""`(stream_url, offset_seconds, volume)` → a source ready to play (FFmpeg, in the cog)."""
Say = Callable[[int, str], Awaitable[None]]
"""`(channel_id, text)`: post in the session's text channel."""


@dataclass
class GuildPlayer:
    """The player of one guild. `voice` is None while it is not connected."""

    guild_id: int
    db: Database
    clock: Clock
    resolver: Resolver
    make_source: SourceFactory
    say: Say
    voice: Voice | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    source: AudioOut | None = None
    playing: MusicTrack | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    """Set whenever the queue has run out (tests wait on it)."""
    on_idle: Callable[[], Awaitable[None]] | None = None
    """Called when the queue has run out (the stage starts its idle timer)."""
    _generation: int = 0
    _started_at: float = 0.0
    _fresh: bool = False
    _loop: asyncio.AbstractEventLoop | None = None

    async def _run(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        return await self.db.run(work)

    async def _audience(self) -> tuple[int | None, Translator]:
        """The session's text channel and the guild's language."""
        now = self.clock.now()
        async with self.db.read() as session:
            row = await service.find(session, self.guild_id)
            translator = await guild_translator(session, self.guild_id, now=now)
        return (None if row is None else row.text_channel_id), translator

    async def _post(self, channel: int | None, text: str) -> None:
        if channel is None:
            return
        try:
            await self.say(channel, text)
        except Exception:  # telling is best effort: the music goes on
            log.warning(
                "music: could not post in channel %s of guild %s", channel, self.guild_id, exc_info=True
            )

    async def _tell(self, message: str, **params: Any) -> None:
        channel, translator = await self._audience()
        await self._post(channel, translator.t(message, **params))

    # -- starting and advancing ---------------------------------------------------------------

    async def start(self) -> MusicTrack | None:
        """Play the current (or first) track unless something plays already."""
        async with self.lock:
            if self.playing is not None:
                return self.playing
            now = self.clock.now()
            track = await self._run(lambda s: service.begin(s, self.guild_id, now))
            return await self._play_from(track, offset=await self._resume_offset(track))

    async def _resume_offset(self, track: MusicTrack | None) -> float:
        """Where a resumed queue's current track stopped (0 for a new one)."""
        if track is None:
            return 0.0
        async with self.db.read() as session:
            row = await service.find(session, self.guild_id)
        if row is None or row.current_track_id != track.id:
            return 0.0
        return service.elapsed_seconds(row, self.clock.now())

    async def _play_from(self, track: MusicTrack | None, *, offset: float = 0.0) -> MusicTrack | None:
        """Play `track`, or the next playable one after it; None once the queue is over.
        The caller holds the lock."""
        failures = 0
        while track is not None:
            if self.voice is None or not self.voice.is_connected():
                self.playing = self.source = None  # gone from voice: the queue waits for a resume
                return None
            try:
                await self._play(track, offset=offset)
                return track
            except DomainError as problem:
                failures += 1
                await self._report(track, problem)
                offset = 0.0
                if failures >= await self._queue_length() + 1:  # every track failed (loop queue)
                    await self._run(lambda s: service.clear(s, self.guild_id, self.clock.now()))
                    await self._tell(ALL_FAILED)
                    break
                track = await self._run(
                    lambda s: service.advance(s, self.guild_id, self.clock.now(), skip=True)
                )
        self.playing = None
        self.source = None
        if failures == 0:
            await self._tell(QUEUE_ENDED)
        self.ended.set()
        if self.on_idle is not None:
            await self.on_idle()
        return None

    async def _queue_length(self) -> int:
        async with self.db.read() as session:
            return len(await service.tracks(session, self.guild_id))

    async def _report(self, track: MusicTrack, problem: DomainError) -> None:
        log.info("music: skipping track %s of guild %s: %s", track.id, self.guild_id, problem.message)
        channel, translator = await self._audience()
        await self._post(channel, translator.t(SKIPPED, title=track.title, reason=problem.render(translator)))

    async def _stream_url(self, track: MusicTrack, *, fresh: bool) -> str:
        """The track's stream URL, resolved again when it is missing, about to expire, or `fresh`."""
        now = self.clock.now()
        expires = track.stream_expires_at
        if not fresh and track.stream_url and (expires is None or expires - now > FRESH_FOR):
            return track.stream_url
        info = await self.resolver.stream(track.webpage_url)
        assert info.stream_url is not None
        url, until, track_id = info.stream_url, info.stream_expires_at, track.id
        await self._run(lambda s: service.remember_stream(s, track_id, url, until))
        track.stream_url, track.stream_expires_at = url, until
        return url

    async def _play(self, track: MusicTrack, *, offset: float, fresh: bool = False) -> None:
        """Hand `track` to the voice connection from `offset` seconds. Caller holds the lock."""
        if self.voice is None or not self.voice.is_connected():
            raise Conflict("I am not connected to a voice channel.")
        url = await self._stream_url(track, fresh=fresh)
        async with self.db.read() as session:
            row = await service.find(session, self.guild_id)
        volume = (row.volume if row is not None else 100) / 100
        source = self.make_source(url, offset, volume)
        self._generation += 1
        generation = self._generation
        self._loop = asyncio.get_running_loop()
        self.source, self.playing = source, track
        self._started_at = offset
        self._fresh = fresh
        self.ended.clear()
        self.voice.play(source, after=lambda error: self._after(generation, error))
        now = self.clock.now()
        await self._run(lambda s: service.playing_from(s, self.guild_id, offset, now))
        if offset == 0:
            length = service.clock_text(track.duration_seconds)
            await self._tell(NOW_PLAYING, title=track.title, length=length, user=track.requester_id)

    def _after(self, generation: int, error: Exception | None) -> None:
        """discord.py's `after`, called from its player thread: hand the end over to the loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._source_ended(generation, error), loop)

    async def _source_ended(self, generation: int, error: Exception | None) -> None:
        try:
            await self._advance_after(generation, error)
        except Exception:  # nobody awaits this: say it in the log, and let the next command recover
            log.exception("music: moving on after a track failed in guild %s", self.guild_id)

    async def _advance_after(self, generation: int, error: Exception | None) -> None:
        async with self.lock:
            if generation != self._generation or self.playing is None:
                return  # a skip, seek or stop replaced this source: its end is already handled
            if self.voice is None or not self.voice.is_connected():
                self.playing = self.source = None  # disconnected: the queue waits for a resume
                return
            track, source = self.playing, self.source
            played = 0.0 if source is None else source.played_seconds
            died = error is not None or source is None or source.failed or played == 0
            if died and not self._fresh:
                try:  # an expired stream URL is the usual cause: once more with a fresh one
                    await self._play(track, offset=self._started_at + played, fresh=True)
                    return
                except DomainError as problem:
                    await self._report(track, problem)
            elif died:
                await self._report(track, Conflict("The stream could not be played."))
            now = self.clock.now()
            following = await self._run(lambda s: service.advance(s, self.guild_id, now, skip=died))
            self.playing = None
            await self._play_from(following)

    # -- what commands do ------------------------------------------------------------------------

    def _silence(self) -> None:
        """Stop the source without its end counting as a track end."""
        self._generation += 1
        if self.voice is not None:
            self.voice.stop()

    async def skip(self) -> MusicTrack | None:
        """Move on to the next track now (loop track too); returns what plays next."""
        async with self.lock:
            self._silence()
            now = self.clock.now()
            following = await self._run(lambda s: service.advance(s, self.guild_id, now, skip=True))
            self.playing = None
            return await self._play_from(following)

    async def seek(self, seconds: int) -> None:
        """Play the current track from `seconds`."""
        async with self.lock:
            now = self.clock.now()
            track = await self._run(lambda s: service.seek(s, self.guild_id, seconds, now))
            self._silence()
            await self._play(track, offset=float(seconds))

    async def pause(self) -> None:
        """Pause the audio (the session remembers where)."""
        async with self.lock:
            now = self.clock.now()
            await self._run(lambda s: service.set_paused(s, self.guild_id, True, now))
            if self.voice is not None:
                self.voice.pause()

    async def resume(self) -> None:
        """Resume after a pause."""
        async with self.lock:
            now = self.clock.now()
            await self._run(lambda s: service.set_paused(s, self.guild_id, False, now))
            if self.voice is not None:
                self.voice.resume()

    async def set_volume(self, percent: int) -> None:
        """Change the volume of what plays now and of what follows."""
        async with self.lock:
            now = self.clock.now()
            await self._run(lambda s: service.set_volume(s, self.guild_id, percent, now))
            if self.source is not None:
                self.source.volume = percent / 100

    async def stop(self) -> int:
        """Empty the queue and stop playing; returns how many tracks were removed."""
        async with self.lock:
            self._silence()
            self.playing = self.source = None
            now = self.clock.now()
            removed: int = await self._run(lambda s: service.clear(s, self.guild_id, now))
            self.ended.set()
            return removed

    async def detach(self) -> MusicSession:
        """The voice connection is gone (left, moved away, kicked): keep the queue for a resume."""
        async with self.lock:
            self._silence()
            # The audio the source gave, not the wall clock: the voice connection may have been gone
            # for a while before Discord told us, and nothing was heard meanwhile.
            source = self.source
            position = None if source is None else self._started_at + source.played_seconds
            self.voice = None
            self.playing = self.source = None
            now = self.clock.now()
            row: MusicSession = await self._run(
                lambda s: service.disconnected(s, self.guild_id, now, position=position)
            )
            return row

    async def shuffle(self, rng: RandomSource) -> int:
        """Shuffle the waiting tracks."""
        async with self.lock:
            now = self.clock.now()
            shuffled: int = await self._run(lambda s: service.shuffle(s, self.guild_id, rng, now))
            return shuffled

    async def set_loop(self, mode: LoopMode) -> None:
        """Change the loop mode (the next end of a track follows it)."""
        async with self.lock:
            now = self.clock.now()
            await self._run(lambda s: service.set_loop(s, self.guild_id, mode, now))
