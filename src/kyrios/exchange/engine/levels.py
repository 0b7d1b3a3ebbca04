"""The shapes a book side is made of: FIFO price levels under sorted, signed price keys.

A side keeps its levels in a dict keyed by a signed price key (bids: +price, asks: -price) and
the keys in an ascending list, so on both sides the best price is `keys[-1]` and removing the
best level is `keys.pop()`.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from kyrios.exchange.engine.enums import Side
from kyrios.exchange.engine.orders import Order

COMPACT_AFTER_DEAD = 16
"""A level rebuilds its queue once it holds more than this many canceled orders and they are the majority."""


class PriceLevel:
    """The FIFO queue of orders at one price; `quantity` is their open total.

    Canceled orders may stay in the queue with `remaining == 0` (counted by `dead`) until the
    matcher reaches them or the queue is compacted.
    """

    __slots__ = ("dead", "key", "orders", "price_cents", "quantity")

    def __init__(self, price_cents: int, key: int) -> None:
        self.price_cents = price_cents
        self.key = key
        self.quantity = 0
        self.dead = 0
        self.orders: deque[Order] = deque()

    def drop(self, order: Order) -> None:
        """Take a just-canceled order out of the queue, now if it is at an end, else lazily."""
        orders = self.orders
        if orders[0] is order:
            orders.popleft()
        elif orders[-1] is order:
            orders.pop()
        else:
            self.dead = dead = self.dead + 1
            if dead > COMPACT_AFTER_DEAD and dead * 2 > len(orders):
                self.orders = deque(live for live in orders if live.remaining)
                self.dead = 0


class BookSide:
    """The levels of one side of a book, best price last in `keys`."""

    __slots__ = ("keys", "levels", "side", "sign")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.sign = 1 if side is Side.BUY else -1
        self.keys: list[int] = []
        self.levels: dict[int, PriceLevel] = {}

    def depth(self, count: int) -> list[tuple[int, int]]:
        """The best `count` levels as (price_cents, quantity), best first."""
        if count <= 0:
            return []
        levels = self.levels
        return [(levels[key].price_cents, levels[key].quantity) for key in reversed(self.keys[-count:])]

    def best_price(self) -> int | None:
        """The best price on this side, or None if it is empty."""
        keys = self.keys
        return keys[-1] * self.sign if keys else None


class Depth(NamedTuple):
    """Aggregated levels, best first, as (price_cents, quantity) pairs, as of event `seq`."""

    seq: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]
