"""Recovery in one process: resting orders come back in priority order; unmatched ones are replayed."""

from __future__ import annotations

from kyrios.core.clock import FrozenClock
from kyrios.exchange import invariants
from kyrios.exchange.engine import Side
from kyrios.exchange.ids import RowIds
from kyrios.exchange.intake import AssetLimits, accept_batch
from kyrios.exchange.journal import LiveOrder
from kyrios.exchange.models import ExchangeAsset, ExchangeOrder
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import OrderRequest
from kyrios.exchange.service import Exchange
from kyrios.runtime import Runtime
from tests.exchange.conftest import PRICE, SYMBOL, open_market


def limit(side: Side, quantity: int, price: int) -> OrderRequest:
    """A limit order in ACME."""
    return OrderRequest(symbol=SYMBOL, side=side, quantity=quantity, price_cents=price)


async def test_unmatched_acknowledged_orders_are_replayed_in_acceptance_order(
    runtime: Runtime, clock: FrozenClock, rules: ExchangeRules
) -> None:
    market = await open_market(runtime, clock, rules)
    await market.exchange.aclose()
    # As if the exchange acknowledged three orders and died before its book saw them.
    async with runtime.db.transaction() as session:
        asset = await session.get(ExchangeAsset, SYMBOL)
        assert asset is not None
        outcomes = await accept_batch(
            session,
            AssetLimits.of(asset),
            [
                (market.issuer_id, limit(Side.SELL, 5, PRICE)),
                (market.alice, limit(Side.BUY, 3, PRICE + 5)),
                (market.bob, limit(Side.BUY, 3, PRICE + 5)),
            ],
            rules,
            await RowIds.load(session),
            clock.now(),
        )
    ask, first, second = (o.id for o in outcomes if isinstance(o, LiveOrder))
    restarted = Exchange(runtime.db, runtime.bus, clock, rules)
    try:
        assert await restarted.start() == 3
        await restarted.flush()
        async with runtime.db.read() as session:
            rows = {i: await session.get(ExchangeOrder, i) for i in (ask, first, second)}
            assert await invariants.check(session) == []
        states = {i: (r.status, r.filled_quantity) for i, r in rows.items() if r is not None}
        # alice's bid was accepted first, so it trades first
        assert states == {ask: ("FILLED", 5), first: ("FILLED", 3), second: ("PARTIALLY_FILLED", 2)}
        assert (await restarted.depth(SYMBOL)).bids == [(PRICE + 5, 1)]
    finally:
        await restarted.aclose()
    again = Exchange(runtime.db, runtime.bus, clock, rules)
    try:
        assert await again.start() == 0  # nothing left to replay; the resting bid is restored as it was
        book = (await again.sequencer(SYMBOL)).book
        assert [(o.order_id, o.remaining) for o in book.orders()] == [(second, 1)]
    finally:
        await again.aclose()
