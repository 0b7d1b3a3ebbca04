"""Music end to end: the real bot, a member in a voice channel, `/play` with a link to a generated
tone served in the test. The bot joins through op 4, discord.py's `VoiceClient` sends the audio to the
emulator's voice server, which decrypts and decodes it: play, pause, resume, skip and loop are heard
in what arrived, and `/stop` closes the voice connection. Replies in English and Japanese."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import struct
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from kyrios.features.music import service
from kyrios.gateway.bot import KyriosBot
from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime
from kyrios.testing.emulator import ChannelType, DiscordEmulator, running_bot
from kyrios.testing.emulator.server import channel_messages_path
from kyrios.testing.emulator.voice_server import FRAME_SECONDS, VoiceConnection, pcm_seconds, rms
from kyrios.testing.interactions import command_payload
from tests.e2e.gateway_helpers import eventually
from tests.features.music_audio import audio_server, tone

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None and not os.environ.get("KYRIOS_REQUIRE_SERVICES"),
    reason="FFmpeg is not installed (CI installs it and fails without it)",
)

GUILD, TEXT, VOICE, STUDIO, MEMBER = 1, 10, 50, 51, 42
LOW_HZ, HIGH_HZ = 440, 880
# Whole numbers of 20 ms frames (discord.py drops a short last frame), and told apart by pitch.
LOW = tone(1.4, frequency=LOW_HZ, amplitude=0.3)
HIGH = tone(1.6, frequency=HIGH_HZ, amplitude=0.5)


def pcm_of(wav: bytes) -> bytes:
    with wave.open(io.BytesIO(wav)) as file:
        frames: bytes = file.readframes(file.getnframes())
    return frames


def pitch(pcm: bytes) -> float:
    """The frequency of a pure tone, from the zero crossings of its left channel."""
    left = struct.unpack(f"<{len(pcm) // 2}h", pcm)[::2]
    crossings = sum(1 for a, b in itertools.pairwise(left) if (a < 0) != (b < 0))
    return crossings / 2 / (len(left) / 48_000)


def ends_silent(conn: VoiceConnection) -> bool:
    """The last packets are the 5 silence frames a stopped or paused sender emits."""
    return len(conn.frames) >= 5 and all(f.is_silence for f in conn.frames[-5:])


@dataclass
class Session:
    emu: DiscordEmulator
    base: str

    async def command(
        self, path: str, options: dict[str, Any] | None = None, *, locale: str = "en-US"
    ) -> str:
        """Run a slash command as the member; the reply's text once it is final (deferred or not)."""
        emu = self.emu
        payload = command_payload(path, options, application_id=emu.application_id, user_id=MEMBER)
        sent = await emu.send_interaction({**payload, "locale": locale})
        record = emu.interaction(sent["id"])

        def final() -> str | None:
            message_id = record.original_message_id
            if message_id is None or message_id not in emu.messages:
                return None
            return emu.messages[message_id].content or None

        text: str = await emu.waiter.until(final, timeout=20, what=f"the reply to /{path}")
        return text

    async def posted(self, text: str, *, nth: int = 1) -> str:
        """The `nth` message in the text channel containing `text`."""
        found = await self.emu.wait_for_request(
            "POST",
            channel_messages_path(TEXT),
            nth=nth,
            where=lambda r: text in r.json.get("content", ""),
            timeout=20,
        )
        content: str = found.json["content"]
        return content


@asynccontextmanager
async def music_session(emu: DiscordEmulator, runtime: Runtime) -> AsyncIterator[Session]:
    """The bot with the music cog, the member in the voice channel, the tones served."""
    emu.add_channel(GUILD, "music", channel_id=VOICE, type=ChannelType.VOICE)
    async with (
        audio_server({"low.wav": LOW, "high.wav": HIGH}) as base,
        running_bot(emu, runtime, intents=intents_for(["music"])) as bot,
    ):
        await emu.voice_state(GUILD, MEMBER, VOICE)
        await eventually(lambda: bot_sees_member_in_voice(bot))  # the bot's cache, not the emulator
        yield Session(emu, base)


def bot_sees_member_in_voice(bot: KyriosBot) -> bool:
    guild = bot.get_guild(GUILD)
    member = None if guild is None else guild.get_member(MEMBER)
    return member is not None and member.voice is not None and member.voice.channel is not None


async def test_play_skip_pause_and_resume_are_heard_and_stop_leaves(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with music_session(emu, runtime) as s:
        queued = await s.command("play", {"query": f"{s.base}/low.wav"})
        assert queued.startswith("➕ Queued **low**") and queued.endswith("at position 1.")
        conn = await emu.wait_for_voice_connection(GUILD)
        assert conn.user_id == emu.bot_user.id
        bot_state = emu.voice_of(GUILD, emu.bot_user.id)
        assert bot_state is not None and bot_state.channel_id == VOICE
        assert (await s.posted("Now playing")).startswith(
            f"🎶 Now playing **low** (?:??), requested by <@{MEMBER}>"
        )
        await s.posted("⏹️ The queue has ended.")
        await emu.wait_until(lambda: ends_silent(conn), what="the silence after the track")

        [whole] = conn.bursts()
        assert abs(pcm_seconds(whole) - pcm_seconds(pcm_of(LOW))) <= 2 * FRAME_SECONDS
        assert rms(whole) == pytest.approx(rms(pcm_of(LOW)), rel=0.1)
        assert pitch(whole) == pytest.approx(LOW_HZ, rel=0.05)

        # low then high; skip low part way, pause and resume high.
        assert (await s.command("play", {"query": f"{s.base}/low.wav"})).endswith("at position 1.")
        assert (await s.command("play", {"query": f"{s.base}/high.wav"})).endswith("at position 2.")
        heard = len(conn.audio_frames)
        await emu.wait_until(lambda: len(conn.audio_frames) >= heard + 10, what="low playing again")
        assert await s.command("skip") == "⏭️ Skipped **low**."
        await s.posted("Now playing **high**")
        heard = len(conn.audio_frames)
        await emu.wait_until(lambda: len(conn.audio_frames) >= heard + 10, what="high playing")
        assert await s.command("pause") == "⏸️ Paused. /resume goes on."
        await emu.wait_until(lambda: ends_silent(conn), what="the pause's silence")
        paused_at = len(conn.frames)
        assert await s.command("resume") == "▶️ Resumed."
        await s.posted("⏹️ The queue has ended.", nth=2)
        await emu.wait_until(lambda: ends_silent(conn) and len(conn.frames) > paused_at + 5, what="the end")

        _, cut, before_pause, after_pause = conn.bursts()
        assert 0.2 <= pcm_seconds(cut) < pcm_seconds(pcm_of(LOW)) - 0.1  # cut short by the skip
        assert pitch(cut) == pytest.approx(LOW_HZ, rel=0.05)
        assert pcm_seconds(before_pause) >= 0.2 and pcm_seconds(after_pause) >= 0.1
        played = pcm_seconds(before_pause) + pcm_seconds(after_pause)
        assert abs(played - pcm_seconds(pcm_of(HIGH))) <= 2 * FRAME_SECONDS  # went on where it stopped
        for part in (before_pause, after_pause):
            assert pitch(part) == pytest.approx(HIGH_HZ, rel=0.05)
            assert rms(part) == pytest.approx(rms(pcm_of(HIGH)), rel=0.1)
        assert conn.rejected == 0

        assert await s.command("stop") == "⏹️ Stopped and cleared 0 tracks."
        await emu.wait_until(lambda: conn.closed_with is not None, what="the voice connection closing")
        assert conn.closed_with == 1000
        await emu.wait_until(lambda: emu.voice_of(GUILD, emu.bot_user.id) is None, what="the bot leaving")


async def test_loop_track_repeats_it_and_stop_leaves_in_japanese(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with music_session(emu, runtime) as s:
        queued = await s.command("play", {"query": f"{s.base}/low.wav"}, locale="ja")
        assert queued == "➕ **low** `?:??` をキューの 1 番に追加しました。"
        assert await s.command("loop", {"mode": "track"}, locale="ja") == "🔂 現在の曲をループします。"
        conn = await emu.wait_for_voice_connection(GUILD)
        one_play = round(pcm_seconds(pcm_of(LOW)) / FRAME_SECONDS)
        await emu.wait_until(lambda: len(conn.audio_frames) >= one_play + 10, what="a second time round")
        stopped = await s.command("stop", locale="ja")
        assert stopped == "⏹️ 再生を停止し、1 曲をキューから削除しました。"
        await emu.wait_until(lambda: conn.closed_with is not None, what="the voice connection closing")
        assert emu.voice_of(GUILD, emu.bot_user.id) is None

    whole, again, *_ = conn.bursts()  # each time round ends in silence frames
    assert abs(pcm_seconds(whole) - pcm_seconds(pcm_of(LOW))) <= 2 * FRAME_SECONDS
    assert rms(whole) == pytest.approx(rms(pcm_of(LOW)), rel=0.1)
    assert pcm_seconds(again) >= 0.2 and pitch(again) == pytest.approx(LOW_HZ, rel=0.05)


async def test_play_from_another_channel_moves_the_bot_there_when_nobody_listens(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    emu.add_channel(GUILD, "studio", channel_id=STUDIO, type=ChannelType.VOICE)
    async with music_session(emu, runtime) as s:
        await s.command("play", {"query": f"{s.base}/high.wav"})
        first = await emu.wait_for_voice_connection(GUILD)
        await emu.wait_until(lambda: len(first.audio_frames) >= 10, what="high playing")
        await emu.voice_state(GUILD, MEMBER, STUDIO)  # the member goes elsewhere, leaving the bot alone
        queued = await s.command("play", {"query": f"{s.base}/low.wav"})
        assert queued.endswith("at position 2.")
        second = await emu.wait_for_voice_connection(GUILD, nth=2)  # moved: a new voice session
        moved = emu.voice_of(GUILD, emu.bot_user.id)
        assert moved is not None and moved.channel_id == STUDIO
        await s.posted("Now playing **low**")
        await s.posted("⏹️ The queue has ended.")
        await emu.wait_until(lambda: ends_silent(second), what="the silence after low")
        assert first.closed_with is not None  # the old session is gone
        *_, low = second.bursts()
        assert abs(pcm_seconds(low) - pcm_seconds(pcm_of(LOW))) <= 2 * FRAME_SECONDS
        assert pitch(low) == pytest.approx(LOW_HZ, rel=0.05)
    async with runtime.db.read() as session:
        row = await service.find(session, GUILD)
        assert row is not None and row.voice_channel_id == STUDIO


async def test_a_bot_disconnected_by_someone_keeps_the_queue_and_resume_goes_on(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with music_session(emu, runtime) as s:
        await s.command("play", {"query": f"{s.base}/high.wav"})
        first = await emu.wait_for_voice_connection(GUILD)
        await emu.wait_until(lambda: len(first.audio_frames) >= 15, what="high playing")
        await emu.voice_state(GUILD, emu.bot_user.id, None)  # a moderator disconnects the bot
        await emu.wait_until(lambda: first.closed_with is not None, what="the voice connection closing")

        async def detached() -> bool:
            async with runtime.db.read() as session:
                row = await service.find(session, GUILD)
            return row is not None and not row.connected

        await eventually(detached)
        assert await s.command("resume") == "▶️ Resuming the queue with **high**."
        second = await emu.wait_for_voice_connection(GUILD, nth=2)
        await s.posted("⏹️ The queue has ended.")
        await emu.wait_until(lambda: ends_silent(second), what="the end of high")
        [rest] = second.bursts()
        assert pitch(rest) == pytest.approx(HIGH_HZ, rel=0.05)
        before = pcm_seconds(first.pcm(with_silence=False))
        heard = before + pcm_seconds(rest)  # it went on where it was cut off, not from the start
        assert abs(heard - pcm_seconds(pcm_of(HIGH))) <= 3 * FRAME_SECONDS
