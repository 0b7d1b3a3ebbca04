"""Earning points: `/daily` with its streak, `/pay` with its limit, role multipliers, the rules."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import FrozenClock
from kyrios.features.economy import earning
from kyrios.features.economy.models import EconomyLedger, EconomyMember, Reason
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation
from tests.conftest import START
from tests.helpers import assert_ledger_balanced, balance, count_rows, invoke, press, text_of

# START is 21:00 in Tokyo (the default zone): the guild's next day begins 3 hours later.
TO_NEXT_TOKYO_DAY = timedelta(hours=3, minutes=1)


async def test_daily_pays_once_per_guild_day_and_builds_a_streak(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await invoke(runtime, "earn config", admin=True, daily=100, streak_bonus=10, streak_cap=2)
    first = await invoke(runtime, "daily")
    assert not first.is_error, first.content
    assert "100" in text_of(first) and await balance(runtime) == 100
    again = await invoke(runtime, "daily")
    assert again.is_error and "already took today's reward" in (again.content or "")
    clock.advance(TO_NEXT_TOKYO_DAY)  # 00:01 in Tokyo: a new guild day, 3 hours after the first
    assert not (await invoke(runtime, "daily")).is_error
    assert await balance(runtime) == 100 + 110
    clock.advance(timedelta(days=1))
    clock.advance(timedelta(days=1))
    third = await invoke(runtime, "daily")  # a day missed: the streak starts again
    assert "Streak: 1 day" in text_of(third) and await balance(runtime) == 210 + 100
    for expected in (110, 120, 120):  # the bonus stops at the cap of 2 days
        clock.advance(timedelta(days=1))
        before = await balance(runtime)
        await invoke(runtime, "daily")
        assert await balance(runtime) - before == expected
    assert await count_rows(runtime, EconomyLedger) == await count_rows(
        runtime, EconomyLedger, reason=Reason.DAILY
    )
    await assert_ledger_balanced(runtime)


async def test_daily_follows_the_guild_time_zone(runtime: Runtime, clock: FrozenClock) -> None:
    await invoke(runtime, "settings set", admin=True, timezone="UTC")
    assert not (await invoke(runtime, "daily")).is_error
    clock.advance(TO_NEXT_TOKYO_DAY)  # a new day in Tokyo, still the same day in UTC
    assert (await invoke(runtime, "daily")).is_error
    clock.advance(timedelta(hours=9))
    assert not (await invoke(runtime, "daily")).is_error


async def test_role_multiplier_scales_daily(runtime: Runtime) -> None:
    await invoke(runtime, "earn multiplier", admin=True, role="<@&500>", percent=150)
    await invoke(runtime, "earn multiplier", admin=True, role="<@&501>", percent=200)
    reply = await runtime.registry.dispatch(_member_invocation("daily", role_ids=(500, 501, 1)))
    assert not reply.is_error and "200 %" in text_of(reply)
    assert await balance(runtime) == 200
    shown = text_of(await invoke(runtime, "earn config", admin=True))
    assert "<@&501>" in shown and "<@&500>" in shown


async def test_daily_off_refuses(runtime: Runtime) -> None:
    await invoke(runtime, "earn config", admin=True, daily=0)
    reply = await invoke(runtime, "daily")
    assert reply.is_error and "no daily reward" in (reply.content or "")
    assert await count_rows(runtime, EconomyLedger) == 0


async def test_pay_moves_points_with_two_ledger_rows(runtime: Runtime) -> None:
    await invoke(runtime, "give", admin=True, user="42", amount=500)
    reply = await invoke(runtime, "pay", user="<@43>", amount=120)
    assert not reply.is_error, reply.content
    assert await balance(runtime, 42) == 380 and await balance(runtime, 43) == 120
    assert await count_rows(runtime, EconomyLedger, reason=Reason.PAY_SENT, user_id=42) == 1
    assert await count_rows(runtime, EconomyLedger, reason=Reason.PAY_RECEIVED, user_id=43) == 1
    history = text_of(await invoke(runtime, "points history", user_id=43))
    assert "Received from" in history and "<@42>" in history
    await assert_ledger_balanced(runtime)


async def test_pay_refusals_change_nothing(runtime: Runtime) -> None:
    await invoke(runtime, "earn config", admin=True, pay_limit=300)
    await invoke(runtime, "give", admin=True, user="42", amount=1_000)
    bot = Actor(id=77, name="somebot", is_bot=True)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"user": "42", "amount": 10}, "cannot pay yourself"),
        ({"user": "77", "amount": 10, "users": {77: bot}}, "Bots cannot"),
        ({"user": "43", "amount": 0}, "at least 1"),
        ({"user": "43", "amount": -5}, "at least 1"),
        ({"user": "43", "amount": 301}, "300 points a day"),
        ({"user": "43", "amount": "lots"}, "whole number"),
    ]
    for options, message in cases:
        reply = await invoke(runtime, "pay", **options)
        assert reply.is_error and reply.ephemeral, options
        assert message in (reply.content or ""), (options, reply.content)
    assert not (await invoke(runtime, "pay", user="43", amount=250)).is_error
    over = await invoke(runtime, "pay", user="43", amount=51)
    assert over.is_error and "50 are left" in (over.content or "")
    poor = await invoke(runtime, "pay", user="42", amount=100, user_id=44)
    assert poor.is_error and "need 100 points but have 0" in (poor.content or "")
    assert await count_rows(runtime, EconomyMember, user_id=44) == 0  # the refusal rolled back
    assert await balance(runtime, 42) == 750 and await balance(runtime, 43) == 250
    assert await count_rows(runtime, EconomyLedger) == 3  # the grant and one payment's two rows
    await assert_ledger_balanced(runtime)


async def test_pay_limit_resets_on_the_guild_day(runtime: Runtime, clock: FrozenClock) -> None:
    await invoke(runtime, "earn config", admin=True, pay_limit=100)
    await invoke(runtime, "give", admin=True, user="42", amount=1_000)
    assert not (await invoke(runtime, "pay", user="43", amount=100)).is_error
    assert (await invoke(runtime, "pay", user="43", amount=1)).is_error
    clock.advance(TO_NEXT_TOKYO_DAY)
    assert not (await invoke(runtime, "pay", user="43", amount=100)).is_error
    assert await balance(runtime, 43) == 200


async def test_earn_config_is_for_admins_and_validates(runtime: Runtime) -> None:
    assert "server admins" in ((await invoke(runtime, "earn config", daily=5)).content or "")
    negative = await invoke(runtime, "earn config", admin=True, daily=-1)
    assert negative.is_error and "at least 0" in (negative.content or "")
    shown = text_of(await invoke(runtime, "earn config", admin=True, pay_limit=0, voice_points=3))
    assert "Pay limit: none" in shown and "**3** points a minute" in shown


async def test_commands_answer_in_japanese(runtime: Runtime) -> None:
    await invoke(runtime, "daily")
    reply = await runtime.registry.dispatch(_member_invocation("daily", locale="ja"))
    assert reply.is_error and "今日" in (reply.content or ""), reply.content
    pay = await runtime.registry.dispatch(_member_invocation("pay", locale="ja", user="42", amount=5))
    assert pay.is_error and "自分" in (pay.content or ""), pay.content


async def test_fifty_concurrent_dailies_give_exactly_one_reward(runtime: Runtime) -> None:
    replies = await asyncio.gather(*(invoke(runtime, "daily") for _ in range(50)))
    assert sum(not r.is_error for r in replies) == 1
    assert all("already took" in (r.content or "") for r in replies if r.is_error)
    assert await balance(runtime) == 100
    assert await count_rows(runtime, EconomyLedger, reason=Reason.DAILY) == 1


async def test_concurrent_pays_never_overdraw_or_pass_the_limit(runtime: Runtime) -> None:
    await invoke(runtime, "earn config", admin=True, pay_limit=0)
    await invoke(runtime, "give", admin=True, user="42", amount=1_000)
    await invoke(runtime, "give", admin=True, user="43", amount=1_000)
    # 42 and 43 pay each other at once (opposite lock orders), 42 far beyond its balance.
    sends = [invoke(runtime, "pay", user="43", amount=100) for _ in range(30)]
    sends += [invoke(runtime, "pay", user="42", amount=10, user_id=43) for _ in range(10)]
    replies = await asyncio.gather(*sends)
    refused = [r for r in replies if r.is_error]
    assert all("need 100 points" in (r.content or "") for r in refused), [r.content for r in refused]
    by_42 = sum(not r.is_error for r in replies[:30])
    assert all(not r.is_error for r in replies[30:])  # 43 had plenty
    assert by_42 in (10, 11)  # its 1 000, and one more if 43's 100 arrived in time
    assert await balance(runtime, 42) == 1_000 - 100 * by_42 + 100 >= 0
    assert await balance(runtime, 43) == 1_000 + 100 * by_42 - 100
    assert await count_rows(runtime, EconomyLedger, reason=Reason.PAY_SENT) == by_42 + 10
    await assert_ledger_balanced(runtime)


async def test_concurrent_pays_stop_at_the_daily_limit(runtime: Runtime) -> None:
    await invoke(runtime, "earn config", admin=True, pay_limit=500)
    await invoke(runtime, "give", admin=True, user="42", amount=10_000)
    replies = await asyncio.gather(*(invoke(runtime, "pay", user="43", amount=100) for _ in range(20)))
    assert sum(not r.is_error for r in replies) == 5
    assert await balance(runtime, 43) == 500
    await assert_ledger_balanced(runtime)


def _member_invocation(
    command: str, *, role_ids: tuple[int, ...] = (), locale: str | None = None, **options: Any
) -> Invocation:
    """Member 42 of guild 1 with roles or a language."""
    return Invocation(
        actor=Actor(id=42, name="user42"),
        guild_id=1,
        channel_id=10,
        command=command,
        options=options,
        locale=locale,
        role_ids=role_ids,
    )


async def test_week_and_month_boards_count_credits_since_the_guild_local_start(
    runtime: Runtime, clock: FrozenClock
) -> None:
    clock.set(START - timedelta(days=10))  # an earlier week and month
    await invoke(runtime, "give", admin=True, user="100", amount=1_000)
    clock.set(START)  # Sunday 21:00 in Tokyo: the week began Monday, the month this very day
    await invoke(runtime, "give", admin=True, user="101", amount=50)
    await invoke(runtime, "give", admin=True, user="102", amount=30)
    await invoke(runtime, "daily", user_id=102)  # +100
    await invoke(runtime, "pay", user_id=102, user="101", amount=100)  # a transfer, not earnings
    week = text_of(await invoke(runtime, "points leaderboard", period="week"))
    assert "earned this week" in week and "<@100>" not in week
    assert week.index("<@102>") < week.index("<@101>") and "**130**" in week and "**50**" in week
    everything = text_of(await invoke(runtime, "points leaderboard"))
    assert everything.index("<@100>") < everything.index("<@101>") < everything.index("<@102>")
    clock.advance(TO_NEXT_TOKYO_DAY)  # Monday in Tokyo: a new week, the same month
    assert "Nobody has earned points this week" in text_of(
        await invoke(runtime, "points leaderboard", period="week")
    )
    month = text_of(await invoke(runtime, "points leaderboard", period="month"))
    assert "<@101>" in month and "<@102>" in month and "<@100>" not in month
    bad = await invoke(runtime, "points leaderboard", period="year")
    assert bad.is_error and "week, month, all" in (bad.content or "")


async def test_period_boards_page_with_their_own_buttons(runtime: Runtime) -> None:
    for user_id in range(200, 215):
        await invoke(runtime, "give", admin=True, user=str(user_id), amount=user_id)
    first = await invoke(runtime, "points leaderboard", period="month")
    assert "Page 1/2" in text_of(first)
    assert [b.custom_id for b in first.buttons[0]][-1] == "points-top-month:0:2"
    second = await press(runtime, "points-top-month:0:2", user_id=5)
    assert "Page 2/2" in text_of(second) and "<@200>" in text_of(second)
    assert "earned this month" in text_of(second)


async def test_a_missed_voice_leave_restarts_the_clock_and_a_long_stay_is_capped(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await invoke(runtime, "earn config", admin=True, voice_points=1)

    async def join(session: AsyncSession) -> None:
        await earning.voice_joined(session, guild_id=1, user_id=42, now=clock.now())

    async def leave(session: AsyncSession) -> int:
        return await earning.voice_left(session, guild_id=1, user_id=42, role_ids=(), now=clock.now())

    await runtime.db.run(join)
    clock.advance(timedelta(hours=5))
    await runtime.db.run(join)  # joined again without a leave seen: the 5 hours are unknown
    clock.advance(timedelta(minutes=7))
    assert await runtime.db.run(leave) == 7
    assert await runtime.db.run(leave) == 0  # the clock stopped
    await runtime.db.run(join)
    clock.advance(timedelta(days=3))
    assert await runtime.db.run(leave) == earning.MAX_VOICE_MINUTES
    await assert_ledger_balanced(runtime)
