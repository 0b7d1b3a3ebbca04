"""Why the book refuses an order or a cancel: a `RejectCode`, and an English sentence.

The code is what callers act on; the sentence explains it in logs and tests (the C book formats
the same ones). Users never read these sentences: the exchange turns the code into a catalogue
message in their language (`kyrios.exchange.refusals`).
"""

from __future__ import annotations

from kyrios.exchange.engine.enums import RejectCode
from kyrios.exchange.engine.orders import OrderId


def order_problem(
    quantity: int, price_cents: int | None, *, price_required: bool, tick_size_cents: int, max_quantity: int
) -> tuple[RejectCode, str] | None:
    """The first thing wrong with an order's quantity or price, or None if both are acceptable."""
    if type(quantity) is not int or quantity <= 0:
        return RejectCode.INVALID_QUANTITY, f"quantity must be a positive whole number, got {quantity!r}"
    if quantity > max_quantity:
        return (
            RejectCode.QUANTITY_TOO_LARGE,
            f"quantity {quantity} is above the maximum of {max_quantity} per order",
        )
    if price_cents is None:
        if price_required:
            return RejectCode.INVALID_PRICE, "a limit order needs a price"
        return None
    if type(price_cents) is not int or price_cents <= 0:
        return (
            RejectCode.INVALID_PRICE,
            f"price must be a positive whole number of cents, got {price_cents!r}",
        )
    if price_cents % tick_size_cents:
        return (
            RejectCode.PRICE_OFF_TICK,
            f"price {price_cents} is not a multiple of the tick size {tick_size_cents}",
        )
    return None


def duplicate_order_id(order_id: OrderId) -> tuple[RejectCode, str]:
    """The order id was used before in this book."""
    return RejectCode.DUPLICATE_ORDER_ID, f"order id {order_id!r} is already used"


def duplicate_client_order_id(client_order_id: str, open_order_id: OrderId) -> tuple[RejectCode, str]:
    """The user already has an open order with this client order id."""
    return (
        RejectCode.DUPLICATE_CLIENT_ORDER_ID,
        f"client order id {client_order_id!r} is already used by your open order {open_order_id!r}",
    )


def halted(symbol: str) -> tuple[RejectCode, str]:
    """The book takes no new orders."""
    return RejectCode.BOOK_HALTED, f"trading in {symbol} is halted; only cancels are accepted"


def not_open(order_id: OrderId, symbol: str, finished: RejectCode | None) -> tuple[RejectCode, str]:
    """A cancel named an order that is not open: finished (filled or canceled) or never seen."""
    if finished is RejectCode.ORDER_ALREADY_FILLED:
        return finished, f"order {order_id!r} is already filled"
    if finished is RejectCode.ORDER_ALREADY_CANCELED:
        return finished, f"order {order_id!r} is already canceled"
    return RejectCode.UNKNOWN_ORDER, f"there is no open order {order_id!r} in {symbol}"


def not_owner(order_id: OrderId) -> tuple[RejectCode, str]:
    """A user tried to cancel somebody else's order."""
    return RejectCode.NOT_ORDER_OWNER, f"order {order_id!r} belongs to another user"


def unknown_client_order_id(client_order_id: str, symbol: str) -> tuple[RejectCode, str]:
    """A cancel by client order id found no open order of that user."""
    return (
        RejectCode.UNKNOWN_ORDER,
        f"you have no open order with client order id {client_order_id!r} in {symbol}",
    )
