"""The order as the book holds it, and the identifier types the engine is generic over."""

from __future__ import annotations

from typing import TypeAlias

from kyrios.exchange.engine.enums import Side

OrderId: TypeAlias = int | str
"""Chosen by the caller (the persistence layer): a database id or a uuid string, unique per book."""
UserId: TypeAlias = int | str
"""The owner of an order, used for cancels and self-trade prevention."""


class Order:
    """An order resting in (or entering) a book; `remaining` is its open quantity.

    `priority` is the sequence number of its `OrderAccepted` event: within a price level, lower
    priority trades first. The persistence layer stores it and hands the order back to
    `OrderBook.restore` after a restart.
    """

    __slots__ = (
        "client_order_id",
        "order_id",
        "price_cents",
        "priority",
        "quantity",
        "remaining",
        "side",
        "user_id",
    )

    def __init__(
        self,
        order_id: OrderId,
        user_id: UserId,
        side: Side,
        price_cents: int,
        quantity: int,
        remaining: int,
        priority: int,
        client_order_id: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.user_id = user_id
        self.side = side
        self.price_cents = price_cents
        self.quantity = quantity
        self.remaining = remaining
        self.priority = priority
        self.client_order_id = client_order_id

    def __repr__(self) -> str:
        return (
            f"Order({self.order_id!r}, user={self.user_id!r}, {self.side} {self.remaining}/{self.quantity}"
            f" @ {self.price_cents}, priority={self.priority})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Order):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable: compare by value, never hash

    def _fields(self) -> tuple[object, ...]:
        return (
            self.order_id,
            self.user_id,
            self.side,
            self.price_cents,
            self.quantity,
            self.remaining,
            self.priority,
            self.client_order_id,
        )
