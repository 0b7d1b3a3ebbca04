"""The pure matching core: commands in, events out; no I/O, clock or randomness.

    book = OrderBook("ACME", tick_size_cents=5)
    book.place_limit(1, "alice", Side.SELL, 10_050, 10)
    book.place_market(2, "bob", Side.BUY, 4)
    for event in book.take_events():
        ...  # OrderAccepted, BookLevelChanged, OrderAccepted, Trade, BookLevelChanged

Commands: `place_limit` (GTC or IOC), `place_market` (optional protection price), `cancel`,
`cancel_by_client_order_id`, `take_out` (operator cancel). Every event carries the book's next
`seq`. Sides, times in force, STP modes and cancel reasons are enum members or their plain values
("buy"); anything else raises TypeError/ValueError and changes nothing (`arguments`). An order
placed without `stp` gets the book's `default_stp`, set by `OrderBook(..., default_stp=...)`.
After a restart, build `OrderBook(..., last_seq=persisted_seq)` and `restore()` each open order
in priority order. Pre-trade risk (cash, collars, shorts, notional) lives in `risk` and is
called by the service layer before an order reaches the book.

`OrderBook` is the C book of `_cbook` when that extension is built (setup.py builds it at
install), else the pure-Python `PyOrderBook`; both give the same events for the same commands.
`KYRIOS_PURE_ENGINE=1` in the environment forces the Python one. The C book's `order()`,
`orders()`, `open_orders`, `bids` and `asks` return snapshots rather than the live objects.
"""

import os
from typing import TYPE_CHECKING

from kyrios.exchange.engine.arguments import (
    CancelReasonLike,
    SelfTradePreventionLike,
    SideLike,
    TimeInForceLike,
)
from kyrios.exchange.engine.book import OrderBook as PyOrderBook
from kyrios.exchange.engine.enums import (
    CancelReason,
    OrderType,
    RejectCode,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from kyrios.exchange.engine.events import (
    BookLevelChanged,
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderReduced,
    OrderRejected,
    Trade,
)
from kyrios.exchange.engine.levels import Depth
from kyrios.exchange.engine.orders import Order, OrderId, UserId

# Type checkers see the Python class: both books have its interface.
if TYPE_CHECKING or os.environ.get("KYRIOS_PURE_ENGINE") == "1":
    OrderBook = PyOrderBook
else:
    try:
        from kyrios.exchange.engine._cbook import OrderBook
    except ImportError:  # not built (no compiler at install): the pure-Python book
        OrderBook = PyOrderBook

C_ENGINE = OrderBook is not PyOrderBook
"""True when `OrderBook` is the C book."""

__all__ = [
    "C_ENGINE",
    "BookLevelChanged",
    "CancelReason",
    "CancelReasonLike",
    "CancelRejected",
    "Depth",
    "Event",
    "Order",
    "OrderAccepted",
    "OrderBook",
    "OrderCanceled",
    "OrderId",
    "OrderReduced",
    "OrderRejected",
    "OrderType",
    "PyOrderBook",
    "RejectCode",
    "SelfTradePrevention",
    "SelfTradePreventionLike",
    "Side",
    "SideLike",
    "TimeInForce",
    "TimeInForceLike",
    "Trade",
    "UserId",
]
