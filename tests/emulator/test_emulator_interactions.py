"""Slash commands and buttons end to end: INTERACTION_CREATE in, the callback out, the database changed."""

from __future__ import annotations

import discord
import pytest
from discord.http import Route

from kyrios.features.gacha.models import GachaPull
from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Reply
from kyrios.testing.emulator import DiscordEmulator
from tests.helpers import count_rows


async def test_emulator_gacha_pull_answers_with_the_embed_and_records_the_pull(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot, runtime: Runtime
) -> None:
    sent = await discord_emulator.run_command("gacha pull")
    callback = await discord_emulator.wait_for_callback(sent["id"])
    assert callback["type"] == 4
    embed = callback["data"]["embeds"][0]
    assert embed["title"] == "🎲 tester pulled"
    assert "free" in embed["description"]
    assert "flags" not in callback["data"]
    assert await count_rows(runtime, GachaPull, guild_id=1, user_id=42) == 1
    # Discord turned the callback into a message in #general, authored by the bot.
    record = discord_emulator.interaction(sent["id"])
    assert record.original_message_id is not None
    message = discord_emulator.messages[record.original_message_id]
    assert message.channel_id == 10 and message.author_id == discord_emulator.bot_user.id


async def test_emulator_button_press_updates_the_message(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    first = await discord_emulator.run_command("gacha pull")
    await discord_emulator.wait_for_callback(first["id"])
    shown = discord_emulator.interaction(first["id"]).original_message_id
    pressed = await discord_emulator.press_button("gacha-history:42:1", message_id=shown)
    callback = await discord_emulator.wait_for_callback(pressed["id"])
    assert callback["type"] == 7
    assert callback["data"]["embeds"][0]["title"] == "Your pulls"
    assert shown is not None
    assert discord_emulator.messages[shown].embeds[0]["title"] == "Your pulls"


async def test_emulator_error_reply_is_ephemeral(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    await discord_emulator.wait_for_callback((await discord_emulator.run_command("gacha pull"))["id"])
    second = await discord_emulator.run_command("gacha pull")
    callback = await discord_emulator.wait_for_callback(second["id"])
    assert callback["type"] == 4
    assert callback["data"]["flags"] == 64
    assert "need 100 points" in callback["data"]["content"]


async def test_emulator_someone_elses_button_is_refused_ephemerally(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    pressed = await discord_emulator.press_button("gacha-history:7:1", user_id=42)
    callback = await discord_emulator.wait_for_callback(pressed["id"])
    assert callback["type"] == 4 and callback["data"]["flags"] == 64
    assert "belong to someone else" in callback["data"]["content"]


async def test_emulator_deferred_command_edits_the_original_response(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot, runtime: Runtime
) -> None:
    extra = CommandSet()

    @extra.slash("emulator slow", "A command that answers after deferring", defer=True)
    async def slow(ctx: Context) -> Reply:
        return Reply(content="done at last")

    runtime.registry.include(extra)
    sent = await discord_emulator.run_command("emulator slow")
    assert (await discord_emulator.wait_for_callback(sent["id"]))["type"] == 5
    edit = await discord_emulator.wait_for_request(
        "PATCH", f"/webhooks/{discord_emulator.application_id}/{sent['token']}/messages/@original"
    )
    assert edit.json["content"] == "done at last"
    original = discord_emulator.messages[discord_emulator.interaction(sent["id"]).original_message_id or 0]
    assert original.content == "done at last" and not original.flags & 128  # no longer "thinking…"
    followup = Route(
        "POST", "/webhooks/{app_id}/{token}", app_id=discord_emulator.application_id, token=sent["token"]
    )
    posted = await gateway_bot.http.request(followup, json={"content": "and one more thing"})
    assert discord_emulator.messages[int(posted["id"])].content == "and one more thing"
    assert discord_emulator.interaction(sent["id"]).followups == [int(posted["id"])]


async def test_emulator_second_answer_to_one_interaction_is_refused(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    sent = await discord_emulator.run_command("gacha rates")
    await discord_emulator.wait_for_callback(sent["id"])
    again = Route("POST", "/interactions/{i}/{t}/callback", i=sent["id"], t=sent["token"])
    with pytest.raises(discord.HTTPException) as refused:
        await gateway_bot.http.request(again, json={"type": 4, "data": {"content": "twice"}})
    assert refused.value.code == 40060
