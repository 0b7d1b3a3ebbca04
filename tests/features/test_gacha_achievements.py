"""Gacha achievements are announced exactly once, and the per-member hints never hide or repeat one."""

from __future__ import annotations

from sqlalchemy import insert

from kyrios.features.achievements.models import AchievementUnlock
from kyrios.features.gacha.models import GachaDailyClaim
from kyrios.features.gacha.service import guild_day
from kyrios.features.guild_settings.service import defaults as default_settings
from kyrios.features.guild_settings.service import zone
from kyrios.runtime import Runtime
from kyrios.slash.reply import Reply
from tests.helpers import announced, assert_ledger_balanced, balance, invoke, text_of


async def fund(rt: Runtime, points: int) -> None:
    assert not (await invoke(rt, "give", admin=True, user_id=1, users={}, user="42", amount=points)).is_error


async def pull(rt: Runtime, count: int = 1) -> Reply:
    reply = await invoke(rt, "gacha pull", count=count)
    assert not reply.is_error, reply.content
    return reply


async def test_collector_is_announced_once_when_the_tenth_different_item_arrives(runtime: Runtime) -> None:
    await fund(runtime, 1_000_000)
    await pull(runtime)  # the default table: 8 items, so nobody can be a collector yet
    for name in ("Copper Coin", "Glass Bead"):
        reply = await invoke(
            runtime, "gacha item add", admin=True, user_id=1, name=name, rarity="N", weight=5000
        )
        assert not reply.is_error, reply.content
    for _ in range(60):
        await pull(runtime, 10)
    assert (await announced(runtime)).count("gacha_collector") == 1
    listing = text_of(await invoke(runtime, "achievements"))
    assert "Collector" in listing
    await assert_ledger_balanced(runtime)


async def test_high_roller_comes_with_the_hundredth_pull_and_only_then(runtime: Runtime) -> None:
    await fund(runtime, 1_000_000)
    queued = []
    for _ in range(12):
        await pull(runtime, 10)
        queued.append((await announced(runtime)).count("gacha_high_roller"))
    assert queued == [0] * 9 + [1] * 3


async def test_an_unlock_recorded_elsewhere_is_not_announced_again(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:  # e.g. written by an earlier version
        await session.execute(
            insert(AchievementUnlock).values(
                guild_id=1, user_id=42, code="gacha_first_pull", unlocked_at=runtime.clock.now()
            )
        )
    await pull(runtime)
    await fund(runtime, 1_000)
    await pull(runtime)
    assert "gacha_first_pull" not in await announced(runtime)


async def test_a_free_pull_claimed_elsewhere_today_is_not_given_twice(runtime: Runtime) -> None:
    await fund(runtime, 1_000)
    day, _ = guild_day(runtime.clock.now(), zone(default_settings(1), runtime.settings.default_timezone))
    async with runtime.db.transaction() as session:  # the claim exists, the member's hint does not
        await session.execute(
            insert(GachaDailyClaim).values(guild_id=1, user_id=42, day=day, claimed_at=runtime.clock.now())
        )
    reply = await pull(runtime)
    assert "· free" not in text_of(reply)
    assert await balance(runtime) == 900
    assert (await invoke(runtime, "gacha daily")).is_error
