"""Achievement rules over every slice's stats, each unlocked once (even by racing transactions), with
one outbox row per unlock written in the unlock's transaction; owned items kept by every pull."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import FrozenClock
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import CATALOGUE, Stat
from kyrios.features.achievements.models import AchievementOutbox, AchievementUnlock
from kyrios.features.gacha.models import GachaOwnedItem, GachaPull
from kyrios.runtime import Runtime
from tests.features.test_locale import ask
from tests.features.wallet_keys import eth_wallet, message_in
from tests.helpers import announced, count_rows, invoke, text_of


def test_every_stat_feeds_a_rule_and_thresholds_decide() -> None:
    assert {a.stat for a in CATALOGUE.values()} == set(Stat)
    assert achievements.earned({Stat.RUMBLE_WINS: 9}) == ["rumble_first_win"]
    assert achievements.earned({Stat.RUMBLE_WINS: 10}) == ["rumble_first_win", "rumble_master"]
    assert achievements.earned({Stat.RUMBLE_WINS: 10}, known={"rumble_first_win"}) == ["rumble_master"]
    tiers = achievements.earned({Stat.GACHA_DISTINCT_ITEMS: 25})
    assert tiers == ["gacha_collector", "gacha_collector_25"]


async def test_a_seven_day_streak_unlocks_once_and_is_announced_in_the_channel(
    runtime: Runtime, clock: FrozenClock
) -> None:
    for day in range(9):
        reply = await invoke(runtime, "daily")
        assert not reply.is_error, reply.content
        assert (await announced(runtime)).count("daily_streak_7") == (1 if day >= 6 else 0)
        clock.advance(timedelta(days=1))
    async with runtime.db.read() as session:
        row = await session.scalar(
            select(AchievementOutbox).where(AchievementOutbox.code == "daily_streak_7")
        )
    assert row is not None and row.channel_id == 10 and row.sent_at is None


async def test_points_milestones_come_with_the_credit_that_reaches_them(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=999)
    assert await announced(runtime) == []
    await invoke(runtime, "give", admin=True, user="42", amount=1)
    assert await announced(runtime) == ["points_1k"]
    await invoke(runtime, "give", admin=True, user="42", amount=20_000)
    await invoke(runtime, "give", admin=True, user="42", amount=1)
    assert await announced(runtime) == ["points_1k", "points_10k"]


async def test_a_verified_wallet_unlocks_in_the_challenge_guild(runtime: Runtime) -> None:
    wallet = eth_wallet()
    link = await invoke(runtime, "wallet link", chain="ETH", address=wallet.address)
    done = await invoke(runtime, "wallet verify", signature=wallet.sign(message_in(link)))
    assert not done.is_error, text_of(done)
    assert await announced(runtime) == ["wallet_verified"]


async def test_the_tickets_hook_unlocks_from_reported_stats(runtime: Runtime) -> None:
    """The tickets slice reports its counts through the same hook (`observe`)."""

    async def report(session: AsyncSession, opened: int) -> list[str]:
        fresh = await achievements.observe(
            session,
            guild_id=1,
            user_id=42,
            stats={Stat.TICKETS_OPENED: opened, Stat.TICKETS_CLOSED_AS_STAFF: 0},
            now=runtime.clock.now(),
            channel_id=10,
        )
        return [a.code for a in fresh]

    assert await runtime.db.run(lambda s: report(s, 1)) == ["ticket_first"]
    assert await runtime.db.run(lambda s: report(s, 2)) == []
    assert await announced(runtime) == ["ticket_first"]


async def test_racing_transactions_unlock_and_queue_exactly_once(runtime: Runtime) -> None:
    async def tenth_win(session: AsyncSession) -> int:
        fresh = await achievements.observe(
            session, guild_id=1, user_id=42, stats={Stat.RUMBLE_WINS: 10}, now=runtime.clock.now()
        )
        return len(fresh)

    for _ in range(3):  # a few rounds: the race is decided differently each time
        await runtime.db.run(lambda s: s.execute(delete(AchievementUnlock)))
        await runtime.db.run(lambda s: s.execute(delete(AchievementOutbox)))
        unlocked = await asyncio.gather(*(runtime.db.run(tenth_win) for _ in range(8)))
        assert sum(unlocked) == 2  # rumble_first_win and rumble_master, by whichever won each
        assert await count_rows(runtime, AchievementUnlock, user_id=42) == 2
        assert sorted(await announced(runtime)) == ["rumble_first_win", "rumble_master"]


async def test_a_rolled_back_command_leaves_no_unlock_and_no_announcement(runtime: Runtime) -> None:
    class Refused(Exception):
        pass

    async def unlock_then_fail(session: AsyncSession) -> None:
        await achievements.observe(
            session, guild_id=1, user_id=42, stats={Stat.RUMBLE_WINS: 1}, now=runtime.clock.now()
        )
        raise Refused

    with pytest.raises(Refused):
        await runtime.db.run(unlock_then_fail)
    assert await count_rows(runtime, AchievementUnlock) == 0 and await announced(runtime) == []


async def test_owned_items_follow_the_pulls_and_feed_the_collector_tiers(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=1_000_000)
    await invoke(runtime, "gacha pull")  # the default table (8 items) is made
    for n in range(30):
        added = await invoke(
            runtime, "gacha item add", admin=True, name=f"Token {n}", rarity="N", weight=9000
        )
        assert not added.is_error, added.content
    for _ in range(40):
        assert not (await invoke(runtime, "gacha pull", count=10)).is_error
    async with runtime.db.read() as session:
        pulled = dict(
            (
                await session.execute(
                    select(GachaPull.item_id, func.count())
                    .where(GachaPull.user_id == 42)
                    .group_by(GachaPull.item_id)
                )
            ).all()
        )
        owned = {row.item_id: row.copies for row in await session.scalars(select(GachaOwnedItem))}
    assert owned == pulled
    codes = await announced(runtime)
    assert codes.count("gacha_collector") == 1
    assert codes.count("gacha_collector_25") == (1 if len(owned) >= 25 else 0) and len(owned) >= 25
    assert "gacha_collector_50" not in codes  # 38 items exist
    assert f"{len(owned)} different" in text_of(await invoke(runtime, "profile"))


async def test_admins_choose_a_role_per_achievement_and_bad_codes_change_nothing(runtime: Runtime) -> None:
    refused = await invoke(runtime, "achievement role", admin=True, achievement="nope", role="777")
    assert refused.is_error and "There is no achievement `nope`" in (refused.content or "")
    in_japanese = await ask(
        runtime, "achievement role", user_locale="ja", admin=True, achievement="nope", role="777"
    )
    assert "実績 `nope` はありません" in (in_japanese.content or "")
    both = await invoke(
        runtime, "achievement role", admin=True, achievement="points_1k", role="777", no_role=True
    )
    assert both.is_error
    set_ = await invoke(runtime, "achievement role", admin=True, achievement="points_1k", role="777")
    assert not set_.is_error and "<@&777>" in (set_.content or "")
    await invoke(runtime, "give", admin=True, user="42", amount=1000)
    async with runtime.db.read() as session:
        row = await session.scalar(select(AchievementOutbox))
    assert row is not None and (row.code, row.role_id) == ("points_1k", 777)
    assert not (
        await invoke(runtime, "achievement role", admin=True, achievement="points_1k", no_role=True)
    ).is_error
    await invoke(runtime, "give", admin=True, user="43", amount=1000)
    async with runtime.db.read() as session:
        other = await session.scalar(select(AchievementOutbox).where(AchievementOutbox.user_id == 43))
    assert other is not None and other.role_id is None
    assert (
        await invoke(runtime, "achievement role", achievement="points_1k", role="777")
    ).is_error  # not admin


async def test_profile_lists_the_unlocked_achievements(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=1000)
    profile = text_of(await invoke(runtime, "profile"))
    assert f"Achievements (1/{len(CATALOGUE)})" in profile and "💰 Saver" in profile
