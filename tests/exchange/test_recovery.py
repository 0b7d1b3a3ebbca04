"""Recovery in one process: resting orders come back as they were, in time priority."""

from __future__ import annotations

from kyrios.core.clock import FrozenClock
from kyrios.exchange import invariants
from kyrios.exchange.engine import Side
from kyrios.exchange.models import ExchangeOrder
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.exchange.service import Exchange
from kyrios.runtime import Runtime
from tests.exchange.conftest import PRICE, SYMBOL, open_market


def limit(side: Side, quantity: int, price: int) -> OrderRequest:
    """A limit order in ACME."""
    return OrderRequest(symbol=SYMBOL, side=side, quantity=quantity, price_cents=price)


async def test_resting_orders_come_back_in_time_priority(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules
) -> None:
    market = await open_market(runtime, clock, rules)
    first = await market.exchange.submit_order(market.alice, limit(Side.BUY, 3, PRICE - 5))
    second = await market.exchange.submit_order(market.bob, limit(Side.BUY, 3, PRICE - 5))
    await market.exchange.aclose()
    restarted = Exchange(runtime.db, runtime.bus, clock, rules)
    try:
        assert await restarted.start() == 2
        assert (await restarted.depth(SYMBOL)).bids == [(PRICE - 5, 6)]
        ask = await restarted.submit_order(market.issuer_id, limit(Side.SELL, 4, PRICE - 5))
        await restarted.flush()
        async with runtime.db.read() as session:
            rows = {i: await session.get(ExchangeOrder, i) for i in (ask.id, first.id, second.id)}
            assert await invariants.check(session) == []
        states = {i: (r.status, r.filled_quantity) for i, r in rows.items() if r is not None}
        # alice's bid was accepted first, so it trades first, also after the restart
        assert states == {ask.id: ("FILLED", 4), first.id: ("FILLED", 3), second.id: ("PARTIALLY_FILLED", 1)}
    finally:
        await restarted.aclose()
    again = Exchange(runtime.db, runtime.bus, clock, rules)
    try:
        assert await again.start() == 1
        book = (await again.sequencer(SYMBOL)).book
        assert [(o.order_id, o.remaining) for o in book.orders()] == [(second.id, 2)]
    finally:
        await again.aclose()
