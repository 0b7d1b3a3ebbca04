"""A multi-symbol order storm on a server database: no deadlock, no retry, every invariant intact.

Sequencers of different symbols share users, so their batches change the same cash rows at the
same time, while an admin deposits and withdraws and the lease is renewed. Each batch locks the
cash rows it changes in one statement in user id order, so they never wait on each other in a
cycle. The server's own deadlock counter is read before and after. SQLite has one writer at a
time and cannot deadlock, so the test runs on MariaDB and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select, text

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.exchange import accounts, assets, invariants
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.models import AssetType, ExchangeExecution
from kyrios.exchange.owner import ExchangeLease
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.exchange.service import Exchange
from kyrios.runtime import Runtime

SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
USERS = 30
ORDERS = 4_000
SUBMITTERS = 64
PRICE = 10_000


async def server_deadlocks(database_url: str) -> int:
    """The deadlocks the server has detected (PostgreSQL: in this database; MariaDB: in all)."""
    db = Database(database_url)
    try:
        async with db.engine.connect() as connection:
            if db.dialect == "postgresql":
                await connection.execute(text("SELECT pg_stat_clear_snapshot()"))
                count = await connection.scalar(
                    text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
                )
                return int(count or 0)
            row = (await connection.execute(text("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'"))).one()
            return int(row[1])
    finally:
        await db.dispose()


async def settled_deadlocks(database_url: str) -> int:
    """`server_deadlocks` once PostgreSQL's backends have reported their statistics (at most 1 s late)."""
    await asyncio.sleep(1.5)
    return await server_deadlocks(database_url)


async def test_a_multi_symbol_storm_has_no_deadlock_and_no_retry(
    runtime: Runtime, clock: FrozenClock, dialect: str, database_url: str
) -> None:
    if dialect == "sqlite":
        pytest.skip("SQLite has one writer at a time: nothing to deadlock")
    now = clock.now()
    async with runtime.db.transaction() as session:
        for symbol in SYMBOLS:
            await assets.create_asset(
                session,
                symbol=symbol,
                name=symbol.title(),
                asset_type=AssetType.STOCK,
                tick_size_cents=1,
                supply=10_000_000,
                price_cents=PRICE,
                now=now,
            )
        users = [(await assets.issuer(session, now)).id]
        for n in range(USERS):
            users.append((await accounts.create_user(session, username=f"storm{n}", now=now)).id)
        for user_id in users:
            await accounts.deposit(session, user_id, 10**12, now=now)
    rules = ExchangeRules(max_short_quantity=10**9, orders_per_second=1e12, order_burst=10**12)
    lease = ExchangeLease(runtime.db, program="storm", lease_seconds=2, renew_seconds=0.1)
    await lease.acquire()
    exchange = Exchange(runtime.db, runtime.bus, clock, rules, lease=lease)
    await exchange.start()
    admin = InProcessClient(exchange)
    before = await settled_deadlocks(database_url)
    rng = random.Random(5)
    sent = 0

    async def submitter() -> None:
        nonlocal sent
        while sent < ORDERS:
            sent += 1
            side = rng.choice((Side.BUY, Side.SELL))
            if rng.random() < 0.1:
                request = OrderRequest(
                    symbol=rng.choice(SYMBOLS), side=side, type=OrderType.MARKET, quantity=rng.randint(1, 20)
                )
            else:
                price = PRICE + rng.randint(-3, 3)
                request = OrderRequest(
                    symbol=rng.choice(SYMBOLS), side=side, quantity=rng.randint(1, 20), price_cents=price
                )
            await exchange.submit_order(rng.choice(users), request)

    async def cashier() -> None:
        while sent < ORDERS:
            user_id = rng.choice(users)
            await admin.deposit(user_id, 1_000)
            await admin.withdraw(user_id, 1_000)

    try:
        await asyncio.gather(cashier(), *(submitter() for _ in range(SUBMITTERS)))
        await exchange.flush()
    finally:
        await exchange.aclose()
        await lease.release()
    assert not lease.lost
    after = await settled_deadlocks(database_url)
    async with runtime.db.read() as session:
        problems = await invariants.check(session)
        trades = await session.scalar(select(func.count()).select_from(ExchangeExecution))
    assert problems == []
    assert trades is not None and trades > ORDERS // 4, trades  # a storm that trades across symbols
    assert (after - before, exchange.retries) == (0, 0)
