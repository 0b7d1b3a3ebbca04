"""Activity points end to end: messages and voice through the emulator's gateway to the economy cog."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.features.achievements.models import AchievementOutbox
from kyrios.features.economy.models import EconomyLedger, EconomyMember, Reason
from kyrios.gateway.bot import KyriosBot
from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator, running_bot
from kyrios.testing.emulator.models import ChannelType
from tests.conftest import START
from tests.e2e.gateway_helpers import eventually
from tests.helpers import announced, balance, count_rows, invoke

SENTINEL_GUILD = 2
SENTINEL_CHANNEL = 2_000
"""A second guild where each `settled` call's new member posts: their paid message shows that every
event sent before it has reached the bot (events of one socket arrive in order)."""
_sentinels = itertools.count(5_000)


@pytest.fixture
def clock() -> FrozenClock:
    """Frozen time, moved by the tests (voice minutes, message cooldowns)."""
    return FrozenClock(START)


@asynccontextmanager
async def economy_bot(emu: DiscordEmulator, runtime: Runtime, **rules: int) -> AsyncIterator[KyriosBot]:
    """The bot running the economy cog, guild 1 with the given earning rules."""
    options: dict[str, Any] = rules
    assert not (await invoke(runtime, "earn config", admin=True, **options)).is_error
    emu.add_guild(SENTINEL_GUILD, "Sentinels")
    emu.add_channel(SENTINEL_GUILD, "pings", channel_id=SENTINEL_CHANNEL)
    assert not (
        await invoke(runtime, "earn config", admin=True, guild_id=SENTINEL_GUILD, message_points=1)
    ).is_error
    emu.add_member(1, 77, "user77")
    async with running_bot(emu, runtime, intents=intents_for(["economy"])) as bot:
        yield bot


async def settled(emu: DiscordEmulator, runtime: Runtime, bot: KyriosBot) -> None:
    """Wait until every event sent so far is handled: a sentinel's message paid, listeners done."""
    sentinel = next(_sentinels)
    emu.add_member(SENTINEL_GUILD, sentinel, f"sentinel{sentinel}")
    await emu.send_message(SENTINEL_CHANNEL, sentinel, "ping")

    async def paid() -> bool:
        return await balance(runtime, sentinel, SENTINEL_GUILD) > 0

    await eventually(paid)
    await bot.settle()


async def test_messages_earn_once_per_cooldown(
    discord_emulator: DiscordEmulator, runtime: Runtime, clock: FrozenClock
) -> None:
    emu = discord_emulator
    general = emu.add_channel(1, "general")
    emu.add_member(1, 78, "a-bot", bot=True)
    async with economy_bot(emu, runtime, message_points=5, message_cooldown=60) as bot:
        for n in range(6):
            await emu.send_message(general.id, 77, f"spam {n}")
        await emu.send_message(general.id, 78, "beep")
        await settled(emu, runtime, bot)
        assert await balance(runtime, 77) == 5  # six messages within the cooldown: one payment
        assert await balance(runtime, 78) == 0  # bots earn nothing
        clock.advance(timedelta(seconds=61))
        await emu.send_message(general.id, 77, "later")
        await settled(emu, runtime, bot)
    assert await balance(runtime, 77) == 10
    assert await count_rows(runtime, EconomyLedger, user_id=77, reason=Reason.MESSAGE_ACTIVITY) == 2


async def test_a_role_multiplier_scales_message_points_and_daily(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    general = emu.add_channel(1, "general")
    booster = emu.add_role(1, "Booster")
    emu.add_member(1, 80, "booster", roles=[booster.id])
    assert not (
        await invoke(runtime, "earn multiplier", admin=True, role=str(booster.id), percent=250)
    ).is_error
    async with economy_bot(emu, runtime, message_points=4) as bot:
        await emu.send_message(general.id, 80, "hello")
        await settled(emu, runtime, bot)
        assert await balance(runtime, 80) == 10
        sent = await emu.run_command("daily", user_id=80)  # the gateway door passes the roles too
        await emu.wait_for_callback(sent["id"])
    assert await balance(runtime, 80) == 10 + 250


async def test_voice_minutes_earn_and_deafened_or_short_stays_do_not(
    discord_emulator: DiscordEmulator, runtime: Runtime, clock: FrozenClock
) -> None:
    emu = discord_emulator
    lounge = emu.add_channel(1, "lounge", type=ChannelType.VOICE)

    async def in_voice() -> bool:
        async with runtime.db.read() as session:
            row = await session.get(EconomyMember, (1, 77))
            return row is not None and row.voice_since is not None

    async with economy_bot(emu, runtime, message_points=1, voice_points=2) as bot:
        await emu.voice_state(1, 77, lounge.id)
        await eventually(in_voice)
        clock.advance(timedelta(minutes=10, seconds=30))
        await emu.voice_state(1, 77, None)
        await settled(emu, runtime, bot)
        assert await balance(runtime, 77) == 20  # ten whole minutes
        for _ in range(5):  # hopping in and out within a minute earns nothing
            await emu.voice_state(1, 77, lounge.id)
            clock.advance(timedelta(seconds=20))
            await emu.voice_state(1, 77, None)
        await emu.voice_state(1, 77, lounge.id, self_deaf=True)  # deafened: not counted
        clock.advance(timedelta(minutes=30))
        await emu.voice_state(1, 77, None)
        await settled(emu, runtime, bot)
    assert await balance(runtime, 77) == 20
    assert await count_rows(runtime, EconomyLedger, user_id=77, reason=Reason.VOICE_ACTIVITY) == 1


async def test_a_guild_with_the_economy_off_pays_no_activity(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    general = emu.add_channel(1, "general")
    async with economy_bot(emu, runtime, message_points=5) as bot:
        await emu.send_message(general.id, 77, "hello")
        await settled(emu, runtime, bot)
        assert await balance(runtime, 77) == 5
        switched = await invoke(runtime, "settings feature", admin=True, name="economy", state="off")
        assert not switched.is_error, switched.content
        await emu.send_message(general.id, 77, "again")
        await settled(emu, runtime, bot)
    assert await balance(runtime, 77) == 5


async def test_a_message_that_reaches_a_points_milestone_queues_it_for_that_channel(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    general = emu.add_channel(1, "general")
    await invoke(runtime, "give", admin=True, user="77", amount=995)
    async with economy_bot(emu, runtime, message_points=5, message_cooldown=60) as bot:
        await emu.send_message(general.id, 77, "the thousandth point")
        await settled(emu, runtime, bot)
    assert await announced(runtime, 77) == ["points_1k"]
    assert await count_rows(runtime, AchievementOutbox, user_id=77, channel_id=general.id) == 1
