"""One symbol's order book: price-time priority matching, cancels and self-trade prevention.

Invariants (checked by the property tests after every command):
- a level's `quantity` is the sum of the `remaining` of the open orders at that price;
- the book is never crossed after a command (best bid < best ask);
- no order trades more than its quantity; every event's `seq` is one more than the previous one.

Layout, chosen for CPython speed: per side, a dict of price levels keyed by a signed price key
(bids: +price, asks: -price) and a sorted list of those keys whose last element is the best
price, so the best level is `levels[keys[-1]]` on both sides. A level is a FIFO deque of orders.
A cancel marks the order dead (remaining 0) in place and the matcher drops dead orders when it
meets them; a level is compacted when dead orders outnumber live ones.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from typing import NamedTuple

from kyrios.exchange.engine import rejections
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
    OrderRejected,
)
from kyrios.exchange.engine.matching import match
from kyrios.exchange.engine.orders import Order, OrderId, UserId

BUY = Side.BUY
SELL = Side.SELL
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
GTC = TimeInForce.GTC
CANCEL_NEWEST = SelfTradePrevention.CANCEL_NEWEST
FILLED = RejectCode.ORDER_ALREADY_FILLED
CANCELED = RejectCode.ORDER_ALREADY_CANCELED
ANY_PRICE = -(1 << 62)
"""The limit key of a market order without protection: every level's key is above it."""


class PriceLevel:
    """The FIFO queue of orders at one price on one side; `quantity` is their open total."""

    __slots__ = ("dead", "key", "orders", "price_cents", "quantity")

    def __init__(self, price_cents: int, key: int) -> None:
        self.price_cents = price_cents
        self.key = key
        self.quantity = 0
        self.dead = 0
        self.orders: deque[Order] = deque()


class BookSide:
    """The levels of one side, with their keys sorted so that the best one is last."""

    __slots__ = ("keys", "levels", "side", "sign")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.sign = 1 if side is BUY else -1
        self.keys: list[int] = []
        self.levels: dict[int, PriceLevel] = {}


class Depth(NamedTuple):
    """Aggregated levels, best first, as (price_cents, quantity) pairs, taken after event `seq`."""

    seq: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


class OrderBook:
    """The book of one symbol. Commands append events to `events`; `take_events()` hands them over.

    The engine is deterministic: the same commands from the same state give the same events.
    """

    def __init__(
        self,
        symbol: str,
        *,
        tick_size_cents: int = 1,
        max_quantity: int = 1_000_000,
        last_seq: int = 0,
        finished_memory: int = 100_000,
    ) -> None:
        """Create an empty book; `last_seq` continues a sequence persisted before a restart.

        `finished_memory` bounds how many finished order ids are remembered (between
        `finished_memory` and twice that) to tell "already filled/canceled" from "unknown".
        """
        if tick_size_cents <= 0 or max_quantity <= 0:
            raise ValueError("tick size and maximum quantity must be positive")
        self.symbol = symbol
        self.tick_size_cents = tick_size_cents
        self.max_quantity = max_quantity
        self.seq = last_seq
        self.halted = False
        self.events: list[Event] = []
        self.bids = BookSide(BUY)
        self.asks = BookSide(SELL)
        self.open_orders: dict[OrderId, Order] = {}
        self.by_client_order_id: dict[tuple[UserId, str], Order] = {}
        self.finished: dict[OrderId, RejectCode] = {}
        self._finished_older: dict[OrderId, RejectCode] = {}
        self._finished_memory = finished_memory

    # ----------------------------------------------------------------- commands

    def place_limit(
        self,
        order_id: OrderId,
        user_id: UserId,
        side: Side,
        price_cents: int,
        quantity: int,
        *,
        time_in_force: TimeInForce = GTC,
        stp: SelfTradePrevention = CANCEL_NEWEST,
        client_order_id: str | None = None,
    ) -> None:
        """Match a limit order at `price_cents` or better; rest the remainder (GTC) or cancel it (IOC)."""
        if (
            type(quantity) is not int
            or type(price_cents) is not int
            or not 0 < quantity <= self.max_quantity
            or price_cents <= 0
            or price_cents % self.tick_size_cents
            or self.halted
            or order_id in self.open_orders
            or order_id in self.finished
            or order_id in self._finished_older
            or (client_order_id is not None and (user_id, client_order_id) in self.by_client_order_id)
        ):
            self._reject(order_id, user_id, quantity, price_cents, client_order_id, price_required=True)
            return
        seq = self.seq + 1
        taker = Order(order_id, user_id, side, price_cents, quantity, quantity, seq, client_order_id)
        self.events.append(OrderAccepted(seq, order_id, user_id, side, LIMIT, price_cents, quantity))
        self.seq = seq
        opposite = self.asks if side is BUY else self.bids
        keys = opposite.keys
        limit_key = -price_cents if side is BUY else price_cents
        if keys and keys[-1] >= limit_key:
            remaining = match(self, opposite, taker, limit_key, stp)
            if remaining <= 0:
                self._after_command()
                return
        if time_in_force is GTC:
            self._rest(taker)
        else:
            self._finish_taker(taker, CancelReason.IMMEDIATE_OR_CANCEL)
        self._after_command()

    def place_market(
        self,
        order_id: OrderId,
        user_id: UserId,
        side: Side,
        quantity: int,
        *,
        protection_price_cents: int | None = None,
        stp: SelfTradePrevention = CANCEL_NEWEST,
        client_order_id: str | None = None,
    ) -> None:
        """Sweep the book, never beyond `protection_price_cents` if given; cancel what is left."""
        problem = rejections.order_problem(
            quantity,
            protection_price_cents,
            price_required=False,
            tick_size_cents=self.tick_size_cents,
            max_quantity=self.max_quantity,
        )
        if (
            problem is not None
            or self.halted
            or order_id in self.open_orders
            or order_id in self.finished
            or order_id in self._finished_older
            or (client_order_id is not None and (user_id, client_order_id) in self.by_client_order_id)
        ):
            self._reject(
                order_id, user_id, quantity, protection_price_cents, client_order_id, price_required=False
            )
            return
        seq = self.seq + 1
        price = protection_price_cents or 0
        taker = Order(order_id, user_id, side, price, quantity, quantity, seq, client_order_id)
        self.events.append(
            OrderAccepted(seq, order_id, user_id, side, MARKET, protection_price_cents, quantity)
        )
        self.seq = seq
        opposite = self.asks if side is BUY else self.bids
        if protection_price_cents is None:
            limit_key = ANY_PRICE
        else:
            limit_key = -protection_price_cents if side is BUY else protection_price_cents
        keys = opposite.keys
        if keys and keys[-1] >= limit_key:
            if match(self, opposite, taker, limit_key, stp) > 0:
                self._finish_taker(taker, CancelReason.NO_LIQUIDITY)
        else:
            self._finish_taker(taker, CancelReason.NO_LIQUIDITY)
        self._after_command()

    def cancel(self, order_id: OrderId, user_id: UserId) -> None:
        """Cancel an open order on behalf of its owner."""
        order = self.open_orders.get(order_id)
        if order is None:
            finished = self.finished.get(order_id) or self._finished_older.get(order_id)
            self._reject_cancel(order_id, user_id, rejections.not_open(order_id, self.symbol, finished))
        elif order.user_id != user_id:
            self._reject_cancel(order_id, user_id, rejections.not_owner(order_id))
        else:
            self.take_out(order, CancelReason.REQUESTED)
            self._after_command()

    def cancel_by_client_order_id(self, user_id: UserId, client_order_id: str) -> None:
        """Cancel the user's open order that carries `client_order_id`."""
        order = self.by_client_order_id.get((user_id, client_order_id))
        if order is None:
            problem = rejections.unknown_client_order_id(client_order_id, self.symbol)
            self._reject_cancel(None, user_id, problem)
        else:
            self.take_out(order, CancelReason.REQUESTED)
            self._after_command()

    def take_events(self) -> list[Event]:
        """Return the events emitted since the last call, oldest first, and start a new list."""
        events = self.events
        self.events = []
        return events

    # ----------------------------------------------------------------- restart

    def restore(self, order: Order) -> None:
        """Put a persisted resting order back without matching or events.

        Call it in priority order (by `order.priority`); the book must have been created with
        `last_seq` at least as large as every restored priority.
        """
        if order.order_id in self.open_orders:
            raise ValueError(f"order {order.order_id!r} is already in the book")
        if not 0 < order.remaining <= order.quantity:
            raise ValueError(f"order {order.order_id!r} has no open quantity to restore")
        if order.price_cents <= 0 or order.price_cents % self.tick_size_cents:
            raise ValueError(f"order {order.order_id!r} has a price off the tick size")
        if order.priority > self.seq:
            raise ValueError(f"order {order.order_id!r} has priority {order.priority} after seq {self.seq}")
        level_orders = self._level_for(order).orders
        if level_orders and level_orders[-1].priority > order.priority:
            raise ValueError(f"order {order.order_id!r} is restored out of priority order")
        opposite_best = self.best_ask if order.side is BUY else self.best_bid
        if opposite_best is not None and (opposite_best - order.price_cents) * self._sign(order.side) <= 0:
            raise ValueError(f"order {order.order_id!r} would cross the book at {order.price_cents}")
        self._add_to_level(order)

    # ----------------------------------------------------------------- queries

    @property
    def best_bid(self) -> int | None:
        """The highest bid price in cents, or None if there are no bids."""
        keys = self.bids.keys
        return keys[-1] if keys else None

    @property
    def best_ask(self) -> int | None:
        """The lowest ask price in cents, or None if there are no asks."""
        keys = self.asks.keys
        return -keys[-1] if keys else None

    def depth(self, levels: int = 10) -> Depth:
        """The best `levels` price levels per side, aggregated."""
        return Depth(self.seq, self._side_depth(self.bids, levels), self._side_depth(self.asks, levels))

    def orders(self, side: Side | None = None) -> Iterator[Order]:
        """Open orders in priority order: bids best price first, then asks, FIFO within a price."""
        sides = (self.bids, self.asks) if side is None else (self.bids if side is BUY else self.asks,)
        for book_side in sides:
            for key in reversed(book_side.keys):
                for order in book_side.levels[key].orders:
                    if order.remaining:
                        yield order

    def order(self, order_id: OrderId) -> Order | None:
        """The open order with this id, or None."""
        return self.open_orders.get(order_id)

    def __len__(self) -> int:
        """The number of open orders."""
        return len(self.open_orders)

    # ----------------------------------------------------------------- internals

    @staticmethod
    def _sign(side: Side) -> int:
        return 1 if side is BUY else -1

    @staticmethod
    def _side_depth(book_side: BookSide, levels: int) -> list[tuple[int, int]]:
        keys = book_side.keys
        return [
            (level.price_cents, level.quantity)
            for level in (book_side.levels[key] for key in reversed(keys[-levels:] if levels > 0 else []))
        ]

    def _level_for(self, order: Order) -> PriceLevel:
        book_side = self.bids if order.side is BUY else self.asks
        key = order.price_cents * book_side.sign
        level = book_side.levels.get(key)
        if level is None:
            level = book_side.levels[key] = PriceLevel(order.price_cents, key)
            insort(book_side.keys, key)
        return level

    def _add_to_level(self, order: Order) -> PriceLevel:
        level = self._level_for(order)
        level.orders.append(order)
        level.quantity += order.remaining
        self.open_orders[order.order_id] = order
        if order.client_order_id is not None:
            self.by_client_order_id[order.user_id, order.client_order_id] = order
        return level

    def _rest(self, order: Order) -> None:
        level = self._add_to_level(order)
        self.seq = seq = self.seq + 1
        self.events.append(BookLevelChanged(seq, order.side, order.price_cents, level.quantity))

    def _finish_taker(self, taker: Order, reason: CancelReason) -> None:
        """Cancel what is left of an incoming order that will not rest."""
        self.seq = seq = self.seq + 1
        self.events.append(OrderCanceled(seq, taker.order_id, taker.user_id, reason, taker.remaining))
        taker.remaining = 0
        self.finished[taker.order_id] = CANCELED

    def take_out(self, order: Order, reason: CancelReason) -> None:
        """Cancel a resting order: mark it dead in its level and emit the cancel and level change."""
        book_side = self.bids if order.side is BUY else self.asks
        key = order.price_cents * book_side.sign
        level = book_side.levels[key]
        remaining = order.remaining
        order.remaining = 0
        level.quantity -= remaining
        self.forget(order, CANCELED)
        self.seq = seq = self.seq + 1
        self.events.append(OrderCanceled(seq, order.order_id, order.user_id, reason, remaining))
        self.seq = seq = seq + 1
        self.events.append(BookLevelChanged(seq, order.side, order.price_cents, level.quantity))
        if not level.quantity:
            del book_side.levels[key]
            keys = book_side.keys
            del keys[bisect_left(keys, key)]
            return
        orders = level.orders
        if orders[0] is order:
            orders.popleft()
        elif orders[-1] is order:
            orders.pop()
        else:
            level.dead = dead = level.dead + 1
            if dead > 16 and dead * 2 > len(orders):
                level.orders = deque(live for live in orders if live.remaining)
                level.dead = 0

    def forget(self, order: Order, outcome: RejectCode) -> None:
        """Drop a finished order from the open indexes and remember how it ended."""
        del self.open_orders[order.order_id]
        if order.client_order_id is not None:
            del self.by_client_order_id[order.user_id, order.client_order_id]
        self.finished[order.order_id] = outcome

    def _after_command(self) -> None:
        if len(self.finished) >= self._finished_memory:
            self._finished_older = self.finished
            self.finished = {}

    def _reject(
        self,
        order_id: OrderId,
        user_id: UserId,
        quantity: int,
        price_cents: int | None,
        client_order_id: str | None,
        *,
        price_required: bool,
    ) -> None:
        if self.halted:
            problem = rejections.halted(self.symbol)
        else:
            problem = rejections.order_problem(
                quantity,
                price_cents,
                price_required=price_required,
                tick_size_cents=self.tick_size_cents,
                max_quantity=self.max_quantity,
            ) or self._identity_problem(order_id, user_id, client_order_id)
        self.seq = seq = self.seq + 1
        self.events.append(OrderRejected(seq, order_id, user_id, *problem))

    def _identity_problem(
        self, order_id: OrderId, user_id: UserId, client_order_id: str | None
    ) -> tuple[RejectCode, str]:
        if order_id in self.open_orders or order_id in self.finished or order_id in self._finished_older:
            return rejections.duplicate_order_id(order_id)
        assert client_order_id is not None
        clashing = self.by_client_order_id[user_id, client_order_id]
        return rejections.duplicate_client_order_id(client_order_id, clashing.order_id)

    def _reject_cancel(
        self, order_id: OrderId | None, user_id: UserId, problem: tuple[RejectCode, str]
    ) -> None:
        self.seq = seq = self.seq + 1
        self.events.append(CancelRejected(seq, order_id, user_id, *problem))
