"""Where the emulator used to be kinder than Discord: each test fails on the old behaviour."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import httpx
import pytest

from kyrios.core.discord_rest import RestDiscordPort
from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import WAIT_SECONDS, DiscordEmulator, running_bot

INTENTS = discord.Intents(guilds=True, members=True, messages=True, message_content=True)
MOD = 43


@pytest.fixture
async def bot(discord_emulator: DiscordEmulator, runtime: Runtime) -> AsyncIterator[KyriosBot]:
    """The bot with the members and messages intents, members chunked; 43 "mod" holds a nickname."""
    discord_emulator.add_member(1, MOD, "mod", nick="Moddy")
    async with running_bot(
        discord_emulator, runtime, intents=INTENTS, chunk_guilds_at_startup=True
    ) as running:
        yield running


def guild_of(bot: KyriosBot) -> discord.Guild:
    """Guild 1 as the bot's cache holds it."""
    guild = bot.get_guild(1)
    assert guild is not None
    return guild


def general(bot: KyriosBot) -> discord.TextChannel:
    """#general as the bot's cache holds it."""
    channel = bot.get_channel(10)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_a_nickname_cleared_by_discord_reaches_discord_py_as_none(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    cleared = discord_emulator.update_member(1, MOD, nick=None)
    (before, after), _ = await asyncio.gather(bot.wait_for("member_update", timeout=WAIT_SECONDS), cleared)
    assert before.nick == "Moddy" and after.nick is None
    frame = discord_emulator.gateway.dispatched("GUILD_MEMBER_UPDATE")[-1]
    assert "nick" in frame["d"] and frame["d"]["nick"] is None


async def test_member_edit_nick_none_clears_the_nickname(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    member = guild_of(bot).get_member(MOD)
    assert member is not None
    await member.edit(nick=None)  # discord.py sends `"nick": ""`, which Discord stores as no nickname
    assert discord_emulator.member(1, MOD).nick is None
    assert (await guild_of(bot).fetch_member(MOD)).nick is None
    with pytest.raises(discord.HTTPException) as too_long:
        await member.edit(nick="n" * 33)
    assert too_long.value.status == 400 and too_long.value.code == 50035


async def test_rest_messages_have_a_user_author_and_gateway_messages_a_member(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    no_member_cache = discord.Intents(guilds=True, messages=True, message_content=True)
    async with running_bot(discord_emulator, runtime, intents=no_member_cache) as bot:
        posted = discord_emulator.add_message(10, 42, "from REST")
        fetched = await general(bot).fetch_message(posted.id)
        assert type(fetched.author) is discord.User  # what production sees without a member cache
        assert "member" not in await bot.http.get_message(10, posted.id)
        await general(bot).send("mine")
        assert "member" not in discord_emulator.requests("POST", "/channels/10/messages")[-1].response_body
        seen, _ = await asyncio.gather(
            bot.wait_for("message", timeout=WAIT_SECONDS), discord_emulator.send_message(10, 42, "hi")
        )
        assert isinstance(seen.author, discord.Member)  # the gateway's partial member makes it one
        assert "user" not in discord_emulator.gateway.dispatched("MESSAGE_CREATE")[-1]["d"]["member"]


async def test_gateway_mentions_carry_the_partial_member(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    mention = discord_emulator.send_message(10, 42, "hey <@43>", mentions=[MOD])
    seen, _ = await asyncio.gather(bot.wait_for("message", timeout=WAIT_SECONDS), mention)
    assert [type(m) for m in seen.mentions] == [discord.Member]
    mentioned = seen.mentions[0]
    assert isinstance(mentioned, discord.Member) and mentioned.nick == "Moddy"
    frame = discord_emulator.gateway.dispatched("MESSAGE_CREATE")[-1]["d"]
    assert frame["mentions"][0]["member"]["nick"] == "Moddy" and "user" not in frame["mentions"][0]["member"]
    assert "user" not in frame["member"]
    history = [m async for m in general(bot).history(limit=1)]
    assert "member" not in discord_emulator.requests("GET", "/channels/10/messages")[-1].response_body[0]
    assert history[0].id == seen.id


async def test_the_bots_managed_role_is_its_self_role(gateway_bot: KyriosBot) -> None:
    guild = guild_of(gateway_bot)
    assert guild.self_role is not None and guild.self_role.name == "Kyrios"
    assert guild.self_role.is_bot_managed() and guild.self_role.tags is not None
    assert guild.self_role.tags.bot_id == guild.me.id
    assert guild.default_role.tags is None


async def test_history_around_answers_the_messages_around_the_pivot(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    posted = [discord_emulator.add_message(10, 42, f"m{n}") for n in range(9)]
    around = [m.content async for m in general(gateway_bot).history(around=posted[4], limit=3)]
    assert around == ["m5", "m4", "m3"]
    even = [m.content async for m in general(gateway_bot).history(around=posted[4], limit=4)]
    assert even == ["m6", "m5", "m4", "m3", "m2"]  # an even limit gives limit + 1, as on Discord
    edge = [m.content async for m in general(gateway_bot).history(around=posted[0], limit=5)]
    assert edge == ["m2", "m1", "m0"]


async def test_channel_edit_keeps_slowmode_and_nsfw(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    edited = await general(gateway_bot).edit(slowmode_delay=30, nsfw=True)
    assert discord_emulator.channel(10).rate_limit_per_user == 30 and discord_emulator.channel(10).nsfw
    assert isinstance(edited, discord.TextChannel) and edited.slowmode_delay == 30 and edited.is_nsfw()
    fetched = await gateway_bot.fetch_channel(10)
    assert isinstance(fetched, discord.TextChannel) and fetched.slowmode_delay == 30
    with pytest.raises(discord.HTTPException) as too_slow:
        await general(gateway_bot).edit(slowmode_delay=21601)
    assert too_slow.value.status == 400 and discord_emulator.channel(10).rate_limit_per_user == 30


async def test_role_and_member_changes_respect_the_role_hierarchy(
    discord_emulator: DiscordEmulator, bot: KyriosBot
) -> None:
    guild = guild_of(bot)
    top = discord_emulator.add_role(1, "Admins")
    top.position = discord_emulator.bot_role(1).position + 1  # above the bot's highest role
    low = discord_emulator.add_role(1, "Helpers")
    discord_emulator.member(1, MOD).roles = [top.id]
    tester = guild.get_member(42)
    assert tester is not None
    with pytest.raises(discord.Forbidden) as patched:
        await tester.edit(roles=[discord.Object(top.id)])
    assert patched.value.code == 50013 and discord_emulator.member(1, 42).roles == []
    with pytest.raises(discord.Forbidden):
        await tester.add_roles(discord.Object(top.id))
    with pytest.raises(discord.Forbidden):
        await tester.add_roles(discord.Object(discord_emulator.bot_role(1).id))  # managed
    await tester.edit(roles=[discord.Object(low.id)])  # below the bot: allowed
    assert discord_emulator.member(1, 42).roles == [low.id]
    with pytest.raises(discord.Forbidden):
        await guild.kick(discord.Object(MOD))  # outranks the bot
    with pytest.raises(discord.Forbidden):
        await guild.kick(discord.Object(guild.owner_id or 0))
    assert MOD in discord_emulator.guild(1).members


async def test_errors_carry_discords_code_and_rate_limit_headers(discord_emulator: DiscordEmulator) -> None:
    discord_emulator.arm_rate_limit("GET", "/users/@me", retry_after=0.5)
    discord_emulator.arm_error("GET", "/guilds/1", status=403, code=50001, message="Missing Access")
    headers = {"Authorization": f"Bot {discord_emulator.token}"}
    async with httpx.AsyncClient(base_url=discord_emulator.api_base) as client:
        unauthorised = await client.get("/users/@me")
        limited = await client.get("/users/@me", headers=headers)
        forbidden = await client.get("/guilds/1", headers=headers)
    assert unauthorised.status_code == 401 and unauthorised.json() == {
        "message": "401: Unauthorized",
        "code": 0,
    }
    assert limited.status_code == 429 and limited.json()["code"] == 0
    assert limited.json()["retry_after"] == 0.5 and limited.headers["X-RateLimit-Remaining"] == "0"
    assert forbidden.status_code == 403
    for response in (unauthorised, limited, forbidden):
        for name in ("Limit", "Remaining", "Reset", "Reset-After", "Bucket"):
            assert response.headers[f"X-RateLimit-{name}"], (response.status_code, name)


async def test_a_repeated_nonce_with_enforce_nonce_answers_the_first_message(
    discord_emulator: DiscordEmulator,
) -> None:
    port = RestDiscordPort(discord_emulator.token, api_base=discord_emulator.api_base)
    try:
        body = {"content": "once", "nonce": "ach-1", "enforce_nonce": True}
        first, again = await port.send_message(10, body), await port.send_message(10, body)
        loose = {"content": "twice", "nonce": "ach-2"}  # without enforce_nonce Discord posts each
        await port.send_message(10, loose)
        await port.send_message(10, loose)
    finally:
        await port.aclose()
    assert again.id == first.id
    assert [m.content for m in discord_emulator.channel_messages(10)] == ["once", "twice", "twice"]
