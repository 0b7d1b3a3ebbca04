"""The player with real FFmpeg sources (discord.py's `FFmpegPCMAudio` behind the cog's volume
source) read by a voice stand-in that runs discord.py's read loop in a thread, as `AudioPlayer`
does, minus the network: the audio each play produced is kept and measured."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kyrios.core.errors import Conflict
from kyrios.features.music import service
from kyrios.features.music.cog import ffmpeg_sources
from kyrios.features.music.models import LoopMode
from kyrios.features.music.player import GuildPlayer
from kyrios.features.music.resolver import Resolver
from kyrios.features.music.service import TrackInfo
from kyrios.runtime import Runtime
from tests.e2e.gateway_helpers import eventually
from tests.features.music_audio import audio_server, rms, tone

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None and not os.environ.get("KYRIOS_REQUIRE_SERVICES"),
    reason="FFmpeg is not installed (CI installs it and fails without it)",
)

GUILD, TEXT = 1, 6
BYTES_PER_SECOND = 48_000 * 2 * 2


@dataclass
class ReadLoopVoice:
    """A voice connection without a network: `play` reads the source frame by frame in a thread
    (paced like discord.py when `paced`), honours pause and stop, then calls `after`."""

    paced: bool = False
    connected: bool = True
    plays: list[bytearray] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _paused: threading.Event = field(default_factory=threading.Event)

    def play(self, source: Any, *, after: Callable[[Exception | None], Any]) -> None:
        stop = self._stop = threading.Event()
        received = bytearray()
        self.plays.append(received)

        def run() -> None:
            error: Exception | None = None
            try:
                while not stop.is_set():
                    if self._paused.is_set():
                        time.sleep(0.005)
                        continue
                    data = source.read()
                    if not data:
                        break
                    received.extend(data)
                    if self.paced:
                        time.sleep(0.02)
            except Exception as problem:
                error = problem
            finally:
                source.cleanup()
            after(error)

        threading.Thread(target=run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def is_connected(self) -> bool:
        return self.connected


@dataclass
class Harness:
    player: GuildPlayer
    voice: ReadLoopVoice
    said: list[str]
    base: str


@pytest.fixture
async def harness(runtime: Runtime) -> AsyncIterator[Harness]:
    files = {
        "low.wav": tone(1.5, frequency=440, amplitude=0.2),
        "high.wav": tone(1.2, frequency=880, amplitude=0.6),
    }
    said: list[str] = []

    async def say(channel: int, text: str) -> None:
        assert channel == TEXT
        said.append(text)

    async with audio_server(files) as base:
        voice = ReadLoopVoice()
        player = GuildPlayer(
            GUILD, runtime.db, runtime.clock, Resolver(timeout=20), ffmpeg_sources(), say, voice
        )
        now = runtime.clock.now()
        await runtime.db.run(
            lambda s: service.connect(s, GUILD, voice_channel_id=5, text_channel_id=TEXT, now=now)
        )
        yield Harness(player, voice, said, base)
        player._silence()


async def queue(rt: Runtime, *infos: TrackInfo) -> None:
    now = rt.clock.now()
    await rt.db.run(lambda s: service.add(s, GUILD, list(infos), requester_id=42, now=now))


def direct(base: str, name: str, seconds: int | None = None, *, stream: str | None = None) -> TrackInfo:
    return TrackInfo(title=name, webpage_url=f"{base}/{name}", duration_seconds=seconds, stream_url=stream)


def seconds(pcm: bytes | bytearray) -> float:
    return len(pcm) / BYTES_PER_SECOND


async def test_the_queue_plays_through_with_each_tracks_length_loudness_and_volume(
    runtime: Runtime, harness: Harness
) -> None:
    await queue(runtime, direct(harness.base, "low.wav"), direct(harness.base, "high.wav"))
    await harness.player.start()
    await asyncio.wait_for(harness.player.ended.wait(), 20)
    low, high = harness.voice.plays
    assert seconds(low) == pytest.approx(1.5, abs=0.05) and seconds(high) == pytest.approx(1.2, abs=0.05)
    assert rms(bytes(low)) == pytest.approx(0.2 / 2**0.5, rel=0.05)
    assert rms(bytes(high)) == pytest.approx(0.6 / 2**0.5, rel=0.05)
    assert harness.said[0] == "🎶 Now playing **low.wav** (?:??), requested by <@42>."
    assert harness.said[-1] == "⏹️ The queue has ended."
    async with runtime.db.read() as session:
        assert await service.tracks(session, GUILD) == []

    await runtime.db.run(lambda s: service.set_volume(s, GUILD, 50, runtime.clock.now()))
    harness.player.ended.clear()
    await queue(runtime, direct(harness.base, "high.wav"))
    await harness.player.start()
    await asyncio.wait_for(harness.player.ended.wait(), 20)
    assert rms(bytes(harness.voice.plays[-1])) == pytest.approx(0.6 / 2**0.5 / 2, rel=0.05)


async def test_loop_track_survives_an_expired_stream_url(runtime: Runtime, harness: Harness) -> None:
    # The stored stream URL is dead (404, as an expired one is); the page still resolves.
    await queue(runtime, direct(harness.base, "low.wav", stream=f"{harness.base}/expired.wav"))
    await runtime.db.run(lambda s: service.set_loop(s, GUILD, LoopMode.TRACK, runtime.clock.now()))
    await harness.player.start()
    await eventually(lambda: len(harness.voice.plays) >= 4)
    await harness.player.set_loop(LoopMode.NONE)
    await asyncio.wait_for(harness.player.ended.wait(), 20)
    first, *again = harness.voice.plays
    assert len(first) == 0  # FFmpeg could not open the dead URL
    assert len(again) >= 3
    assert all(seconds(pcm) == pytest.approx(1.5, abs=0.05) for pcm in again)
    assert not any("Skipped" in s for s in harness.said)


async def test_a_source_that_fails_is_reported_and_skipped(runtime: Runtime, harness: Harness) -> None:
    await queue(
        runtime,
        direct(harness.base, "missing.wav"),  # resolving fails: 404
        direct(
            harness.base, "gone.wav", stream=f"{harness.base}/gone.wav"
        ),  # dies in FFmpeg, then resolving fails
        direct(harness.base, "high.wav"),
    )
    await harness.player.start()
    await asyncio.wait_for(harness.player.ended.wait(), 20)
    skipped = [s for s in harness.said if s.startswith("⚠️ Skipped")]
    assert len(skipped) == 2 and "missing.wav" in skipped[0] and "gone.wav" in skipped[1]
    assert seconds(harness.voice.plays[-1]) == pytest.approx(1.2, abs=0.05)


async def test_skip_and_pause_are_heard(runtime: Runtime, harness: Harness) -> None:
    harness.voice.paced = True
    await queue(runtime, direct(harness.base, "low.wav"), direct(harness.base, "high.wav"))
    await harness.player.start()
    await eventually(lambda: seconds(harness.voice.plays[0]) >= 0.2)
    await harness.player.pause()
    heard = len(harness.voice.plays[0])
    await harness.player.resume()
    await eventually(lambda: len(harness.voice.plays[0]) > heard)  # it goes on after the resume
    await harness.player.skip()
    await asyncio.wait_for(harness.player.ended.wait(), 20)
    first, second = harness.voice.plays
    assert 0.2 <= seconds(first) < 1.4  # cut short by the skip
    assert seconds(second) == pytest.approx(1.2, abs=0.05)


async def test_seek_plays_the_track_again_from_the_position(runtime: Runtime, harness: Harness) -> None:
    harness.voice.paced = True
    await queue(runtime, direct(harness.base, "low.wav", 2))
    await harness.player.start()
    await eventually(lambda: seconds(harness.voice.plays[0]) >= 0.1)
    await harness.player.seek(1)
    await asyncio.wait_for(harness.player.ended.wait(), 20)
    first, sought = harness.voice.plays
    assert seconds(first) < 1.4 and seconds(sought) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(Conflict):  # nothing plays any more
        await harness.player.seek(0)


async def test_losing_the_voice_connection_keeps_the_queue(runtime: Runtime, harness: Harness) -> None:
    harness.voice.paced = True
    await queue(runtime, direct(harness.base, "low.wav"), direct(harness.base, "high.wav"))
    await harness.player.start()
    await eventually(lambda: seconds(harness.voice.plays[0]) >= 0.1)
    harness.voice.connected = False  # dropped by Discord: the source ends, nothing may advance
    harness.voice.stop()
    await eventually(lambda: harness.player.playing is None)
    assert len(harness.voice.plays) == 1
    assert await harness.player.start() is None
    async with runtime.db.read() as session:
        assert [t.title for t in await service.tracks(session, GUILD)] == ["low.wav", "high.wav"]
        playing = await service.current(session, GUILD)
        assert playing is not None and playing.title == "low.wav"
    assert not any("Skipped" in s for s in harness.said)
