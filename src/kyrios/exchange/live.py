"""`LiveOrder`: the sequencer's working copy of an order that is not finished yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kyrios.exchange.engine import OrderType, SelfTradePrevention, Side
from kyrios.exchange.engine.risk import MarginState
from kyrios.exchange.models import ExchangeOrder, OrderStatus
from kyrios.exchange.schemas import OrderView


class LiveOrder:
    """The sequencer's copy of an order that is not finished yet (or finished in this batch)."""

    __slots__ = (
        "canceled",
        "client_order_id",
        "created_at",
        "filled",
        "id",
        "liquidating",
        "margin_cents",
        "order_type",
        "price_cents",
        "priority",
        "quantity",
        "reject_reason",
        "remaining",
        "reserved_cents",
        "side",
        "status",
        "stp",
        "user_id",
        "uuid",
    )

    def __init__(
        self,
        order_id: int,
        order_uuid: str,
        user_id: int,
        side: Side,
        order_type: OrderType,
        price_cents: int,
        quantity: int,
        reserved_cents: int,
        stp: SelfTradePrevention,
    ) -> None:
        self.id = order_id
        self.uuid = order_uuid
        self.user_id = user_id
        self.side = side
        self.order_type = order_type
        self.price_cents = price_cents
        self.quantity = quantity
        self.reserved_cents = reserved_cents
        self.stp = stp
        self.filled = 0
        self.canceled = 0
        self.remaining = quantity
        self.status = OrderStatus.OPEN
        self.priority: int | None = None
        self.reject_reason: str | None = None
        self.client_order_id: str | None = None
        self.created_at: datetime | None = None
        self.margin_cents = 0
        """Of `reserved_cents`, what a covering market buy took from its short's margin and has not
        spent yet (it goes back there, not to free cash). Market orders finish in their batch, so
        this is never stored."""
        self.liquidating: MarginState | None = None
        """Set on the exchange's buy-back of a short below maintenance: the state that caused it."""

    @classmethod
    def of(cls, row: ExchangeOrder) -> LiveOrder:
        """The live copy of an order row."""
        live = cls(
            row.id,
            row.uuid,
            row.user_id,
            row.side,
            row.type,
            int(row.price_cents or 0),
            row.quantity,
            row.reserved_cents,
            row.stp,
        )
        live.filled = row.filled_quantity
        live.canceled = row.canceled_quantity
        live.remaining = row.remaining_quantity
        live.status = row.status
        live.priority = row.priority
        live.client_order_id = row.client_order_id
        live.created_at = row.created_at
        return live

    def row(self, symbol: str, stamp: Any) -> tuple[Any, ...]:
        """The parameters of `INSERT_ORDER` for this order as it stands (`stamp`: `Bulk.stamp`)."""
        return (
            self.id,
            self.uuid,
            self.client_order_id,
            self.user_id,
            symbol,
            self.side.value,
            self.order_type.value,
            self.price_cents or None,
            self.quantity,
            self.filled,
            self.canceled,
            self.remaining,
            self.status.value,
            self.reject_reason,
            self.stp.value,
            self.priority,
            self.reserved_cents,
            stamp,
            stamp,
        )

    def view(self, symbol: str, *, duplicate: bool = False) -> OrderView:
        """What the client sees of this order."""
        assert self.created_at is not None
        return OrderView(
            id=self.id,
            uuid=self.uuid,
            client_order_id=self.client_order_id,
            user_id=self.user_id,
            symbol=symbol,
            side=self.side,
            type=self.order_type,
            price_cents=self.price_cents or None,
            quantity=self.quantity,
            filled_quantity=self.filled,
            remaining_quantity=self.remaining,
            status=self.status,
            reject_reason=self.reject_reason,
            created_at=self.created_at,
            duplicate=duplicate,
        )
