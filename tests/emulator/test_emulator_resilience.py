"""The bot against Discord's failure modes: 429s, a dropped gateway, an invalidated session, 403/404."""

from __future__ import annotations

import discord
import pytest
from discord.http import Route

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator, running_bot
from kyrios.testing.emulator.gateway import Op
from kyrios.testing.emulator.server import ANY_CALLBACK


def general(bot: KyriosBot) -> discord.TextChannel:
    """#general as the bot's cache holds it."""
    channel = bot.get_channel(10)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_emulator_429_on_the_callback_is_honoured_and_the_answer_arrives(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    discord_emulator.arm_rate_limit("POST", ANY_CALLBACK, retry_after=0.2)
    sent = await discord_emulator.run_command("gacha pull")
    callback = await discord_emulator.wait_for_callback(sent["id"])
    assert callback["type"] == 4
    attempts = discord_emulator.requests("POST", ANY_CALLBACK)
    assert [r.status for r in attempts] == [429, 204]


async def test_emulator_429_storm_on_messages_is_waited_out(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    loop = gateway_bot.loop
    fault = discord_emulator.arm_rate_limit("POST", "/channels/10/messages", count=2, retry_after=0.2)
    started = loop.time()
    message = await general(gateway_bot).send("after the storm")
    assert loop.time() - started >= 0.4  # slept retry_after twice, as the 429 body said
    assert fault.hits == 2
    statuses = [r.status for r in discord_emulator.requests("POST", "/channels/10/messages")]
    assert statuses == [429, 429, 200]
    assert discord_emulator.messages[message.id].content == "after the storm"


async def test_emulator_global_429_blocks_then_releases(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    discord_emulator.arm_rate_limit("POST", "/channels/10/messages", retry_after=0.1, is_global=True)
    await general(gateway_bot).send("one")
    first = discord_emulator.requests("POST", "/channels/10/messages")[0]
    assert first.status == 429
    assert len(discord_emulator.channel_messages(10)) == 1


async def test_emulator_rate_limit_longer_than_the_bots_patience_raises(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    async with running_bot(discord_emulator, runtime, max_ratelimit_timeout=30.0) as bot:
        discord_emulator.arm_rate_limit("POST", "/channels/10/messages", retry_after=60)
        with pytest.raises(discord.RateLimited):
            await general(bot).send("never")


async def test_emulator_dropped_gateway_resumes_replays_missed_events_and_still_answers(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    async with discord_emulator.gateway.disconnected():
        missed = await discord_emulator.run_command("gacha pull")  # sent while the socket is gone
    resume = await discord_emulator.wait_for_gateway_op(Op.RESUME)
    assert resume["d"]["session_id"] and resume["d"]["seq"] >= 1
    await discord_emulator.wait_for_dispatch("RESUMED")
    assert (await discord_emulator.wait_for_callback(missed["id"]))["type"] == 4
    after = await discord_emulator.run_command("gacha rates")
    assert (await discord_emulator.wait_for_callback(after["id"]))["type"] == 4
    assert len(discord_emulator.gateway.frames_received(Op.IDENTIFY)) == 1  # resumed, not re-identified


async def test_emulator_invalid_session_makes_the_bot_identify_again(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    async with running_bot(discord_emulator, runtime, reidentify_delay=0):
        await discord_emulator.gateway.invalidate(resumable=False)
        await discord_emulator.wait_for_gateway_op(Op.IDENTIFY, nth=2)
        await discord_emulator.wait_for_dispatch("READY", nth=2)
        sent = await discord_emulator.run_command("gacha rates")
        assert (await discord_emulator.wait_for_callback(sent["id"]))["type"] == 4


async def test_emulator_missing_permission_and_unknown_objects_raise_discord_errors(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    discord_emulator.revoke_permission(1, "send_messages", channel_id=10)
    with pytest.raises(discord.Forbidden) as forbidden:
        await general(gateway_bot).send("nope")
    assert forbidden.value.code == 50013
    with pytest.raises(discord.NotFound) as unknown_message:
        await general(gateway_bot).fetch_message(999)
    assert unknown_message.value.code == 10008
    with pytest.raises(discord.NotFound) as unknown_channel:
        await gateway_bot.fetch_channel(12345)
    assert unknown_channel.value.code == 10003
    discord_emulator.forbid_channel(10)
    with pytest.raises(discord.Forbidden) as hidden:
        await gateway_bot.fetch_channel(10)
    assert hidden.value.code == 50001


async def test_emulator_armed_error_and_unhandled_routes_are_visible(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    discord_emulator.arm_error(
        "POST", "/channels/10/messages", status=404, code=10003, message="Unknown Channel"
    )
    with pytest.raises(discord.NotFound):
        await general(gateway_bot).send("gone")
    await general(gateway_bot).send("back")  # the fault was for one request only
    with pytest.raises(discord.NotFound):
        await gateway_bot.http.get_webhook(1)  # a route the emulator does not serve
    assert discord_emulator.traffic.unhandled == ["GET /api/v10/webhooks/1"]


async def test_emulator_malformed_request_fails_fast_and_is_recorded(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    bad = Route("POST", "/guilds/{guild_id}/channels", guild_id=1)
    with pytest.raises(discord.HTTPException) as refused:
        await gateway_bot.http.request(bad, json={"name": "x", "type": 99})
    assert refused.value.status == 400 and refused.value.code == 50035
    assert len(discord_emulator.traffic.errors) == 1
    discord_emulator.traffic.errors.clear()  # expected here; the fixture fails a test that leaves any
