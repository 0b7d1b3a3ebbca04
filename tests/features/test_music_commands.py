"""The music commands through the registry: with a stage whose voice door is a stand-in (members'
channels by hand, voice connections that read the real FFmpeg sources), and without one (the
console), where the commands that need voice say where to use them."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.features.music import service
from kyrios.features.music.cog import ffmpeg_sources
from kyrios.features.music.models import LoopMode, MusicSettings
from kyrios.features.music.resolver import Resolver
from kyrios.features.music.stage import ADAPTER, UNAVAILABLE, MusicStage
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Permission, Source
from kyrios.slash.reply import Reply
from tests.e2e.gateway_helpers import eventually
from tests.features.music_audio import audio_server, tone
from tests.features.test_music_player import ReadLoopVoice, seconds
from tests.helpers import invoke, text_of

GUILD, VOICE_CHANNEL = 1, 500


@dataclass
class Door:
    """Voice states set by hand; joining gives a `ReadLoopVoice`."""

    where: dict[int, int] = field(default_factory=dict)
    voices: list[ReadLoopVoice] = field(default_factory=list)
    left: int = 0

    def channel_of(self, guild_id: int, user_id: int) -> int | None:
        return self.where.get(user_id)

    def listeners(self, guild_id: int, channel_id: int) -> list[int]:
        return sorted(user for user, channel in self.where.items() if channel == channel_id)

    async def join(self, guild_id: int, channel_id: int) -> Any:
        self.voices.append(ReadLoopVoice(paced=True))
        return self.voices[-1]

    async def leave(self, guild_id: int) -> None:
        self.left += 1


@dataclass
class Stage:
    stage: MusicStage
    door: Door
    said: list[str]
    base: str


@functools.cache
def sample_files() -> dict[str, bytes]:
    """Three short tones, and two long ones for tests that act while a track plays."""
    return {
        "one.wav": tone(1.0),
        "two.wav": tone(1.0, frequency=660),
        "three.wav": tone(1.0, frequency=880),
        "long1.wav": tone(6.0, frequency=330),
        "long2.wav": tone(6.0, frequency=550),
    }


@pytest.fixture
async def stage(runtime: Runtime) -> AsyncIterator[Stage]:
    if shutil.which("ffmpeg") is None and not os.environ.get("KYRIOS_REQUIRE_SERVICES"):
        pytest.skip("FFmpeg is not installed (CI installs it and fails without it)")
    said: list[str] = []

    async def say(channel: int, text: str) -> None:
        said.append(text)

    async with audio_server(sample_files()) as base:
        door = Door()
        music = MusicStage(runtime.db, runtime.clock, Resolver(timeout=20), ffmpeg_sources(), say, door)
        runtime.registry.adapters[ADAPTER] = music
        yield Stage(music, door, said, base)
        for player in music.players.values():
            player._silence()
        for task in music.idle.values():
            task.cancel()


async def run(
    rt: Runtime,
    command: str,
    *,
    user_id: int = 42,
    roles: tuple[int, ...] = (),
    admin: bool = False,
    **options: Any,
) -> Reply:
    inv = Invocation(
        actor=Actor(id=user_id, name=f"user{user_id}"),
        guild_id=GUILD,
        channel_id=10,
        command=command,
        options=options,
        permissions=int(Permission.ADMINISTRATOR) if admin else 0,
        source=Source.GATEWAY,
        role_ids=roles,
    )
    return await rt.registry.dispatch(inv)


async def test_play_joins_queues_and_plays_through(runtime: Runtime, stage: Stage) -> None:
    refused = await run(runtime, "play", query=f"{stage.base}/one.wav")
    assert refused.is_error and "Join a voice channel first" in text_of(refused)
    stage.door.where = {42: VOICE_CHANNEL, 43: VOICE_CHANNEL}
    first = await run(runtime, "play", query=f"{stage.base}/one.wav")
    assert not first.is_error, first.content
    assert "Queued **one**" in text_of(first) and "position 1" in text_of(first)
    second = await run(runtime, "play", user_id=43, query=f"{stage.base}/two.wav")
    assert "position 2" in text_of(second)
    listing = text_of(await run(runtime, "queue"))
    assert "▶️ `1.` **one**" in listing and "`2.` **two**" in listing and "<@43>" in listing
    assert "Total 0:00 (+2 tracks of unknown length)" in listing
    now = text_of(await run(runtime, "nowplaying"))
    assert "one" in now and "🔘" in now and "<@42>" in now
    player = stage.stage.players[GUILD]
    await asyncio.wait_for(player.ended.wait(), 20)
    voice = stage.door.voices[0]
    assert [round(seconds(pcm), 1) for pcm in voice.plays] == [1.0, 1.0]
    async with runtime.db.read() as session:
        row = await service.find(session, GUILD)
        assert row is not None and (row.voice_channel_id, row.text_channel_id, row.connected) == (
            VOICE_CHANNEL,
            10,
            True,
        )


async def test_skip_needs_a_majority_unless_requester_and_pause_resume(
    runtime: Runtime, stage: Stage
) -> None:
    stage.door.where = {42: VOICE_CHANNEL, 43: VOICE_CHANNEL, 44: VOICE_CHANNEL, 45: VOICE_CHANNEL}
    await run(runtime, "play", query=f"{stage.base}/long1.wav")
    await run(runtime, "play", query=f"{stage.base}/long2.wav")
    await run(runtime, "play", query=f"{stage.base}/long1.wav")
    voice = stage.door.voices[0]
    await eventually(lambda: bool(voice.plays) and seconds(voice.plays[0]) > 0.1)
    paused = await run(runtime, "pause", user_id=43)
    assert "Paused" in text_of(paused) and voice._paused.is_set()
    assert "already paused" in text_of(await run(runtime, "pause"))
    assert "Resumed" in text_of(await run(runtime, "resume", user_id=44)) and not voice._paused.is_set()
    outsider = await run(runtime, "skip", user_id=99)
    assert outsider.is_error and "Join my voice channel" in text_of(outsider)
    assert "1/3" in text_of(await run(runtime, "skip", user_id=43))
    assert "2/3" in text_of(await run(runtime, "skip", user_id=44))
    assert "Skipped **long1**" in text_of(await run(runtime, "skip", user_id=45))  # 3 of 4 listeners
    await eventually(lambda: len(voice.plays) >= 2)  # "long2" plays
    assert seconds(voice.plays[0]) < 5.9
    skipped = await run(runtime, "skip")  # the requester skips at once
    assert "Skipped **long2**" in text_of(skipped)
    await eventually(lambda: len(voice.plays) >= 3)
    stopped = await run(runtime, "stop")
    assert "Stopped and cleared 1 track" in text_of(stopped) and stage.door.left == 1
    async with runtime.db.read() as session:
        assert await service.tracks(session, GUILD) == []


async def test_dj_role_gates_queue_changes(runtime: Runtime, stage: Stage) -> None:
    stage.door.where = {42: VOICE_CHANNEL}
    for name in ("one", "two", "three"):
        await run(runtime, "play", query=f"{stage.base}/{name}.wav")
    shown = await run(runtime, "music settings", admin=True, dj_role="<@&77>", max_queue=50)
    assert "<@&77>" in text_of(shown) and "50" in text_of(shown)
    refused = await run(runtime, "move", user_id=43, source=3, target=2)
    assert refused.is_error and "DJ role <@&77>" in text_of(refused)
    moved = await run(runtime, "move", user_id=43, roles=(77,), source=3, target=2)
    assert "Moved **three** to 2" in text_of(moved)
    assert "Removed **two**" in text_of(await run(runtime, "remove", admin=True, number=3))
    assert "Looping the current track" in text_of(await run(runtime, "loop", roles=(77,), mode="track"))
    volume = await run(runtime, "volume", roles=(77,), percent=250)
    assert volume.is_error  # out of range, refused before anything
    assert "Volume 50 %" in text_of(await run(runtime, "volume", roles=(77,), percent=50))
    async with runtime.db.read() as session:
        row = await service.find(session, GUILD)
        assert row is not None and row.loop_mode is LoopMode.TRACK and row.volume == 50
        assert [t.title for t in await service.tracks(session, GUILD)] == ["one", "three"]


async def test_a_search_offers_buttons(runtime: Runtime, stage: Stage) -> None:
    stage.door.where = {42: VOICE_CHANNEL}
    refused = await run(runtime, "play", query="ftp://example.com/a.mp3")
    assert refused.is_error and "not a link I can play" in text_of(refused)
    bad = await runtime.registry.dispatch(
        Invocation(actor=Actor(id=42, name="x"), guild_id=GUILD, custom_id="music-pick:../../etc")
    )
    assert bad.is_error and "broken" in text_of(bad)


async def test_without_the_gateway_voice_commands_say_where_to_use_them(runtime: Runtime) -> None:
    voice_commands: list[tuple[str, dict[str, Any]]] = [
        ("play", {"query": "https://example.com/a.mp3"}),
        ("pause", {}),
        ("skip", {}),
    ]
    for command, options in voice_commands:
        reply = await invoke(runtime, command, **options)
        assert reply.is_error and "Use this in Discord" in text_of(reply), command
    assert "The queue is empty" in text_of(await invoke(runtime, "queue"))
    assert "Nothing is playing" in text_of(await invoke(runtime, "nowplaying"))
    runtime.registry.adapters[ADAPTER] = UNAVAILABLE
    reply = await invoke(runtime, "play", query="https://example.com/a.mp3")
    assert reply.is_error and "FFmpeg is not installed" in text_of(reply)


async def test_japanese_replies(runtime: Runtime) -> None:
    inv = Invocation(
        actor=Actor(id=42, name="x"),
        guild_id=GUILD,
        channel_id=10,
        command="queue",
        locale="ja",
        source=Source.GATEWAY,
    )
    reply = await runtime.registry.dispatch(inv)
    assert "キュー" in text_of(reply)


async def idle_after(runtime: Runtime, seconds: int) -> None:
    """The guild's idle time, written below what /music settings allows, to keep the test short."""
    async with runtime.db.transaction() as session:
        session.add(MusicSettings(guild_id=GUILD, idle_timeout_seconds=seconds))


async def test_the_bot_leaves_when_the_queue_ends_or_it_is_left_alone(runtime: Runtime, stage: Stage) -> None:
    await idle_after(runtime, 0)
    stage.door.where = {42: VOICE_CHANNEL}
    await run(runtime, "play", query=f"{stage.base}/one.wav")
    await eventually(lambda: stage.door.left == 1)  # the queue ended: idle, then gone
    async with runtime.db.read() as session:
        row = await service.find(session, GUILD)
        assert row is not None and not row.connected
    await run(runtime, "play", query=f"{stage.base}/one.wav")
    stage.door.where = {}  # everyone left the channel
    await stage.stage.check_alone(GUILD, VOICE_CHANNEL)
    await eventually(lambda: stage.door.left == 2)


async def test_someone_coming_back_cancels_the_idle_timer(runtime: Runtime, stage: Stage) -> None:
    await idle_after(runtime, 600)
    stage.door.where = {42: VOICE_CHANNEL}
    await run(runtime, "play", query=f"{stage.base}/one.wav")
    stage.door.where = {}
    await stage.stage.check_alone(GUILD, VOICE_CHANNEL)
    assert GUILD in stage.stage.idle
    stage.door.where = {43: VOICE_CHANNEL}
    await stage.stage.check_alone(GUILD, VOICE_CHANNEL)
    assert GUILD not in stage.stage.idle and stage.door.left == 0


async def test_a_kicked_bot_keeps_the_queue_and_resume_goes_on_from_where_it_was(
    runtime: Runtime, stage: Stage, clock: FrozenClock
) -> None:
    stage.door.where = {42: VOICE_CHANNEL}
    await run(runtime, "play", query=f"{stage.base}/one.wav")
    await run(runtime, "play", query=f"{stage.base}/two.wav")
    voice = stage.door.voices[0]
    await eventually(lambda: bool(voice.plays) and seconds(voice.plays[0]) > 0.1)
    clock.advance(timedelta(seconds=5))  # the session's clock ran on; only what was played counts
    await stage.stage.voice_lost(GUILD)  # the gateway said: the bot's channel is now none
    heard = seconds(voice.plays[0])
    async with runtime.db.read() as session:
        row = await service.find(session, GUILD)
        assert row is not None and not row.connected
        assert row.elapsed_ms / 1000 == pytest.approx(heard, abs=0.021)
        assert [t.title for t in await service.tracks(session, GUILD)] == ["one", "two"]
    assert "Resuming the queue with **one**" in text_of(await run(runtime, "resume"))
    player = stage.stage.players[GUILD]
    await asyncio.wait_for(player.ended.wait(), 20)
    resumed = stage.door.voices[1]
    rest, two = (seconds(pcm) for pcm in resumed.plays)  # from where it was, then "two"
    assert rest == pytest.approx(1.0 - heard, abs=0.05) and two == pytest.approx(1.0, abs=0.05)
