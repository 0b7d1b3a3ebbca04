"""A real discord.py client (KyriosBot) against the emulator's gateway: READY, GUILD_CREATE, chunking."""

from __future__ import annotations

import asyncio

import discord

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator import STANDARD_GUILD_ID, WAIT_SECONDS, DiscordEmulator, running_bot
from kyrios.testing.emulator.gateway import Op


async def test_emulator_bot_receives_ready_and_sees_guilds_from_guild_create(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    identify = await discord_emulator.wait_for_gateway_op(Op.IDENTIFY)
    assert identify["d"]["token"] == discord_emulator.token
    assert identify["d"]["shard"] == [0, 1]
    assert identify["d"]["intents"] == discord.Intents(guilds=True).value
    assert gateway_bot.is_ready()
    assert gateway_bot.user is not None and gateway_bot.user.id == discord_emulator.bot_user.id
    guild = gateway_bot.get_guild(1)
    assert guild is not None and guild.name == "Kyrios Test"
    general = guild.get_channel(10)
    assert isinstance(general, discord.TextChannel) and general.name == "general"
    assert guild.me is not None and guild.me.id == discord_emulator.bot_user.id
    assert [r.name for r in guild.roles] == ["@everyone", "Kyrios"]
    assert discord_emulator.traffic.unhandled == []


async def test_emulator_guilds_on_two_guilds_and_member_chunking(runtime: Runtime) -> None:
    async with DiscordEmulator() as emu:
        emu.add_standard_guild()
        emu.add_guild(2, "Second")
        emu.add_category(2, "Tickets", channel_id=20)
        emu.add_channel(2, "ticket-1", channel_id=21, parent_id=20)
        for user_id in range(100, 105):
            emu.add_member(2, user_id)
        intents = discord.Intents(guilds=True, members=True)
        async with running_bot(emu, runtime, intents=intents, chunk_guilds_at_startup=True) as bot:
            assert {g.id for g in bot.guilds} == {1, 2}
            second = bot.get_guild(2)
            assert second is not None and second.chunked
            assert {m.id for m in second.members} >= {100, 101, 102, 103, 104, emu.bot_user.id}
            ticket = second.get_channel(21)
            assert isinstance(ticket, discord.TextChannel) and ticket.category_id == 20
        request = await emu.wait_for_gateway_op(Op.REQUEST_GUILD_MEMBERS)
        assert request["d"]["guild_id"] in ("1", "2", 1, 2)


async def test_emulator_bot_added_to_and_removed_from_a_guild(
    discord_emulator: DiscordEmulator, gateway_bot: KyriosBot
) -> None:
    discord_emulator.add_guild(3, "Newcomers")
    discord_emulator.add_channel(3, "welcome", channel_id=30)
    joined, _ = await asyncio.gather(
        gateway_bot.wait_for("guild_join", timeout=WAIT_SECONDS), discord_emulator.bot_joins_guild(3)
    )
    assert joined.id == 3 and joined.get_channel(30) is not None
    removed, _ = await asyncio.gather(
        gateway_bot.wait_for("guild_remove", timeout=WAIT_SECONDS), discord_emulator.bot_leaves_guild(3)
    )
    assert removed.id == 3 and gateway_bot.get_guild(3) is None


async def test_a_guild_arriving_after_on_ready_is_held_before_the_test_starts(runtime: Runtime) -> None:
    async with DiscordEmulator() as emu:
        emu.add_standard_guild()
        emu.gateway.guild_create_delay = 0.3  # longer than the harness's guild_ready_timeout
        async with running_bot(emu, runtime) as bot:
            guild = bot.get_guild(STANDARD_GUILD_ID)
            assert guild is not None and not guild.unavailable


async def test_emulator_two_shards_split_the_guilds(runtime: Runtime) -> None:
    async with DiscordEmulator() as emu:
        emu.shard_count = 2
        emu.add_standard_guild()  # guild 1 -> shard (1 >> 22) % 2 == 0
        far = 1 << 22  # -> shard 1
        emu.add_guild(far, "Far away")
        async with running_bot(emu, runtime, reidentify_delay=0) as bot:
            assert {g.id: g.shard_id for g in bot.guilds} == {1: 0, far: 1}
            shards = sorted(tuple(f["d"]["shard"]) for f in emu.gateway.frames_received(Op.IDENTIFY))
            assert shards == [(0, 2), (1, 2)]
            sent = await emu.run_command("gacha rates", guild_id=far)
            assert (await emu.wait_for_callback(sent["id"]))["type"] == 4
            delivered = [
                s.shard_id
                for s in emu.gateway.sessions.values()
                for f in s.sent
                if f["t"] == "INTERACTION_CREATE"
            ]
            assert delivered == [1]
