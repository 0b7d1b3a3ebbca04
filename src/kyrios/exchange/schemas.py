"""Wire shapes of the exchange (integer cents, whole units), kept apart from the tables."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kyrios.exchange.engine import OrderType, SelfTradePrevention, Side
from kyrios.exchange.engine.risk import MarginStatus
from kyrios.exchange.models import AssetStatus, AssetType, ExchangeOrder, OrderStatus, Role

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
"""What the database's order columns hold: a number beyond them is a malformed request (422)."""


class OrderRequest(BaseModel):
    """A new order as a client sends it; `price_cents` only for limit orders.

    The bounds are only the columns'; the exchange's own checks (positive, on the tick, within the
    symbol's limits) refuse an order with its reason and record it as REJECTED."""

    model_config = ConfigDict(frozen=True)

    symbol: str = Field(max_length=16)
    side: Side
    type: OrderType = OrderType.LIMIT
    quantity: int = Field(ge=BIGINT_MIN, le=BIGINT_MAX)
    price_cents: int | None = Field(default=None, ge=BIGINT_MIN, le=BIGINT_MAX)
    client_order_id: str | None = Field(default=None, max_length=36)
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST


class OrderView(BaseModel):
    """An order as the client sees it; `duplicate` marks the original returned for a repeated client id."""

    id: int
    uuid: str
    client_order_id: str | None
    user_id: int
    symbol: str
    side: Side
    type: OrderType
    price_cents: int | None
    quantity: int
    filled_quantity: int
    remaining_quantity: int
    status: OrderStatus
    reject_reason: str | None = None
    """Why the order was REJECTED: a code to act on (`insufficient_cash`, `book_halted`, …)."""
    reject_message: str | None = None
    """The same reason in words, in the reader's language (filled by the REST door)."""
    created_at: datetime
    duplicate: bool = False

    @classmethod
    def of(cls, order: ExchangeOrder, *, duplicate: bool = False) -> OrderView:
        """The view of an order row."""
        return cls(
            id=order.id,
            uuid=order.uuid,
            client_order_id=order.client_order_id,
            user_id=order.user_id,
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            price_cents=order.price_cents,
            quantity=order.quantity,
            filled_quantity=order.filled_quantity,
            remaining_quantity=order.remaining_quantity,
            status=order.status,
            reject_reason=order.reject_reason,
            created_at=order.created_at,
            duplicate=duplicate,
        )


class PositionView(BaseModel):
    """One holding with its P&L at the last traded price."""

    symbol: str
    quantity: int
    average_price_cents: int
    last_price_cents: int
    market_value_cents: int
    realized_pnl_cents: int
    unrealized_pnl_cents: int
    reserved_quantity: int
    margin_cents: int = 0
    """Cash held as margin for this short (part of the portfolio's `reserved_cents`)."""


class MarginView(BaseModel):
    """Where the account stands against its margins, at the last prices (cents).

    `status`: "ok" (equity at least the initial requirement), "warning" (below it, at least the
    maintenance level) or "restricted" (below maintenance: only orders that reduce risk are taken).
    """

    equity_cents: int
    short_value_cents: int
    requirement_cents: int
    maintenance_cents: int
    held_cents: int
    """Cash held as margin for the shorts."""
    status: MarginStatus


class PortfolioView(BaseModel):
    """A user's cash, reserved cash and positions; `equity_cents` values positions at last prices."""

    user_id: int
    username: str
    cash_cents: int
    reserved_cents: int
    positions: list[PositionView]
    equity_cents: int
    margin: MarginView


class AssetView(BaseModel):
    """A listed symbol."""

    symbol: str
    name: str
    type: AssetType
    sector: str
    tick_size_cents: int
    max_quantity: int
    max_notional_cents: int
    status: AssetStatus
    issued_supply: int
    last_price_cents: int


class AssetListing(BaseModel):
    """A symbol to list: its first price and supply, tick and order limits (`assets.create_asset`
    refuses what is not positive; these bounds are the columns')."""

    symbol: str = Field(max_length=16)
    name: str = Field(min_length=1, max_length=100)
    type: AssetType = AssetType.STOCK
    tick_size_cents: int = Field(default=1, le=BIGINT_MAX)
    supply: int = Field(le=BIGINT_MAX)
    price_cents: int = Field(default=10_000, le=BIGINT_MAX)
    sector: str = Field(default="", max_length=64)
    max_quantity: int = Field(default=1_000_000, le=BIGINT_MAX)
    max_notional_cents: int = Field(default=10**12, le=BIGINT_MAX)


class UserView(BaseModel):
    """An exchange account with its cash."""

    id: int
    username: str
    role: Role
    discord_id: int | None
    cash_cents: int
    reserved_cents: int


class BookLevel(BaseModel):
    """One price level of resting limit orders: total quantity and how many orders."""

    price_cents: int
    quantity: int
    orders: int
