"""Deposits and withdrawals: a refusal states the balance as it is, even beside concurrent changes."""

from __future__ import annotations

import asyncio

import pytest

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import InsufficientFunds
from kyrios.exchange import accounts
from kyrios.exchange.models import ExchangeCash
from kyrios.runtime import Runtime


async def test_a_refused_withdrawal_states_the_current_free_cash(
    runtime: Runtime, clock: FrozenClock, dialect: str
) -> None:
    if dialect == "sqlite":
        pytest.skip("SQLite runs one writer at a time: no other transaction can change the row meanwhile")
    now = clock.now()
    async with runtime.db.transaction() as session:
        user = await accounts.create_user(session, username="dana", now=now)
        await accounts.deposit(session, user.id, 349, now=now)
    read_first = asyncio.Event()
    spent = asyncio.Event()

    async def withdraw_after_a_read() -> str:
        async with runtime.db.transaction() as session:
            # The transaction's first read: on MariaDB it fixes the snapshot plain reads see.
            assert (await session.get(ExchangeCash, user.id)) is not None
            read_first.set()
            await spent.wait()
            with pytest.raises(InsufficientFunds) as refused:
                await accounts.withdraw(session, user.id, 200, now=now)
            return refused.value.message

    async def spend_meanwhile() -> int:
        await read_first.wait()
        async with runtime.db.transaction() as session:
            free = await accounts.withdraw(session, user.id, 200, now=now)
        spent.set()
        return free

    message, free = await asyncio.gather(withdraw_after_a_read(), spend_meanwhile())
    assert free == 149
    assert message == "You asked to withdraw 2.00 but have 1.49 free."


async def test_a_withdrawal_reports_the_balance_after_a_concurrent_deposit(
    runtime: Runtime, clock: FrozenClock, dialect: str
) -> None:
    if dialect == "sqlite":
        pytest.skip("SQLite runs one writer at a time: no other transaction can change the row meanwhile")
    now = clock.now()
    async with runtime.db.transaction() as session:
        user = await accounts.create_user(session, username="erin", now=now)
        await accounts.deposit(session, user.id, 500, now=now)
    read_first = asyncio.Event()
    deposited = asyncio.Event()

    async def withdraw_after_a_read() -> int:
        async with runtime.db.transaction() as session:
            assert (await session.get(ExchangeCash, user.id)) is not None
            read_first.set()
            await deposited.wait()
            return await accounts.withdraw(session, user.id, 100, now=now)

    async def deposit_meanwhile() -> None:
        await read_first.wait()
        async with runtime.db.transaction() as session:
            await accounts.deposit(session, user.id, 1_000, now=now)
        deposited.set()

    free, _ = await asyncio.gather(withdraw_after_a_read(), deposit_meanwhile())
    assert free == 1_400


async def test_a_withdrawal_above_the_free_cash_changes_nothing(runtime: Runtime, clock: FrozenClock) -> None:
    now = clock.now()
    async with runtime.db.transaction() as session:
        user = await accounts.create_user(session, username="finn", now=now)
        await accounts.deposit(session, user.id, 50, now=now)
    with pytest.raises(InsufficientFunds) as refused:
        async with runtime.db.transaction() as session:
            await accounts.withdraw(session, user.id, 51, now=now)
    assert refused.value.message == "You asked to withdraw 0.51 but have 0.50 free."
    async with runtime.db.read() as session:
        row = await session.get(ExchangeCash, user.id)
    assert row is not None and (row.cash_cents, row.reserved_cents) == (50, 0)
