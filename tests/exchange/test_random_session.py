"""Long random sessions on two symbols: all invariants hold, and a restart rebuilds the same books.

The second session runs with tight margins (maintenance = initial) and liquidation on, and thin
accounts, so that shorts are refused for margin, accounts cross below maintenance and back, and
the exchange buys shorts back, all mixed with the ordinary trading.
"""

from __future__ import annotations

import asyncio
import itertools
import random

from sqlalchemy import func, select

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import Conflict, InsufficientFunds
from kyrios.exchange import accounts, assets, invariants
from kyrios.exchange.engine import OrderType, SelfTradePrevention, Side
from kyrios.exchange.models import (
    AssetType,
    CashReason,
    ExchangeCashLedger,
    ExchangeExecution,
    ExchangePosition,
)
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest, OrderView
from kyrios.exchange.service import Exchange
from kyrios.runtime import Runtime

SYMBOLS = {"ACME": 5, "BOLT": 1}
USERS = 20
ORDERS = 3_000
CONCURRENCY = 60


def random_request(rng: random.Random, symbol: str, tick: int) -> OrderRequest:
    """A limit order near the mid (70 %) or a market order, with a random STP mode."""
    side = rng.choice((Side.BUY, Side.SELL))
    stp = rng.choice(list(SelfTradePrevention))
    if rng.random() < 0.15:
        return OrderRequest(
            symbol=symbol, side=side, type=OrderType.MARKET, quantity=rng.randint(1, 30), stp=stp
        )
    price = 10_000 + tick * rng.randint(-20, 20)
    coid = f"c{rng.getrandbits(40)}" if rng.random() < 0.3 else None
    return OrderRequest(
        symbol=symbol,
        side=side,
        quantity=rng.randint(1, 40),
        price_cents=price,
        stp=stp,
        client_order_id=coid,
    )


RULES = ExchangeRules(max_short_quantity=200, orders_per_second=1e9, order_burst=10**9, max_batch=500)


async def test_invariants_hold_after_a_long_random_session(runtime: Runtime, clock: FrozenClock) -> None:
    outcomes = await run_session(runtime, clock, RULES, random.Random(20261123), (1_000_000, 20_000_000))
    assert outcomes["accepted"] > ORDERS * 0.6 and outcomes["canceled"] > 100, outcomes


async def test_invariants_hold_with_tight_margins_and_liquidations(
    runtime: Runtime, clock: FrozenClock
) -> None:
    rules = ExchangeRules(
        max_short_quantity=200,
        orders_per_second=1e9,
        order_burst=10**9,
        max_batch=500,
        initial_margin_bps=15_000,
        maintenance_margin_bps=15_000,
        liquidation_enabled=True,
    )
    outcomes = await run_session(runtime, clock, rules, random.Random(20261203), (100_000, 3_000_000))
    assert outcomes["refused"] > 50 and outcomes["restricted"] > 0, outcomes
    async with runtime.db.read() as session:
        liquidations = await session.scalar(
            select(func.count())
            .select_from(ExchangeCashLedger)
            .where(ExchangeCashLedger.reason == CashReason.LIQUIDATION)
        )
        shorts = await session.scalar(
            select(func.count()).select_from(ExchangePosition).where(ExchangePosition.margin_cents > 0)
        )
    assert liquidations, "no account was bought out"
    assert shorts, "no short holds margin at the end"


async def run_session(
    runtime: Runtime,
    clock: FrozenClock,
    rules: ExchangeRules,
    rng: random.Random,
    cash_range: tuple[int, int],
) -> dict[str, int]:
    """Trade randomly, check every invariant and the published sequence, restart and compare the books."""
    now = clock.now()
    async with runtime.db.transaction() as session:
        for symbol, tick in SYMBOLS.items():
            await assets.create_asset(
                session,
                symbol=symbol,
                name=symbol,
                asset_type=AssetType.STOCK,
                tick_size_cents=tick,
                supply=50_000,
                price_cents=10_000,
                now=now,
            )
        issuer = await assets.issuer(session, now)
        users = [issuer.id]
        for n in range(USERS):
            user = await accounts.create_user(session, username=f"trader{n}", now=now)
            await accounts.deposit(session, user.id, rng.randint(*cash_range), now=now)
            users.append(user.id)
    exchange = Exchange(runtime.db, runtime.bus, clock, rules)
    await exchange.start()
    feed = runtime.bus.subscribe("trades:ACME", "book:ACME", max_queue=1_000_000)
    open_orders: list[OrderView] = []
    outcomes = {"accepted": 0, "refused": 0, "restricted": 0, "canceled": 0, "cancel_refused": 0}

    async def one(user_id: int, request: OrderRequest) -> None:
        try:
            view = await exchange.submit_order(user_id, request)
        except InsufficientFunds:
            outcomes["refused"] += 1
            return
        except Conflict:  # below maintenance margin, and the order would not reduce risk
            outcomes["restricted"] += 1
            return
        outcomes["accepted"] += 1
        if request.type is OrderType.LIMIT:
            open_orders.append(view)

    async def cancel(view: OrderView) -> None:
        try:
            await exchange.cancel_order(view.user_id, order_id=view.id)
            outcomes["canceled"] += 1
        except Conflict:
            outcomes["cancel_refused"] += 1  # it filled (or was canceled by STP) first

    try:
        sent = 0
        while sent < ORDERS:
            work = []
            for _ in range(CONCURRENCY):
                if open_orders and rng.random() < 0.25:
                    work.append(cancel(open_orders.pop(rng.randrange(len(open_orders)))))
                else:
                    symbol = rng.choice(list(SYMBOLS))
                    work.append(one(rng.choice(users), random_request(rng, symbol, SYMBOLS[symbol])))
                    sent += 1
            await asyncio.gather(*work)
        await exchange.flush()
        depth_before = {symbol: (await exchange.depth(symbol, 1000)) for symbol in SYMBOLS}
        async with runtime.db.read() as session:
            problems = await invariants.check(session)
            trades = await session.scalar(select(func.count()).select_from(ExchangeExecution))
    finally:
        await exchange.aclose()
    assert problems == []
    published = [feed.queue.get_nowait()[1]["seq"] for _ in range(feed.queue.qsize())]
    feed.close()
    assert published and all(a < b for a, b in itertools.pairwise(published))
    assert trades is not None and trades > 1_000, trades

    restarted = Exchange(runtime.db, runtime.bus, clock, rules)
    try:
        await restarted.start()
        for symbol in SYMBOLS:
            assert await restarted.depth(symbol, 1000) == depth_before[symbol]
            book = (await restarted.sequencer(symbol)).book
            old = list((await restarted.sequencer(symbol)).live)
            assert sorted(o.order_id for o in book.orders()) == sorted(old)
    finally:
        await restarted.aclose()
    return outcomes
