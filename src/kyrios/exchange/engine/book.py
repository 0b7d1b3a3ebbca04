"""One symbol's order book: price-time priority matching, cancels and self-trade prevention.

Invariants (checked by the property tests after every command):
- a level's `quantity` is the sum of the `remaining` of the open orders at that price;
- the book is never crossed after a command (best bid < best ask);
- no order trades more than its quantity; every event's `seq` is one more than the previous one.

The hot paths (`place_limit`, `cancel`, `matching.match`) are written flat, with attributes bound
to locals, because each Python call and attribute lookup shows in the benchmark.

Memory: everything is freed by reference counting (the book makes no reference cycles), so the
owner may `gc.freeze()` after each batch; otherwise CPython's full collections rescan every
resting order (tens of ms for ~30,000 orders, see bench/engine.py).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

from kyrios.exchange.engine import arguments, rejections
from kyrios.exchange.engine.arguments import (
    CancelReasonLike,
    SelfTradePreventionLike,
    SideLike,
    TimeInForceLike,
)
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
from kyrios.exchange.engine.levels import BookSide, Depth, PriceLevel
from kyrios.exchange.engine.matching import match
from kyrios.exchange.engine.orders import Order, OrderId, UserId

BUY = Side.BUY
SELL = Side.SELL
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
GTC = TimeInForce.GTC
IOC = TimeInForce.IOC
STP = SelfTradePrevention
REQUESTED = CancelReason.REQUESTED
IMMEDIATE_OR_CANCEL = CancelReason.IMMEDIATE_OR_CANCEL
NO_LIQUIDITY = CancelReason.NO_LIQUIDITY
CANCELED = RejectCode.ORDER_ALREADY_CANCELED
new_event = tuple.__new__
"""`new_event(Trade, (...))` builds an event without a Python-level `__new__` call."""
ANY_PRICE = -(1 << 62)
"""The limit key of a market order without protection: every level's key is above it."""


class OrderBook:
    """The book of one symbol. Commands append events to `events`; `take_events()` hands them over.

    The engine is deterministic: the same commands from the same state give the same events.
    Order ids are chosen by the caller and must be unique per book. One writer (the symbol's
    sequencer) owns a book; it is not thread-safe. `bids`, `asks`, `open_orders`,
    `by_client_order_id` and `finished` are the matcher's state: read them, never change them.

    Sides, times in force, STP modes and cancel reasons may be given as enum members or their
    plain values ("buy"); anything else raises TypeError or ValueError before the book changes
    (see `arguments`). Events always carry the members.
    """

    def __init__(
        self,
        symbol: str,
        *,
        tick_size_cents: int = 1,
        max_quantity: int = 1_000_000,
        last_seq: int = 0,
        finished_memory: int = 10_000,
        default_stp: SelfTradePreventionLike = SelfTradePrevention.CANCEL_NEWEST,
    ) -> None:
        """Create an empty book; `last_seq` continues a sequence persisted before a restart.

        `default_stp` is the self-trade prevention of orders placed without one (`stp=None`).

        The ids of about the last `finished_memory` filled or canceled orders (at most twice
        that, plus one batch) are kept to tell "already filled/canceled" from "unknown" on a
        cancel; older ones are answered as unknown, so the caller's database has the last word.
        """
        if tick_size_cents <= 0 or max_quantity <= 0:
            raise ValueError("tick size and maximum quantity must be positive")
        self._default_stp = arguments.self_trade_prevention(default_stp, "default_stp")
        self.symbol = symbol
        self.tick_size_cents = tick_size_cents
        self.max_quantity = max_quantity
        self.seq = last_seq
        self.halted = False
        """While True, new orders are rejected; cancels still work."""
        self.events: list[Event] = []
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)
        self.open_orders: dict[OrderId, Order] = {}
        self.by_client_order_id: dict[tuple[UserId, str], Order] = {}
        self.finished: dict[OrderId, RejectCode] = {}
        self._finished_older: dict[OrderId, RejectCode] = {}
        self._finished_memory = finished_memory

    @property
    def default_stp(self) -> SelfTradePrevention:
        """The self-trade prevention of orders placed without one; fixed when the book is made."""
        return self._default_stp

    # ----------------------------------------------------------------- commands

    def place_limit(
        self,
        order_id: OrderId,
        user_id: UserId,
        side: SideLike,
        price_cents: int,
        quantity: int,
        time_in_force: TimeInForceLike = GTC,
        stp: SelfTradePreventionLike | None = None,
        client_order_id: str | None = None,
    ) -> None:
        """Match a limit order at `price_cents` or better; rest the remainder (GTC) or cancel it (IOC).

        `stp` None means the book's `default_stp`.
        """
        # Members pass the identity checks; anything else is looked up (or refused) first.
        if side is not BUY and side is not SELL:
            side = arguments.side(side)
        if time_in_force is not GTC and time_in_force is not IOC:
            time_in_force = arguments.time_in_force(time_in_force)
        if stp is None:
            stp = self._default_stp
        elif type(stp) is not STP:
            stp = arguments.self_trade_prevention(stp)
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
        self.seq = priority = self.seq + 1
        events = self.events
        events.append(
            new_event(OrderAccepted, (priority, order_id, user_id, side, LIMIT, price_cents, quantity))
        )
        if side is BUY:
            own, opposite, key = self.bids, self.asks, price_cents
        else:
            own, opposite, key = self.asks, self.bids, -price_cents
        remaining = quantity
        opposite_keys = opposite.keys
        if opposite_keys and opposite_keys[-1] >= -key:
            remaining = match(self, opposite, order_id, user_id, side, quantity, -key, stp)
            if not remaining:
                return
        if time_in_force is not GTC:
            self._cancel_taker(order_id, user_id, remaining, IMMEDIATE_OR_CANCEL)
            return
        order = Order(order_id, user_id, side, price_cents, quantity, remaining, priority, client_order_id)
        levels = own.levels
        level = levels.get(key)
        if level is None:
            level = levels[key] = PriceLevel(price_cents, key)
            insort(own.keys, key)
        level.orders.append(order)
        level.quantity = total = level.quantity + remaining
        self.open_orders[order_id] = order
        if client_order_id is not None:
            self.by_client_order_id[user_id, client_order_id] = order
        self.seq = seq = self.seq + 1
        events.append(new_event(BookLevelChanged, (seq, side, price_cents, total)))

    def place_market(
        self,
        order_id: OrderId,
        user_id: UserId,
        side: SideLike,
        quantity: int,
        protection_price_cents: int | None = None,
        stp: SelfTradePreventionLike | None = None,
        client_order_id: str | None = None,
    ) -> None:
        """Sweep the book, never beyond `protection_price_cents` if given; cancel what is left.

        `stp` None means the book's `default_stp`.
        """
        if side is not BUY and side is not SELL:
            side = arguments.side(side)
        if stp is None:
            stp = self._default_stp
        elif type(stp) is not STP:
            stp = arguments.self_trade_prevention(stp)
        if (
            type(quantity) is not int
            or not 0 < quantity <= self.max_quantity
            or (
                protection_price_cents is not None
                and (
                    type(protection_price_cents) is not int
                    or protection_price_cents <= 0
                    or protection_price_cents % self.tick_size_cents
                )
            )
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
        self.seq = seq = self.seq + 1
        self.events.append(
            OrderAccepted(seq, order_id, user_id, side, MARKET, protection_price_cents, quantity)
        )
        opposite = self.asks if side is BUY else self.bids
        if protection_price_cents is None:
            limit_key = ANY_PRICE
        else:
            limit_key = -protection_price_cents if side is BUY else protection_price_cents
        keys = opposite.keys
        remaining = quantity
        if keys and keys[-1] >= limit_key:
            remaining = match(self, opposite, order_id, user_id, side, quantity, limit_key, stp)
        if remaining:
            self._cancel_taker(order_id, user_id, remaining, NO_LIQUIDITY)

    def cancel(self, order_id: OrderId, user_id: UserId) -> None:
        """Cancel an open order on behalf of its owner."""
        order = self.open_orders.get(order_id)
        if order is None:
            finished = self.finished.get(order_id) or self._finished_older.get(order_id)
            self._reject_cancel(order_id, user_id, rejections.not_open(order_id, self.symbol, finished))
        elif order.user_id != user_id:
            self._reject_cancel(order_id, user_id, rejections.not_owner(order_id))
        else:
            self._take_out(order, REQUESTED)

    def cancel_by_client_order_id(self, user_id: UserId, client_order_id: str) -> None:
        """Cancel the user's open order that carries `client_order_id`."""
        order = self.by_client_order_id.get((user_id, client_order_id))
        if order is None:
            problem = rejections.unknown_client_order_id(client_order_id, self.symbol)
            self._reject_cancel(None, user_id, problem)
        else:
            self._take_out(order, REQUESTED)

    def take_out(self, order: Order, reason: CancelReasonLike) -> None:
        """Cancel an open order now, whoever asks (e.g. an operator); emits the cancel and level change."""
        self._take_out(order, arguments.cancel_reason(reason))

    def _take_out(self, order: Order, reason: CancelReason) -> None:
        if order.side is BUY:
            book_side, key = self.bids, order.price_cents
        else:
            book_side, key = self.asks, -order.price_cents
        level = book_side.levels[key]
        remaining = order.remaining
        order.remaining = 0
        level.quantity = total = level.quantity - remaining
        order_id = order.order_id
        del self.open_orders[order_id]
        if order.client_order_id is not None:
            del self.by_client_order_id[order.user_id, order.client_order_id]
        self.finished[order_id] = CANCELED
        seq = self.seq
        append = self.events.append
        append(new_event(OrderCanceled, (seq + 1, order_id, order.user_id, reason, remaining)))
        append(new_event(BookLevelChanged, (seq + 2, order.side, order.price_cents, total)))
        self.seq = seq + 2
        if total:
            level.drop(order)
        else:
            del book_side.levels[key]
            keys = book_side.keys
            del keys[bisect_left(keys, key)]

    def take_events(self) -> list[Event]:
        """Return the events emitted since the last call, oldest first, and start a new list."""
        events = self.events
        self.events = []
        if len(self.finished) >= self._finished_memory:
            self._finished_older = self.finished
            self.finished = {}
        return events

    # ----------------------------------------------------------------- restart

    def restore(self, order: Order) -> None:
        """Put a persisted resting order back without matching or events.

        Call it in priority order (by `order.priority`); the book must have been created with
        `last_seq` at least as large as every restored priority. A plain `order.side` ("buy") is
        replaced by its member.
        """
        order_id, price = order.order_id, order.price_cents
        if order_id in self.open_orders:
            raise ValueError(f"order {order_id!r} is already in the book")
        if not 0 < order.remaining <= order.quantity:
            raise ValueError(f"order {order_id!r} has no open quantity to restore")
        if type(price) is not int or price <= 0 or price % self.tick_size_cents:
            raise ValueError(f"order {order_id!r} has a price off the tick size")
        if order.priority > self.seq:
            raise ValueError(f"order {order_id!r} has priority {order.priority} after seq {self.seq}")
        side = arguments.side(order.side)
        own, opposite = (self.bids, self.asks) if side is BUY else (self.asks, self.bids)
        opposite_best = opposite.best_price()
        if opposite_best is not None and (opposite_best - price) * own.sign <= 0:
            raise ValueError(f"order {order_id!r} would cross the book at {price}")
        key = price * own.sign
        level = own.levels.get(key)
        if level is not None and level.orders and level.orders[-1].priority > order.priority:
            raise ValueError(f"order {order_id!r} is restored out of priority order")
        order.side = side  # the book holds this very object: give it the member
        if level is None:
            level = own.levels[key] = PriceLevel(price, key)
            insort(own.keys, key)
        level.orders.append(order)
        level.quantity += order.remaining
        self.open_orders[order_id] = order
        if order.client_order_id is not None:
            self.by_client_order_id[order.user_id, order.client_order_id] = order

    # ----------------------------------------------------------------- queries

    @property
    def best_bid(self) -> int | None:
        """The highest bid price in cents, or None if there are no bids."""
        return self.bids.best_price()

    @property
    def best_ask(self) -> int | None:
        """The lowest ask price in cents, or None if there are no asks."""
        return self.asks.best_price()

    def depth(self, levels: int = 10) -> Depth:
        """The best `levels` price levels per side, aggregated, with the seq they are valid at."""
        return Depth(self.seq, self.bids.depth(levels), self.asks.depth(levels))

    def orders(self, side: SideLike | None = None) -> Iterator[Order]:
        """Open orders in priority order: bids best price first, then asks, FIFO within a price.

        With a `side`, only that side's orders.
        """
        if side is None:
            return _open_orders((self.bids, self.asks))
        return _open_orders((self.bids if arguments.side(side) is BUY else self.asks,))  # raises now

    def order(self, order_id: OrderId) -> Order | None:
        """The open order with this id, or None."""
        return self.open_orders.get(order_id)

    def __len__(self) -> int:
        """The number of open orders."""
        return len(self.open_orders)

    # ----------------------------------------------------------------- internals

    def _cancel_taker(self, order_id: OrderId, user_id: UserId, remaining: int, reason: CancelReason) -> None:
        """Cancel what is left of an incoming order that will not rest."""
        self.seq = seq = self.seq + 1
        self.events.append(new_event(OrderCanceled, (seq, order_id, user_id, reason, remaining)))
        self.finished[order_id] = CANCELED

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


def _open_orders(sides: tuple[BookSide, ...]) -> Iterator[Order]:
    for book_side in sides:
        for key in reversed(book_side.keys):
            for order in book_side.levels[key].orders:
                if order.remaining:
                    yield order
