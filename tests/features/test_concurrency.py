"""Real concurrent commands against the database: no double daily pull, no negative points."""

from __future__ import annotations

import asyncio

from kyrios.features.gacha.models import GachaDailyClaim, GachaPull
from kyrios.runtime import Runtime
from tests.helpers import assert_ledger_balanced, balance, count_rows, invoke


async def test_fifty_concurrent_daily_pulls_give_exactly_one(runtime: Runtime) -> None:
    replies = await asyncio.gather(*(invoke(runtime, "gacha daily") for _ in range(50)))
    assert sum(not r.is_error for r in replies) == 1
    assert all("already took" in (r.content or "") for r in replies if r.is_error)
    assert await count_rows(runtime, GachaDailyClaim, user_id=42) == 1
    assert await count_rows(runtime, GachaPull, user_id=42) == 1


async def test_concurrent_pulls_without_points_give_only_the_free_one(runtime: Runtime) -> None:
    replies = await asyncio.gather(*(invoke(runtime, "gacha pull") for _ in range(50)))
    assert sum(not r.is_error for r in replies) == 1
    assert await count_rows(runtime, GachaPull, user_id=42) == 1


async def test_two_hundred_concurrent_paid_pulls_never_overdraw(runtime: Runtime) -> None:
    await invoke(runtime, "gacha config", admin=True, daily_free=False)
    await invoke(runtime, "give", admin=True, user="42", amount=5_000)  # 50 pulls' worth
    replies = await asyncio.gather(*(invoke(runtime, "gacha pull") for _ in range(200)))
    successes = sum(not r.is_error for r in replies)
    assert successes == 50
    assert all("need 100 points" in (r.content or "") for r in replies if r.is_error)
    assert await balance(runtime) == 0
    assert await count_rows(runtime, GachaPull, user_id=42) == 50
    await assert_ledger_balanced(runtime)


async def test_concurrent_grants_lose_no_update(runtime: Runtime) -> None:
    await asyncio.gather(*(invoke(runtime, "give", admin=True, user="42", amount=7) for _ in range(100)))
    assert await balance(runtime) == 700
    await assert_ledger_balanced(runtime)
