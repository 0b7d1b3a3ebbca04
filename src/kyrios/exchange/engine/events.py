"""What a book emits: every event carries the book's next sequence number, `seq`, first.

Quantities are whole units and prices integer cents. `BookLevelChanged.quantity` is the new
absolute total at that price (0 = the level is gone), so market data can be rebuilt from a
snapshot and the deltas that follow it.

Order of events for one command:
- a new order: `OrderRejected` alone; or `OrderAccepted`, then for each price level it trades
  at, `Trade` (and self-trade `OrderCanceled`/`OrderReduced`) events in queue order followed by
  one `BookLevelChanged`; then either `BookLevelChanged` for the level it rests on, or
  `OrderCanceled` for the part that will not rest (IOC, market, self-trade), or nothing if filled;
- a cancel: `OrderCanceled` then `BookLevelChanged`, or `CancelRejected` alone.

Events are immutable named tuples (attribute access, `isinstance`, `match`, `_asdict()`); the hot
paths build them with `tuple.__new__`, which measured cheaper than a slotted class's `__init__`.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from kyrios.exchange.engine.enums import CancelReason, OrderType, RejectCode, Side
from kyrios.exchange.engine.orders import OrderId, UserId


class OrderAccepted(NamedTuple):
    """An order passed validation; its `seq` is its time priority. Trades or a cancel may follow."""

    seq: int
    order_id: OrderId
    user_id: UserId
    side: Side
    order_type: OrderType
    price_cents: int | None
    """The limit price, or a market order's protection price (None = no protection)."""
    quantity: int


class OrderRejected(NamedTuple):
    """A new order was refused and left no trace in the book."""

    seq: int
    order_id: OrderId
    user_id: UserId
    code: RejectCode
    reason: str


class Trade(NamedTuple):
    """The taker traded `quantity` with a resting maker at the maker's price."""

    seq: int
    maker_order_id: OrderId
    taker_order_id: OrderId
    maker_user_id: UserId
    taker_user_id: UserId
    taker_side: Side
    price_cents: int
    quantity: int


class OrderCanceled(NamedTuple):
    """The order's open quantity, `remaining`, left the book; the order is finished."""

    seq: int
    order_id: OrderId
    user_id: UserId
    reason: CancelReason
    remaining: int


class OrderReduced(NamedTuple):
    """Self-trade prevention (DECREMENT) took `reduced_by` off an order that stays open with `remaining`."""

    seq: int
    order_id: OrderId
    user_id: UserId
    reduced_by: int
    remaining: int


class CancelRejected(NamedTuple):
    """A cancel request was refused; the order it named (if any) is unchanged."""

    seq: int
    order_id: OrderId | None
    user_id: UserId
    code: RejectCode
    reason: str


class BookLevelChanged(NamedTuple):
    """The total open quantity at one price on one side is now `quantity` (0 = level removed)."""

    seq: int
    side: Side
    price_cents: int
    quantity: int


Event: TypeAlias = (
    OrderAccepted | OrderRejected | Trade | OrderCanceled | OrderReduced | CancelRejected | BookLevelChanged
)
