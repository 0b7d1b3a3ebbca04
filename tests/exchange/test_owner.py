"""The exchange lease: one owner per database, a standby that takes over, and a fence that holds."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.exchange.client import DetachedClient, InProcessClient
from kyrios.exchange.engine import Side
from kyrios.exchange.models import ExchangeCashLedger, ExchangeOrder
from kyrios.exchange.owner import ExchangeLease, ExchangeUnavailable, LeaseHeld
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.exchange.service import Exchange
from kyrios.runtime import Runtime
from tests.exchange.conftest import PRICE, SYMBOL, open_market

LEASE = 1.0
RENEW = 0.25


@pytest.fixture
async def other_process(database_url: str) -> AsyncIterator[Database]:
    """The same database through a pool of its own, as another process would reach it."""
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


def lease(db: Database, program: str) -> ExchangeLease:
    """A lease with a short life, so takeovers happen within a test."""
    return ExchangeLease(db, program=program, lease_seconds=LEASE, renew_seconds=RENEW)


def bid(quantity: int = 1) -> OrderRequest:
    """A resting buy of ACME."""
    return OrderRequest(symbol=SYMBOL, side=Side.BUY, quantity=quantity, price_cents=PRICE - 100)


async def order_and_ledger_rows(db: Database) -> tuple[int, int]:
    """How many orders and cash ledger rows the database holds."""
    async with db.read() as session:
        orders = await session.scalar(select(func.count()).select_from(ExchangeOrder))
        ledger = await session.scalar(select(func.count()).select_from(ExchangeCashLedger))
    return int(orders or 0), int(ledger or 0)


async def test_a_second_owner_is_refused_and_told_who_holds_the_lease(
    runtime: Runtime, other_process: Database
) -> None:
    first = lease(runtime.db, "kyrios up")
    await first.acquire()
    try:
        second = lease(other_process, "kyrios up")
        with pytest.raises(LeaseHeld) as refused:
            await second.acquire()
        message = refused.value.message
        holder = f"`kyrios up` (pid {os.getpid()} on host {socket.gethostname()}, since "
        assert message.startswith(f"The exchange is already run by {holder}")
        assert "its lease runs until" in message and refused.value.holder.token == first.token
        assert not second.held
    finally:
        await first.release()


async def test_a_standby_waits_while_the_owner_renews_and_takes_over_when_it_stops(
    runtime: Runtime, other_process: Database
) -> None:
    owner = lease(runtime.db, "owner")
    await owner.acquire()
    standby = lease(other_process, "standby")
    waiting = asyncio.create_task(standby.wait())
    try:
        await asyncio.sleep(3 * LEASE)  # several lease lives: the renewals keep it
        assert not waiting.done()
        await owner.release()
        await asyncio.wait_for(waiting, 5 * LEASE)
        assert standby.held
        async with runtime.db.transaction() as session:
            with pytest.raises(ExchangeUnavailable):
                await owner.fence(session)
            await standby.fence(session)
    finally:
        waiting.cancel()
        await standby.release()


async def test_an_owner_that_stops_renewing_is_fenced_and_commits_nothing(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules, other_process: Database
) -> None:
    stalled = lease(runtime.db, "stalled")
    assert await stalled.try_acquire() is None  # held, but never renewed: as if the process hung
    market = await open_market(runtime, clock, rules)
    exchange = Exchange(runtime.db, runtime.bus, clock, rules, lease=stalled)
    try:
        await exchange.start()
        assert (await exchange.submit_order(market.alice, bid())).status == "OPEN"
        successor = lease(other_process, "successor")
        await asyncio.wait_for(successor.wait(), 5 * LEASE)  # once the stalled lease expired
        before = await order_and_ledger_rows(runtime.db)
        with pytest.raises(ExchangeUnavailable) as refused:
            await exchange.submit_order(market.alice, bid())
        assert refused.value.message.startswith(
            "This process no longer runs the exchange (another process took the exchange over)"
        )
        with pytest.raises(ExchangeUnavailable):
            await InProcessClient(exchange).deposit(market.alice, 100)
        assert stalled.lost
        assert await order_and_ledger_rows(runtime.db) == before
        await successor.release()
    finally:
        await exchange.aclose()
        await market.exchange.aclose()


async def test_an_owner_that_finds_another_holder_at_renewal_stops_at_once(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules
) -> None:
    market = await open_market(runtime, clock, rules)
    await market.exchange.aclose()
    owner = lease(runtime.db, "owner")
    await owner.acquire()
    told: list[str] = []
    owner.on_lost.append(told.append)
    exchange = Exchange(runtime.db, runtime.bus, clock, rules, lease=owner)
    try:
        await exchange.start()
        async with runtime.db.transaction() as session:  # an operator hands the lease to someone else
            await session.execute(text("UPDATE exchange_owner SET holder = 'intruder'"))
        for _ in range(40):
            if told:
                break
            await asyncio.sleep(RENEW / 2)
        assert told == ["another process took the exchange over"]
        before = await order_and_ledger_rows(runtime.db)
        with pytest.raises(ExchangeUnavailable):
            await exchange.submit_order(market.alice, bid())
        assert await order_and_ledger_rows(runtime.db) == before
    finally:
        await exchange.aclose()
        await owner.release()


async def test_without_an_owner_a_detached_client_reads_and_refuses_writes(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules, other_process: Database
) -> None:
    market = await open_market(runtime, clock, rules)
    await market.exchange.aclose()
    detached = DetachedClient(other_process, clock)
    assert (await detached.portfolio(market.alice)).cash_cents == 10_000_000
    with pytest.raises(ExchangeUnavailable) as refused:
        await detached.submit_order(market.alice, bid())
    assert refused.value.message == (
        "No process runs the exchange, so nothing was changed: start `kyrios up` "
        "(it runs the exchange), then try again."
    )
    owner = lease(runtime.db, "kyrios up")
    await owner.acquire()
    try:
        with pytest.raises(ExchangeUnavailable) as refused:
            await detached.deposit(market.alice, 100)
        assert refused.value.message.startswith(
            f"The exchange is run by `kyrios up` (pid {os.getpid()} on host {socket.gethostname()}, since "
        )
        assert "Stop that process and try again" in refused.value.message
    finally:
        await owner.release()
    assert (await detached.portfolio(market.alice)).cash_cents == 10_000_000


async def test_a_takeover_waits_for_the_owners_open_transaction_and_fences_the_next(
    runtime: Runtime, other_process: Database, dialect: str
) -> None:
    if dialect == "sqlite":
        pytest.skip("SQLite's writer lock serialises the owner's transaction and the takeover already")
    stalled = lease(runtime.db, "stalled")
    assert await stalled.try_acquire() is None  # never renewed
    await asyncio.sleep(LEASE * 1.5)  # expired, but nobody took it over yet: the owner may still write
    successor = lease(other_process, "successor")
    async with runtime.db.transaction() as session:
        await stalled.fence(session)  # a batch begins: it share-locks the lease row
        taking_over = asyncio.create_task(successor.try_acquire())
        await asyncio.sleep(0.5)
        assert not taking_over.done()  # the takeover waits for the batch ...
        await session.execute(text("UPDATE exchange_settings SET order_burst = 1 WHERE id = 0"))
    assert await asyncio.wait_for(taking_over, 10) is None  # ... which commits first
    async with runtime.db.transaction() as session:
        with pytest.raises(ExchangeUnavailable):
            await stalled.fence(session)  # and the next batch is refused
    await successor.release()
