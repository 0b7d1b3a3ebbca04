"""Cached guild settings and gacha tables stay correct across processes and rollbacks.

A second runtime on the same database stands in for another process (the bot next to the HTTP
server, or `kyrios console`): what one changes, the other's very next command must use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import InvalidInput
from kyrios.core.rng import RandomSource
from kyrios.features.gacha import service as gacha
from kyrios.features.gacha.models import GachaPull
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from tests.helpers import balance, count_rows, invoke, text_of


@pytest.fixture
async def other(settings: Settings, clock: FrozenClock, runtime: Runtime) -> AsyncIterator[Runtime]:
    """Another runtime (another process, as far as caches go) on the same database."""
    rt = build_runtime(settings, clock=clock, rng=RandomSource(7))
    try:
        yield rt
    finally:
        await rt.aclose()


async def fund(rt: Runtime, points: int) -> None:
    reply = await invoke(rt, "give", admin=True, user_id=1, users={}, user="42", amount=points)
    assert not reply.is_error, reply.content


async def test_a_cost_changed_elsewhere_is_charged_by_the_next_pull(runtime: Runtime, other: Runtime) -> None:
    await fund(runtime, 10_000)
    assert not (await invoke(runtime, "gacha pull", count=2)).is_error  # free + 100; caches warm
    assert await balance(runtime) == 9_900
    expected = 9_900
    for cost in (250, 400, 250):  # the first change creates the settings row; the others only change it
        reply = await invoke(other, "gacha config", admin=True, user_id=1, cost=cost)
        assert not reply.is_error, reply.content
        assert not (await invoke(runtime, "gacha pull")).is_error
        expected -= cost
        assert await balance(runtime) == expected


async def test_an_item_removed_elsewhere_is_never_drawn_again(runtime: Runtime, other: Runtime) -> None:
    await fund(runtime, 100_000)
    assert not (await invoke(runtime, "gacha pull")).is_error  # the default table, now cached
    removals = [
        ("Wooden Sword", "Leather Cap", "Bread Roll"),
        ("Iron Shield", "Silver Ring", "Mage's Staff"),
        ("Phoenix Feather",),
    ]
    gone: set[str] = set()
    for names in removals:
        for name in names:
            reply = await invoke(other, "gacha item remove", admin=True, user_id=1, name=name)
            assert not reply.is_error, reply.content
        gone |= set(names)
        for _ in range(3):
            reply = await invoke(runtime, "gacha pull", count=10)
            assert not reply.is_error, reply.content
            assert not set(text_of(reply).split("**")[1::2]) & gone
    assert await count_rows(runtime, GachaPull, user_id=42) == 91


async def test_a_feature_switched_off_elsewhere_is_off_at_once(runtime: Runtime, other: Runtime) -> None:
    await fund(runtime, 1_000)
    assert not (await invoke(runtime, "gacha pull")).is_error
    reply = await invoke(other, "settings feature", admin=True, user_id=1, name="gacha", state="off")
    assert not reply.is_error, reply.content
    reply = await invoke(runtime, "gacha pull")
    assert reply.is_error and "disabled" in (reply.content or "")
    reply = await invoke(other, "settings feature", admin=True, user_id=1, name="gacha", state="on")
    assert not reply.is_error, reply.content
    assert not (await invoke(runtime, "gacha pull")).is_error


async def test_a_rolled_back_change_leaves_nothing_in_the_cache(runtime: Runtime, other: Runtime) -> None:
    await fund(runtime, 10_000)

    async def change_then_fail(session: AsyncSession) -> None:
        await gacha.configure(session, 1, now=runtime.clock.now(), pull_cost=5_000)
        assert (await gacha.settings(session, 1)).pull_cost == 5_000  # cached here
        raise InvalidInput("changed my mind")

    assert not (await invoke(runtime, "gacha config", admin=True, user_id=1, cost=100)).is_error
    with pytest.raises(InvalidInput):
        await runtime.db.run(change_then_fail)
    # A change committed elsewhere: it must not be mistaken for the rolled-back one.
    assert not (await invoke(other, "gacha config", admin=True, user_id=1, pity=60)).is_error
    assert not (await invoke(runtime, "gacha pull", count=2)).is_error
    assert await balance(runtime) == 9_900  # still the cost of 100
