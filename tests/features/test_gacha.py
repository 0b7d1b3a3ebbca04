"""Gacha end to end through the registry: free daily pull, paid pulls, pity, rates, admin, achievements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kyrios.core.clock import FrozenClock
from kyrios.core.rng import RandomSource
from kyrios.features.economy.models import EconomyLedger, Reason
from kyrios.features.gacha.models import GachaDailyClaim, GachaPull
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.database import wipe
from tests.helpers import announced, assert_ledger_balanced, balance, count_rows, invoke, press, text_of


async def test_first_pull_on_a_new_guild_is_free_and_works(runtime: Runtime) -> None:
    reply = await invoke(runtime, "gacha pull")
    assert not reply.is_error, reply.content
    assert "free" in text_of(reply)
    assert await count_rows(runtime, GachaPull, guild_id=1, user_id=42) == 1
    assert await balance(runtime) == 0
    assert await announced(runtime) == ["gacha_first_pull"]


async def test_second_pull_without_points_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    await invoke(runtime, "gacha pull")
    reply = await invoke(runtime, "gacha pull")
    assert reply.is_error and reply.ephemeral
    assert "need 100 points but have 0" in (reply.content or "")
    assert await count_rows(runtime, GachaPull, guild_id=1, user_id=42) == 1
    assert await count_rows(runtime, EconomyLedger, guild_id=1, user_id=42) == 0


async def test_paid_pulls_debit_points_through_the_ledger(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user_id=1, users={}, user="42", amount=1000)
    reply = await invoke(runtime, "gacha pull", count=4)  # 1 free + 3 paid
    assert not reply.is_error, reply.content
    assert await balance(runtime) == 700
    assert await count_rows(runtime, GachaPull, user_id=42) == 4
    assert await count_rows(runtime, EconomyLedger, user_id=42, reason=Reason.GACHA_PULL) == 1
    await assert_ledger_balanced(runtime)


async def test_multi_pull_that_cannot_be_paid_rolls_back_the_free_pull_too(runtime: Runtime) -> None:
    reply = await invoke(runtime, "gacha pull", count=3)
    assert reply.is_error
    assert await count_rows(runtime, GachaDailyClaim, user_id=42) == 0
    assert await count_rows(runtime, GachaPull, user_id=42) == 0
    assert not (await invoke(runtime, "gacha pull")).is_error  # the free pull is still there


async def test_daily_resets_at_midnight_in_the_guild_time_zone(runtime: Runtime, clock: FrozenClock) -> None:
    clock.set(datetime(2026, 3, 1, 14, 59, tzinfo=UTC))  # 23:59 in Tokyo
    assert not (await invoke(runtime, "gacha daily")).is_error
    taken = await invoke(runtime, "gacha daily")
    assert taken.is_error and "already took today's free pull" in (taken.content or "")
    clock.advance(timedelta(minutes=2))  # 00:01 the next day in Tokyo, still March 1st in UTC
    assert not (await invoke(runtime, "gacha daily")).is_error
    assert await count_rows(runtime, GachaDailyClaim, user_id=42) == 2


async def test_time_zone_setting_moves_the_boundary(runtime: Runtime, clock: FrozenClock) -> None:
    from kyrios.features.guild_settings import service as guild_settings

    async with runtime.db.transaction() as session:
        await guild_settings.update(session, 1, now=clock.now(), timezone="Europe/London")
    clock.set(datetime(2026, 3, 1, 14, 59, tzinfo=UTC))
    assert not (await invoke(runtime, "gacha daily")).is_error
    clock.advance(timedelta(minutes=2))  # still March 1st in London
    assert (await invoke(runtime, "gacha daily")).is_error


async def test_pity_guarantees_the_top_rarity(runtime: Runtime) -> None:
    await invoke(runtime, "gacha config", admin=True, pity=3, daily_free=False)
    await invoke(runtime, "give", admin=True, user="42", amount=100_000)
    for _ in range(10):
        reply = await invoke(runtime, "gacha pull", count=10)
        assert not reply.is_error, reply.content
    async with runtime.db.read() as session:
        from sqlalchemy import select

        rows = list(
            await session.scalars(select(GachaPull).where(GachaPull.user_id == 42).order_by(GachaPull.id))
        )
    since_top = 0
    for row in rows:
        if row.rarity == "SSR":
            since_top = 0
        else:
            since_top += 1
        assert since_top < 3, "three pulls in a row without SSR despite pity 3"
    assert any(row.pity for row in rows)


async def test_top_rarity_achievement_is_announced_exactly_once(runtime: Runtime) -> None:
    await invoke(runtime, "gacha config", admin=True, pity=1)  # every pull is SSR
    assert not (await invoke(runtime, "gacha pull")).is_error
    assert await announced(runtime) == ["gacha_first_pull", "gacha_legends"]
    await invoke(runtime, "give", admin=True, user="42", amount=1000)
    second = await invoke(runtime, "gacha pull", count=2)
    assert not second.is_error
    assert await announced(runtime) == ["gacha_first_pull", "gacha_legends", "points_1k"]  # /give's
    listing = await invoke(runtime, "achievements")
    assert "Gacha Legend" in text_of(listing) and "✅" in text_of(listing)


async def test_rates_are_published_and_sum_to_100(runtime: Runtime) -> None:
    reply = await invoke(runtime, "gacha rates")
    text = text_of(reply)
    assert "Golden Dragon: 1.50%" in text
    assert "you are at **0/50**" in text
    import re

    rarity_totals = [float(x) for x in re.findall(r"— (\d+\.\d+)%", text)]
    assert abs(sum(rarity_totals) - 100) < 0.05


async def test_admin_edits_the_item_table(runtime: Runtime) -> None:
    added = await invoke(runtime, "gacha item add", admin=True, name="Moon Blade", rarity="SSR", weight=5)
    assert not added.is_error, added.content
    assert "Moon Blade" in text_of(await invoke(runtime, "gacha rates"))
    duplicate = await invoke(runtime, "gacha item add", admin=True, name="moon blade", rarity="N", weight=5)
    assert duplicate.is_error and "already in the table" in (duplicate.content or "")
    removed = await invoke(runtime, "gacha item remove", admin=True, name="Moon Blade")
    assert not removed.is_error
    assert "Moon Blade" not in text_of(await invoke(runtime, "gacha rates"))
    missing = await invoke(runtime, "gacha item remove", admin=True, name="Nothing Here")
    assert missing.is_error and "no item called" in (missing.content or "")


async def test_bad_admin_input_is_refused(runtime: Runtime) -> None:
    bad_rarity = await invoke(runtime, "gacha item add", admin=True, name="X", rarity="UR", weight=5)
    assert bad_rarity.is_error and "must be one of" in (bad_rarity.content or "")
    bad_weight = await invoke(runtime, "gacha item add", admin=True, name="X", rarity="N", weight=0)
    assert bad_weight.is_error and "at least 1" in (bad_weight.content or "")
    not_admin = await invoke(runtime, "gacha item add", name="X", rarity="N", weight=5)
    assert not_admin.is_error and "server admins" in (not_admin.content or "")
    nothing = await invoke(runtime, "gacha config", admin=True)
    assert nothing.is_error


async def test_disabled_feature_answers_that_it_is_disabled(runtime: Runtime, clock: FrozenClock) -> None:
    from kyrios.features.guild_settings import service as guild_settings

    async with runtime.db.transaction() as session:
        await guild_settings.set_feature(session, 1, "gacha", enabled=False, now=clock.now())
    reply = await invoke(runtime, "gacha pull")
    assert reply.is_error and "gacha feature is disabled" in (reply.content or "")
    assert await count_rows(runtime, GachaPull) == 0


async def test_history_and_collection_paginate_with_buttons(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=10_000)
    for _ in range(3):
        await invoke(runtime, "gacha pull", count=10)
    first = await invoke(runtime, "gacha history")
    assert "Page 1/3" in text_of(first)
    next_button = first.buttons[0][2]
    assert next_button.custom_id == "gacha-history:42:2"
    second = await press(runtime, next_button.custom_id)
    assert second.update and "Page 2/3" in text_of(second)
    stranger = await press(runtime, next_button.custom_id, user_id=7)
    assert stranger.is_error and "belong to someone else" in (stranger.content or "")
    collection = await invoke(runtime, "gacha collection")
    assert "different items" in text_of(collection)


async def test_profile_shows_points_pulls_and_achievements(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=500)
    await invoke(runtime, "gacha pull", count=2)
    text = text_of(await invoke(runtime, "profile"))
    assert "Points: 400 (#1)" in text
    assert "Gacha pulls: 2" in text
    assert "First Pull" in text


async def test_deployment_default_time_zone_applies_to_guilds_without_one(
    settings: Settings, clock: FrozenClock
) -> None:
    settings.default_timezone = "America/New_York"
    rt = build_runtime(settings, clock=clock, rng=RandomSource(1))
    await wipe(rt.db)
    try:
        clock.set(datetime(2026, 3, 1, 4, 59, tzinfo=UTC))  # 23:59 in New York (EST)
        assert not (await invoke(rt, "gacha daily")).is_error
        clock.advance(timedelta(minutes=2))  # a new day in New York
        assert not (await invoke(rt, "gacha daily")).is_error
    finally:
        await rt.aclose()
