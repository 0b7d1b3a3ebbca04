"""A refused change says what is true now, whatever the database.

A command's first read is its feature gate. On MariaDB (REPEATABLE READ) every later plain read
answers from the snapshot that read took, while a conditional `UPDATE … WHERE points >= ?` sees
the latest committed row: if another transaction commits in between, a plain read explaining the
refusal states a balance that no longer exists. Each test lets one command read its feature
gate, has another command commit, then lets the first go on.

On SQLite the first command holds the writer lock from its BEGIN, so nothing commits in between:
the other command runs after it and is the one refused, with the same numbers. On PostgreSQL
(READ COMMITTED) every statement sees the latest commits anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.gacha.models import GachaDailyClaim, GachaPull
from kyrios.runtime import Runtime
from kyrios.slash.reply import Reply
from tests.helpers import assert_ledger_balanced, balance, count_rows, invoke


async def interleaved(
    runtime: Runtime,
    dialect: str,
    first: Callable[[], Coroutine[Any, Any, Reply]],
    other: Callable[[], Coroutine[Any, Any, Reply]],
) -> tuple[Reply, Reply]:
    """Run `first` up to its feature gate, `other` to its commit (where the database allows), then `first`."""
    gate = runtime.registry.feature_gate
    assert gate is not None
    gate_read, go_on = asyncio.Event(), asyncio.Event()

    async def gate_then_wait(session: AsyncSession, guild_id: int, feature: str) -> bool:
        enabled = await gate(session, guild_id, feature)
        if not gate_read.is_set():  # only the first command's first attempt waits
            gate_read.set()
            await go_on.wait()
        return enabled

    runtime.registry.feature_gate = gate_then_wait
    try:
        first_reply = asyncio.create_task(first())
        await gate_read.wait()
        other_reply = asyncio.create_task(other())
        if dialect != "sqlite":  # SQLite: `other` waits for the writer lock `first` holds
            await other_reply
        go_on.set()
        return await first_reply, await other_reply
    finally:
        runtime.registry.feature_gate = gate


def refusals(*replies: Reply) -> list[str]:
    return [reply.content or "" for reply in replies if reply.is_error]


async def test_a_refused_pull_states_the_balance_another_command_just_left(
    runtime: Runtime, dialect: str
) -> None:
    await invoke(runtime, "gacha config", admin=True, cost=200, daily_free=False)
    await invoke(runtime, "give", admin=True, user_id=1, user="42", amount=349)

    pull, take = await interleaved(
        runtime,
        dialect,
        lambda: invoke(runtime, "gacha pull"),
        lambda: invoke(runtime, "take", admin=True, user_id=1, user="42", amount=200),
    )

    assert refusals(pull, take) == ["❌ You need 200 points but have 149."]
    assert pull.is_error or dialect == "sqlite"  # on a server the take did commit in between
    assert await balance(runtime) == 149
    await assert_ledger_balanced(runtime)


async def test_a_refused_take_states_the_balance_another_command_just_left(
    runtime: Runtime, dialect: str
) -> None:
    await invoke(runtime, "gacha config", admin=True, cost=200, daily_free=False)
    await invoke(runtime, "give", admin=True, user_id=1, user="42", amount=349)

    take, pull = await interleaved(
        runtime,
        dialect,
        lambda: invoke(runtime, "take", admin=True, user_id=1, user="42", amount=200),
        lambda: invoke(runtime, "gacha pull"),
    )

    assert refusals(take, pull) == ["❌ You need 200 points but have 149."]
    assert take.is_error or dialect == "sqlite"
    assert await balance(runtime) == 149
    await assert_ledger_balanced(runtime)


async def test_a_refused_daily_pull_is_refused_because_of_the_claim_just_made(
    runtime: Runtime, dialect: str
) -> None:
    first, other = await interleaved(
        runtime, dialect, lambda: invoke(runtime, "gacha daily"), lambda: invoke(runtime, "gacha daily")
    )

    assert len(refusals(first, other)) == 1
    assert "already took today's free pull" in refusals(first, other)[0]
    assert first.is_error or dialect == "sqlite"
    assert await count_rows(runtime, GachaDailyClaim, user_id=42) == 1
    assert await count_rows(runtime, GachaPull, user_id=42) == 1
