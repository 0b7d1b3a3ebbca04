"""discord.py's real `VoiceClient` against the emulator's voice server: connect over `wss://`, pick the
transport mode, play a generated tone through FFmpeg; the server decrypts and decodes what it receives."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import shutil
import struct
import subprocess
import wave
from array import array
from pathlib import Path

import aiohttp
import discord
import pytest

from kyrios.runtime import Runtime
from kyrios.testing.emulator import STANDARD_USER_ID, WAIT_SECONDS, ChannelType, DiscordEmulator, running_bot
from kyrios.testing.emulator.voice_server import (
    FRAME_SECONDS,
    MODE,
    VoiceConnection,
    VoiceOp,
    pcm_seconds,
    rms,
)


@pytest.fixture
def ffmpeg() -> None:
    """FFmpeg on PATH: skipped without it, unless CI requires every service (.ci/run installs it)."""
    if shutil.which("ffmpeg") is None:
        message = "ffmpeg is not installed (apt-get install ffmpeg)"
        if os.environ.get("KYRIOS_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


VOICE_INTENTS = discord.Intents(guilds=True, voice_states=True)
TONE_HZ = 440
TONE_SECONDS = 1.2  # a whole number of 20 ms frames: discord.py drops a short last frame
AMPLITUDE = 12_000
MUSIC_CHANNEL_ID = 50


def write_tone(path: Path, seconds: float = TONE_SECONDS) -> bytes:
    """A 48 kHz stereo 16-bit sine WAV; returns its PCM."""
    count = round(seconds * 48_000)
    samples = array("h")
    for n in range(count):
        value = round(AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * n / 48_000))
        samples.extend((value, value))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(48_000)
        out.writeframes(samples.tobytes())
    return samples.tobytes()


class TidyFFmpegPCMAudio(discord.FFmpegPCMAudio):
    """discord.py 2.7.1 kills FFmpeg without closing its stdout pipe (a ResourceWarning, an error here)."""

    def cleanup(self) -> None:
        process = getattr(self, "_process", None)  # MISSING after the first cleanup (and in __del__)
        super().cleanup()
        if isinstance(process, subprocess.Popen) and process.stdout is not None:
            process.stdout.close()


def dominant_hz(pcm: bytes) -> float:
    """The frequency of a pure tone, from the zero crossings of its left channel."""
    left = struct.unpack(f"<{len(pcm) // 2}h", pcm)[::2]
    crossings = sum(1 for a, b in itertools.pairwise(left) if (a < 0) != (b < 0))
    return crossings / 2 / (len(left) / 48_000)


def quiet_after_the_fade(connection: VoiceConnection) -> bytes:
    """The PCM of silence frames that follow a silence frame (the first one still decodes the tone's
    tail out of the decoder's overlap)."""
    frames, pcm = connection.frames, connection.decoded()
    quiet = [i for i in range(1, len(frames)) if frames[i].is_silence and frames[i - 1].is_silence]
    return b"".join(pcm[i] for i in quiet)


async def connected(client: discord.VoiceClient) -> None:
    """Wait until discord.py's voice client counts itself connected (its own state, not the server's)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            if client.is_connected():
                return
            await asyncio.sleep(0.01)


def silences(connection: VoiceConnection) -> int:
    return sum(f.is_silence for f in connection.frames)


async def test_the_bot_plays_a_tone_and_the_voice_server_hears_it_with_a_pause(
    discord_emulator: DiscordEmulator, runtime: Runtime, tmp_path: Path, ffmpeg: None
) -> None:
    emu = discord_emulator
    emu.add_channel(1, "music", channel_id=MUSIC_CHANNEL_ID, type=ChannelType.VOICE)
    source_pcm = write_tone(tmp_path / "tone.wav")
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()
    async with running_bot(emu, runtime, intents=VOICE_INTENTS) as bot:
        channel = bot.get_channel(MUSIC_CHANNEL_ID)
        assert isinstance(channel, discord.VoiceChannel)
        client: discord.VoiceClient = await channel.connect(timeout=WAIT_SECONDS)
        connection = await emu.wait_for_voice_connection(1)
        assert (connection.mode, connection.user_id) == (MODE, emu.bot_user.id)
        assert emu.voice_of(1, emu.bot_user.id) is not None

        source = TidyFFmpegPCMAudio(str(tmp_path / "tone.wav"))
        client.play(source, after=lambda error: loop.call_soon_threadsafe(finished.set))
        await emu.wait_until(lambda: len(connection.audio_frames) >= 15, what="the first 300 ms")
        client.pause()
        await emu.wait_until(lambda: silences(connection) >= 5, what="the pause's silence frames")
        heard_before_resume = len(connection.frames)
        await asyncio.sleep(0.3)  # a paused player sends nothing at all
        assert len(connection.frames) == heard_before_resume
        client.resume()
        await asyncio.wait_for(finished.wait(), timeout=WAIT_SECONDS)
        await emu.wait_until(lambda: silences(connection) >= 10, what="the end's silence frames")

        first, second = connection.bursts()  # the pause splits the tone in two
        assert len(first) > 0 and len(second) > 0
        played = pcm_seconds(first) + pcm_seconds(second)
        assert abs(played - pcm_seconds(source_pcm)) <= 2 * FRAME_SECONDS  # resume went on where it stopped
        for burst in (first, second):
            assert rms(burst) == pytest.approx(rms(source_pcm), rel=0.1)
            assert dominant_hz(burst) == pytest.approx(TONE_HZ, rel=0.05)
        assert rms(quiet_after_the_fade(connection)) == 0
        assert [f.sequence for f in connection.frames] == list(
            range(connection.frames[0].sequence, connection.frames[0].sequence + len(connection.frames))
        )
        assert connection.rejected == 0
        await emu.wait_until(lambda: len(connection.speaking) >= 5, what="SPEAKING updates")
        assert connection.speaking[:5] == [0, 1, 0, 1, 0]  # described, playing, paused, resumed, ended

        await client.disconnect()
        await emu.wait_until(lambda: connection.closed_with is not None, what="the voice socket closing")
        assert connection.closed_with == 1000
        assert emu.voice_of(1, emu.bot_user.id) is None
        assert not client.is_connected()


async def test_playback_survives_a_voice_server_crash_and_a_dropped_voice_session(
    discord_emulator: DiscordEmulator, runtime: Runtime, tmp_path: Path, ffmpeg: None
) -> None:
    emu = discord_emulator
    emu.add_channel(1, "music", channel_id=MUSIC_CHANNEL_ID, type=ChannelType.VOICE)
    source_pcm = write_tone(tmp_path / "tone.wav", seconds=2.0)
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()
    async with running_bot(emu, runtime, intents=VOICE_INTENTS) as bot:
        channel = bot.get_channel(MUSIC_CHANNEL_ID)
        assert isinstance(channel, discord.VoiceChannel)
        client: discord.VoiceClient = await channel.connect(timeout=WAIT_SECONDS)
        first = await emu.wait_for_voice_connection(1)
        source = TidyFFmpegPCMAudio(str(tmp_path / "tone.wav"))
        client.play(source, after=lambda error: loop.call_soon_threadsafe(finished.set))
        await emu.wait_until(lambda: len(first.audio_frames) >= 10, what="audio before the crash")

        await emu.voice_server.close_connection(1, code=4015)  # "voice server crashed": the client resumes
        await emu.wait_until(lambda: first.resumes == 1 and first.closed_with is None, what="a RESUME")
        resumed_at = len(first.audio_frames)
        await emu.wait_until(lambda: len(first.audio_frames) >= resumed_at + 10, what="audio after resuming")

        client.pause()  # so that some of the tone is left for the new connection, however slow the host
        await emu.wait_until(lambda: silences(first) >= 5, what="the pause's silence frames")
        await emu.voice_server.close_connection(1, code=4006)  # session gone: a whole new connection
        second = await emu.wait_for_voice_connection(1, nth=2)
        assert second.ssrc != first.ssrc and second.key != first.key
        await connected(client)
        client.resume()
        await emu.wait_until(lambda: len(second.audio_frames) >= 10, what="audio on the new connection")
        await asyncio.wait_for(finished.wait(), timeout=WAIT_SECONDS)
        await emu.wait_until(lambda: silences(second) >= 5, what="the end's silence frames")
        await client.disconnect()

    heard = len(first.audio_frames) + len(second.audio_frames)
    assert abs(heard * FRAME_SECONDS - pcm_seconds(source_pcm)) <= 2 * FRAME_SECONDS
    assert first.rejected == second.rejected == 0
    assert rms(second.pcm(with_silence=False)) == pytest.approx(rms(source_pcm), rel=0.1)


async def test_the_voice_gateway_refuses_a_wrong_token_and_an_unknown_mode(
    discord_emulator: DiscordEmulator,
) -> None:
    emu = discord_emulator
    server = emu.voice_server
    url = f"wss://{server.endpoint}/?v=8"
    token = server.grant(1, STANDARD_USER_ID, "session-1")
    identify = {"server_id": "1", "user_id": str(STANDARD_USER_ID), "session_id": "session-1"}
    connector = aiohttp.TCPConnector(ssl=server.client_context)
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.ws_connect(url) as ws:
            await ws.send_json({"op": VoiceOp.IDENTIFY, "d": {**identify, "token": "forged"}})
            assert (await ws.receive_json())["op"] == VoiceOp.HELLO
            assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4004
        async with http.ws_connect(url) as ws:
            await ws.send_json({"op": VoiceOp.IDENTIFY, "d": {**identify, "token": token}})
            await ws.receive_json()  # HELLO
            ready = (await ws.receive_json())["d"]
            assert ready["modes"] == [MODE] and ready["port"] == server.udp_port
            select = {
                "protocol": "udp",
                "data": {"address": "127.0.0.1", "port": 1, "mode": "xsalsa20_poly1305"},
            }
            await ws.send_json({"op": VoiceOp.SELECT_PROTOCOL, "d": select})
            assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4016
    assert [c.ready for c in server.connections] == [False]
