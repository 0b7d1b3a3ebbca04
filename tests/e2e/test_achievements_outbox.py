"""The achievement relay against the emulator through the REST port: an unlock committed before any
relay ran is announced once when one starts; a relay that crashed between posting and marking does
not post twice after its restart (Discord's enforce_nonce); the guild's role and language apply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import select

from kyrios.core.discord_rest import RestDiscordPort
from kyrios.core.ports import DiscordPort, Message, Upload
from kyrios.features.achievements.models import AchievementOutbox
from kyrios.features.achievements.relay import MAX_ATTEMPTS, OutboxRelay
from kyrios.features.achievements.service import OUTBOX_WAKE
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator
from tests.helpers import invoke

GENERAL = 10


class Crash(BaseException):
    """The process dies (not an error the relay could handle)."""


class CrashingAfterPost(RestDiscordPort):
    """Posts for real, then the process dies before the relay can mark the row."""

    async def send_message(
        self, channel_id: int, body: dict[str, object], *, files: Sequence[Upload] = ()
    ) -> Message:
        await super().send_message(channel_id, body, files=files)
        raise Crash


@pytest.fixture
async def rest(discord_emulator: DiscordEmulator) -> AsyncIterator[RestDiscordPort]:
    port = RestDiscordPort(discord_emulator.token, api_base=discord_emulator.api_base)
    try:
        yield port
    finally:
        await port.aclose()


def relay(runtime: Runtime, port: DiscordPort, *, poll_seconds: float = 60.0) -> OutboxRelay:
    return OutboxRelay(
        runtime.db, runtime.bus, runtime.clock, lambda: port, lambda _: True, poll_seconds=poll_seconds
    )


def announcements(emu: DiscordEmulator) -> list[str]:
    return [m.embeds[0]["title"] for m in emu.channel_messages(GENERAL) if m.embeds]


async def outbox(runtime: Runtime) -> list[AchievementOutbox]:
    async with runtime.db.read() as session:
        return list(await session.scalars(select(AchievementOutbox).order_by(AchievementOutbox.id)))


async def test_a_crash_between_post_and_mark_does_not_repeat_the_announcement(
    discord_emulator: DiscordEmulator, runtime: Runtime, rest: RestDiscordPort
) -> None:
    emu = discord_emulator
    assert not (await invoke(runtime, "give", admin=True, user="42", amount=1000)).is_error
    crashing = CrashingAfterPost(emu.token, api_base=emu.api_base)
    first = relay(runtime, crashing)
    try:
        with pytest.raises(Crash):
            await first.drain()
    finally:
        first.close()
        await crashing.aclose()
    assert announcements(emu) == ["💰 Achievement unlocked: Saver"]
    [row] = await outbox(runtime)
    assert row.sent_at is None  # posted, not marked: the crash came between

    restarted = relay(runtime, rest)
    try:
        assert await restarted.drain() == 1
        assert await restarted.drain() == 0
    finally:
        restarted.close()
    [message] = emu.channel_messages(GENERAL)
    [row] = await outbox(runtime)
    assert row.sent_at is not None and row.message_id == message.id  # Discord handed back the first
    assert "<@42> unlocked **Saver**" in message.embeds[0]["description"]


async def test_an_unlock_committed_while_no_relay_ran_is_announced_when_one_starts(
    discord_emulator: DiscordEmulator, runtime: Runtime, rest: RestDiscordPort
) -> None:
    emu = discord_emulator
    await invoke(runtime, "give", admin=True, user="42", amount=1000)  # the bot was down
    running = relay(runtime, rest)
    task = asyncio.create_task(running.run())
    try:
        await emu.wait_until(lambda: len(announcements(emu)) == 1, what="the pending announcement")
        await invoke(runtime, "give", admin=True, user="42", amount=9000)
        runtime.bus.publish(OUTBOX_WAKE, {"guild_id": 1})  # what a command does after its commit
        async with asyncio.timeout(10):
            while running.delivered < 2:  # posted, then marked  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert announcements(emu) == ["💰 Achievement unlocked: Saver", "💎 Achievement unlocked: Wealthy"]
    assert all(row.sent_at is not None for row in await outbox(runtime))


async def test_the_guilds_role_is_granted_and_its_language_spoken(
    discord_emulator: DiscordEmulator, runtime: Runtime, rest: RestDiscordPort
) -> None:
    emu = discord_emulator
    role = emu.add_role(1, "Savers")
    assert not (
        await invoke(runtime, "achievement role", admin=True, achievement="points_1k", role=role.id)
    ).is_error
    assert not (await invoke(runtime, "settings set", admin=True, locale="ja")).is_error
    await invoke(runtime, "give", admin=True, user="42", amount=1000)
    running = relay(runtime, rest)
    try:
        assert await running.drain() == 1
    finally:
        running.close()
    assert role.id in emu.member(1, 42).roles
    [message] = emu.channel_messages(GENERAL)
    assert message.embeds[0]["title"] == "💰 実績解除: 貯金家"
    assert (
        message.embeds[0]["description"] == "<@42> さんが **貯金家** を解除しました：1,000 ポイントを持つ。"
    )


async def test_a_channel_discord_refuses_is_given_up_after_a_few_attempts(
    discord_emulator: DiscordEmulator, runtime: Runtime, rest: RestDiscordPort
) -> None:
    await runtime.db.run(
        lambda s: s.run_sync(
            lambda sync: sync.add(
                AchievementOutbox(
                    guild_id=1, user_id=42, code="points_1k", channel_id=99999, created_at=runtime.clock.now()
                )
            )
        )
    )
    running = relay(runtime, rest)
    try:
        for _ in range(MAX_ATTEMPTS - 1):
            assert await running.drain() == 0
            [row] = await outbox(runtime)
            assert row.sent_at is None
        assert await running.drain() == 1
    finally:
        running.close()
    [row] = await outbox(runtime)
    assert row.sent_at is not None and row.message_id is None and row.attempts == MAX_ATTEMPTS


async def test_a_role_discord_refuses_does_not_hold_back_the_announcement(
    discord_emulator: DiscordEmulator, runtime: Runtime, rest: RestDiscordPort
) -> None:
    gone = 424_242  # a role the guild does not have (deleted after it was chosen)
    await invoke(runtime, "achievement role", admin=True, achievement="points_1k", role=str(gone))
    await invoke(runtime, "give", admin=True, user="42", amount=1000)
    running = relay(runtime, rest)
    try:
        assert await running.drain() == 1
    finally:
        running.close()
    assert announcements(discord_emulator) == ["💰 Achievement unlocked: Saver"]
    assert gone not in discord_emulator.member(1, 42).roles
