"""The small vocabularies of the matching engine: sides, order types, STP modes and reasons."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Which side of the book an order is on."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """LIMIT orders may rest in the book; MARKET orders sweep it and never rest."""

    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    """How long the unfilled part of a limit order lives: in the book (GTC) or not at all (IOC)."""

    GTC = "gtc"
    IOC = "ioc"


class SelfTradePrevention(StrEnum):
    """What happens when a taker would trade with a resting order of the same user (the taker decides)."""

    NONE = "none"
    """Allow the self-trade."""
    CANCEL_NEWEST = "cancel_newest"
    """Cancel the rest of the incoming order; the resting one keeps its place."""
    CANCEL_OLDEST = "cancel_oldest"
    """Cancel the resting order and keep matching the incoming one."""
    CANCEL_BOTH = "cancel_both"
    """Cancel the resting order and the rest of the incoming one."""
    DECREMENT = "decrement"
    """Reduce both by the overlapping quantity without a trade; an order reduced to zero is canceled."""


class CancelReason(StrEnum):
    """Why the open quantity of an order was taken out of the book."""

    REQUESTED = "requested"
    SELF_TRADE = "self_trade"
    NO_LIQUIDITY = "no_liquidity"
    """A market order found no more liquidity (within its protection price, if it had one)."""
    IMMEDIATE_OR_CANCEL = "immediate_or_cancel"
    ADMIN = "admin"
    """An operator took the order out (halt, delisting) through `OrderBook.take_out`."""


class RejectCode(StrEnum):
    """Machine-readable kind of a refused order or cancel: what callers act on and put into words.

    A book event also carries an English sentence (for logs and tests); the pre-trade checks of
    `risk` return the numbers behind their codes instead.
    """

    INVALID_QUANTITY = "invalid_quantity"
    QUANTITY_TOO_LARGE = "quantity_too_large"
    INVALID_PRICE = "invalid_price"
    PRICE_OFF_TICK = "price_off_tick"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    BOOK_HALTED = "book_halted"
    UNKNOWN_ORDER = "unknown_order"
    NOT_ORDER_OWNER = "not_order_owner"
    ORDER_ALREADY_FILLED = "order_already_filled"
    ORDER_ALREADY_CANCELED = "order_already_canceled"
    ORDER_VALUE_TOO_LARGE = "order_value_too_large"
    INSUFFICIENT_CASH = "insufficient_cash"
    SHORT_SELLING_NOT_ALLOWED = "short_selling_not_allowed"
    SHORT_LIMIT_EXCEEDED = "short_limit_exceeded"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    """A sell that may open or increase a short lacks the free cash of its initial margin."""
    BELOW_MAINTENANCE_MARGIN = "below_maintenance_margin"
    """The account is below its maintenance margin and the order does not reduce its risk."""
