"""Voice states through the emulator's main gateway and REST, seen by a real discord.py client."""

from __future__ import annotations

import asyncio

import discord
import pytest

from kyrios.runtime import Runtime
from kyrios.testing.emulator import (
    STANDARD_USER_ID,
    WAIT_SECONDS,
    AuditAction,
    ChannelType,
    DiscordEmulator,
    Op,
    running_bot,
)
from kyrios.testing.emulator.fidelity import gateway_errors, load_discord_types, shape_errors
from kyrios.testing.emulator.models import AuditEntry

load_discord_types()
from discord.types import gateway, voice  # noqa: E402  (after the import-cycle fix above)

VOICE_INTENTS = discord.Intents(guilds=True, voice_states=True)
LOUNGE, STUDIO = 50, 51


def add_voice_channels(emu: DiscordEmulator) -> None:
    emu.add_channel(1, "lounge", channel_id=LOUNGE, type=ChannelType.VOICE)
    emu.add_channel(1, "studio", channel_id=STUDIO, type=ChannelType.VOICE)


def channel_of(member: discord.Member | None) -> int | None:
    voice = member.voice if member else None
    return voice.channel.id if voice and voice.channel else None


async def test_voice_states_come_with_the_guild_and_follow_users_joining_moving_and_leaving(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    add_voice_channels(emu)
    emu.add_member(1, 43, "listener")
    await emu.voice_state(1, STANDARD_USER_ID, LOUNGE, self_mute=True)  # before the bot connects
    async with running_bot(emu, runtime, intents=VOICE_INTENTS) as bot:
        guild = bot.get_guild(1)
        assert guild is not None
        lounge = guild.get_channel(LOUNGE)
        assert isinstance(lounge, discord.VoiceChannel)
        assert [m.id for m in lounge.members] == [STANDARD_USER_ID]  # without the members intent, too
        tester = guild.get_member(STANDARD_USER_ID)
        assert tester is not None and tester.voice is not None and tester.voice.self_mute

        for channel_id in (STUDIO, LOUNGE, None):  # join, move, leave
            update = bot.wait_for("voice_state_update", check=lambda m, *_: m.id == 43, timeout=WAIT_SECONDS)
            _, (_member, before, after) = await asyncio.gather(emu.voice_state(1, 43, channel_id), update)
            assert (after.channel.id if after.channel else None) == channel_id
            assert channel_of(guild.get_member(43)) == channel_id
        assert before.channel is not None and before.channel.id == LOUNGE
        assert emu.voice_of(1, 43) is None and emu.voice_of(1, STANDARD_USER_ID) is not None
    assert emu.gateway.dispatched("GUILD_CREATE")[0]["d"]["voice_states"][0]["user_id"] == str(
        STANDARD_USER_ID
    )


async def test_moving_muting_and_deafening_members_over_rest_changes_their_voice_state(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    add_voice_channels(emu)
    await emu.voice_state(1, STANDARD_USER_ID, LOUNGE)
    async with running_bot(emu, runtime, intents=VOICE_INTENTS) as bot:
        guild = bot.get_guild(1)
        studio = bot.get_channel(STUDIO)
        assert guild is not None and isinstance(studio, discord.VoiceChannel)
        tester = guild.get_member(STANDARD_USER_ID)
        assert tester is not None

        await tester.edit(mute=True, deafen=True, reason="too loud")
        await emu.wait_until(lambda: bool(tester.voice and tester.voice.mute and tester.voice.deaf))
        entry = guild_entry(emu, AuditAction.MEMBER_UPDATE)
        assert {c["key"] for c in entry.changes or []} == {"mute", "deaf"} and entry.reason == "too loud"
        await tester.move_to(studio)
        await emu.wait_until(lambda: channel_of(tester) == STUDIO)
        voice = emu.voice_of(1, STANDARD_USER_ID)
        assert voice is not None and voice.channel_id == STUDIO and emu.flags_of(1, STANDARD_USER_ID).mute
        await tester.move_to(None)
        await emu.wait_until(lambda: tester.voice is None)
        assert emu.voice_of(1, STANDARD_USER_ID) is None

        with pytest.raises(discord.HTTPException) as not_in_voice:
            await tester.move_to(studio)
        assert not_in_voice.value.code == 40032
        await emu.voice_state(1, STANDARD_USER_ID, LOUNGE)
        emu.revoke_permission(1, "move_members")
        with pytest.raises(discord.Forbidden):
            await tester.move_to(studio)
        voice = emu.voice_of(1, STANDARD_USER_ID)
        assert voice is not None and voice.channel_id == LOUNGE  # a refused edit changes nothing


async def test_the_bot_joins_over_op_4_is_moved_and_is_disconnected_by_someone_else(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    add_voice_channels(emu)
    async with running_bot(emu, runtime, intents=VOICE_INTENTS) as bot:
        lounge, studio = bot.get_channel(LOUNGE), bot.get_channel(STUDIO)
        assert isinstance(lounge, discord.VoiceChannel) and isinstance(studio, discord.VoiceChannel)
        client: discord.VoiceClient = await lounge.connect(timeout=WAIT_SECONDS, self_deaf=True)
        request = await emu.wait_for_gateway_op(Op.VOICE_STATE_UPDATE)
        assert request["d"]["channel_id"] == LOUNGE and request["d"]["self_deaf"] is True
        server = (await emu.wait_for_dispatch("VOICE_SERVER_UPDATE"))["d"]
        assert server["endpoint"] == emu.voice_server.endpoint and server["guild_id"] == "1"
        connection = await emu.wait_for_voice_connection(1)
        state = emu.voice_of(1, emu.bot_user.id)
        assert state is not None and state.self_deaf and state.session_id == connection.session_id

        guild = lounge.guild
        await guild.me.move_to(studio)  # an admin drags the bot elsewhere
        await emu.wait_for_voice_connection(1, nth=2)  # moved: a new voice session
        await reconnected(client, STUDIO)
        udp = client._connection.socket
        await client.move_to(lounge)  # and the bot moves itself back (op 4, another channel)
        await emu.wait_for_voice_connection(1, nth=3)
        await reconnected(client, LOUNGE)
        assert client._connection.socket is not udp
        udp.close()  # discord.py 2.7.1 replaces its UDP socket on its own move without closing the old one
        moved = emu.voice_of(1, emu.bot_user.id)
        assert moved is not None and moved.channel_id == LOUNGE
        assert len(emu.gateway.dispatched("VOICE_SERVER_UPDATE")) == 3  # each move: a new voice server
        await lounge.guild.change_voice_state(channel=lounge, self_mute=True)  # only the state changes
        await emu.wait_until(lambda: bool((v := emu.voice_of(1, emu.bot_user.id)) and v.self_mute))
        assert len(emu.gateway.dispatched("VOICE_SERVER_UPDATE")) == 3 and client.is_connected()

        await emu.voice_state(1, emu.bot_user.id, None)  # and then disconnects it
        await emu.wait_until(lambda: not client.is_connected(), what="the voice client to stop")
        latest = emu.voice_server.connection(1)
        await emu.wait_until(lambda: latest.closed_with is not None, what="the voice socket closing")
        assert bot.voice_clients == []
    assert_shapes(emu)


async def reconnected(client: discord.VoiceClient, channel_id: int) -> None:
    """Wait until discord.py's voice client is connected again, in that channel (its own state)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            if client.is_connected() and client.channel.id == channel_id:
                return
            await asyncio.sleep(0.01)


def assert_shapes(emu: DiscordEmulator) -> None:
    """Every voice event sent matches discord.py's TypedDicts (and GUILD_CREATE's gateway rules)."""
    shapes = {
        "GUILD_CREATE": gateway.GuildCreateEvent,
        "VOICE_STATE_UPDATE": gateway.VoiceStateUpdateEvent,
        "VOICE_SERVER_UPDATE": gateway.VoiceServerUpdateEvent,
    }
    for event, shape in shapes.items():
        frames = emu.gateway.dispatched(event)
        assert frames, event
        for sent in frames:
            left = event == "VOICE_STATE_UPDATE" and sent["d"]["channel_id"] is None
            # discord.py types the event's channel_id as never null; a leave is its VoiceState
            assert shape_errors(sent["d"], voice.VoiceState if left else shape) == [], event
            assert gateway_errors(event, sent["d"], bot_user_id=emu.bot_user.id) == [], event


async def test_the_bot_without_connect_permission_gets_no_answer(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    add_voice_channels(emu)
    emu.revoke_permission(1, "connect", channel_id=LOUNGE)
    async with running_bot(emu, runtime, intents=VOICE_INTENTS) as bot:
        lounge = bot.get_channel(LOUNGE)
        assert isinstance(lounge, discord.VoiceChannel)
        with pytest.raises(asyncio.TimeoutError):
            await lounge.connect(timeout=0.5, reconnect=False)
        assert emu.gateway.dispatched("VOICE_SERVER_UPDATE") == []
        assert emu.voice_of(1, emu.bot_user.id) is None


def guild_entry(emu: DiscordEmulator, action: AuditAction) -> AuditEntry:
    return next(e for e in reversed(emu.guild(1).audit_log) if e.action_type == action)


async def test_a_restarted_bot_still_listed_in_voice_can_connect_again(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    add_voice_channels(emu)
    await emu.voice_state(1, emu.bot_user.id, LOUNGE)  # left over from a bot that crashed
    async with running_bot(emu, runtime, intents=VOICE_INTENTS) as bot:
        lounge = bot.get_channel(LOUNGE)
        assert isinstance(lounge, discord.VoiceChannel)
        assert [m.id for m in lounge.members] == [emu.bot_user.id]
        client: discord.VoiceClient = await lounge.connect(timeout=WAIT_SECONDS)
        connection = await emu.wait_for_voice_connection(1)
        assert connection.session_id == emu.voice_of(1, emu.bot_user.id).session_id  # type: ignore[union-attr]
        await client.disconnect()
