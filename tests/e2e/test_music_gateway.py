"""Music through the emulator's gateway: the cog offers a queue kept over a restart, and the
commands answer in the member's language. (Playing into voice: `test_music_voice.py`.)"""

from __future__ import annotations

import os
import shutil

import pytest

from kyrios.features.music import service
from kyrios.features.music.service import TrackInfo
from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator, running_bot
from kyrios.testing.emulator.server import channel_messages_path
from kyrios.testing.interactions import command_payload, component_payload

pytestmark = pytest.mark.skipif(
    shutil.which("ffmpeg") is None and not os.environ.get("KYRIOS_REQUIRE_SERVICES"),
    reason="FFmpeg is not installed (CI installs it and fails without it)",
)


async def test_a_queue_kept_over_a_restart_is_offered_and_voice_commands_need_a_channel(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    now = runtime.clock.now()
    infos = [TrackInfo(title=f"song {n}", webpage_url=f"https://example.test/{n}") for n in range(3)]
    await runtime.db.run(lambda s: service.add(s, 1, infos, requester_id=42, now=now))
    await runtime.db.run(lambda s: service.connect(s, 1, voice_channel_id=20, text_channel_id=10, now=now))
    async with running_bot(emu, runtime, intents=intents_for(["music"])):
        offer = await emu.wait_for_request("POST", channel_messages_path(10))
        assert "**3** tracks are still queued" in offer.json["content"]
        [[button]] = [row["components"] for row in offer.json["components"]]
        assert button["custom_id"] == "music-resume"

        pressed = await emu.send_interaction(component_payload("music-resume"))
        answer = await emu.wait_for_callback(pressed["id"])
        assert "Join a voice channel first" in answer["data"]["content"]

        sent = await emu.send_interaction(
            {**command_payload("queue", application_id=emu.application_id), "locale": "ja"}
        )
        listing = (await emu.wait_for_callback(sent["id"]))["data"]["embeds"][0]
        assert listing["title"] == "🎶 キュー: 3 曲" and "song 0" in listing["description"]
    async with runtime.db.read() as session:
        row = await service.find(session, 1)
        assert row is not None and not row.connected and row.text_channel_id == 10
