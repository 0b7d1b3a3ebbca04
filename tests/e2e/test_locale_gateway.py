"""Japanese through the gateway: a slash command from a Japanese client, and prefix commands in a
guild that chose Japanese (messages carry no user locale)."""

from __future__ import annotations

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from kyrios.testing.emulator.server import channel_messages_path
from kyrios.testing.interactions import command_payload
from tests.e2e.gateway_helpers import moderated_bot


async def test_a_japanese_client_gets_a_japanese_callback(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    emu = discord_emulator
    payload = command_payload("points balance", application_id=emu.application_id)
    sent = await emu.send_interaction({**payload, "locale": "ja"})
    callback = await emu.wait_for_callback(sent["id"])
    assert callback["data"]["embeds"][0]["description"] == "**0** ポイント"
    refused = await emu.send_interaction(
        {**command_payload("give", {"user": "42", "amount": 5}), "locale": "ja"}
    )
    assert "サーバー管理者" in (await emu.wait_for_callback(refused["id"]))["data"]["content"]


async def test_prefix_commands_answer_in_the_guilds_language(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    async with moderated_bot(emu, runtime, prefix="k!", locale="ja"):
        await emu.send_message(10, 42, "k!points balance")
        first = await emu.wait_for_request("POST", channel_messages_path(10))
        await emu.send_message(10, 42, "k!give 42 1500")  # @everyone may manage the emulated guild
        second = await emu.wait_for_request("POST", channel_messages_path(10), nth=2)
        await emu.send_message(10, 42, "k!give 42 lots")
        third = await emu.wait_for_request("POST", channel_messages_path(10), nth=3)
    assert first.json["embeds"][0]["description"] == "**0** ポイント"
    assert (
        second.json["content"]
        == "✅ <@42> さんに **1,500** ポイントを付与しました。残高は **1,500** ポイントです。"
    )
    assert third.json["content"] == "❌ `amount` には整数を指定してください（`lots` は使えません）。"
