"""What a user reads when the exchange refuses an order or a cancel, in their own language.

The engine stays pure and speaks in codes: the book's events and `risk`'s checks name each
refusal with a `RejectCode` (the book adds an English sentence for logs and tests, which users
never see). Here each code becomes a catalogue message, filled with the values the exchange holds
anyway (the request, the symbol's limits, `RiskProblem.values`): amounts of cash in `{…:cents}`,
quantities as numbers, ids as text (no thousands separators). A rejected order's row keeps the bare
code in `reject_reason` (a `RejectCode`, or an `IntakeCode` for the checks only intake makes);
`REJECT_REASONS` says each in words without the values, for a user reading their order history.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from kyrios.core.errors import Conflict, DomainError, Forbidden, InsufficientFunds, InvalidInput, NotFound
from kyrios.core.i18n import N_
from kyrios.exchange.engine import RejectCode
from kyrios.exchange.engine.risk import RiskProblem


class IntakeCode(StrEnum):
    """Refusals that only the exchange's intake makes (the book has no such check): `reject_reason`s."""

    PRICE_NOT_ALLOWED = "price_not_allowed"
    QUANTITY_TOO_SMALL = "quantity_too_small"


PRICE_NOT_ALLOWED = N_("A market order takes no price; send a limit order to name one.")
QUANTITY_TOO_SMALL = N_("Order rejected: quantity must be at least {min_quantity}.")
PRICE_REQUIRED = N_("Order rejected: a limit order needs a price.")
ORDER_REFUSALS: dict[RejectCode, tuple[type[DomainError], str]] = {
    RejectCode.INVALID_QUANTITY: (
        InvalidInput,
        N_("Order rejected: quantity must be a positive whole number, got {quantity}."),
    ),
    RejectCode.QUANTITY_TOO_LARGE: (
        InvalidInput,
        N_("Order rejected: quantity {quantity} is above the maximum of {max_quantity} per order."),
    ),
    RejectCode.INVALID_PRICE: (
        InvalidInput,
        N_("Order rejected: price must be positive, got {price_cents:cents}."),
    ),
    RejectCode.PRICE_OFF_TICK: (
        InvalidInput,
        N_(
            "Order rejected: price {price_cents:cents} is not a multiple of the tick size "
            "{tick_size_cents:cents}."
        ),
    ),
    RejectCode.BOOK_HALTED: (Conflict, N_("Trading in {symbol} is halted; only cancels are accepted.")),
    RejectCode.ORDER_VALUE_TOO_LARGE: (
        InvalidInput,
        N_(
            "Order rejected: the order value {value_cents:cents} is above the maximum of "
            "{max_value_cents:cents} per order."
        ),
    ),
    RejectCode.INSUFFICIENT_CASH: (
        InsufficientFunds,
        N_(
            "Order rejected: this order needs {needed_cents:cents} but you have "
            "{available_cents:cents} available."
        ),
    ),
    RejectCode.SHORT_SELLING_NOT_ALLOWED: (
        InsufficientFunds,
        N_("Order rejected: short selling is not allowed: you can sell at most {available} more."),
    ),
    RejectCode.SHORT_LIMIT_EXCEEDED: (
        InsufficientFunds,
        N_("Order rejected: this sell could leave you short {short}, above the short limit of {max_short}."),
    ),
    RejectCode.INSUFFICIENT_MARGIN: (
        InsufficientFunds,
        N_(
            "Order rejected: this sell could open a short of {short}, which needs {needed_cents:cents} "
            "of free cash as initial margin, but you have {available_cents:cents} free."
        ),
    ),
    RejectCode.BELOW_MAINTENANCE_MARGIN: (
        Conflict,
        N_(
            "Order rejected: your account is below its maintenance margin: only orders that reduce "
            "risk are accepted."
        ),
    ),
}
"""The refusals a user can meet when placing an order (the book's duplicate-id codes cannot reach
one: the exchange allocates order ids and answers a repeated client order id with the original)."""


def order_refusal(code: RejectCode, **values: Any) -> DomainError:
    """The error for an order refused with `code`; `values` fill its message (extra ones are ignored)."""
    kind, message = ORDER_REFUSALS[code]
    if code is RejectCode.INVALID_PRICE and values.get("price_cents") is None:
        message = PRICE_REQUIRED
    return kind(message, **values)


REJECT_REASONS: dict[str, str] = {
    RejectCode.INVALID_QUANTITY: N_("The quantity was not a positive whole number."),
    RejectCode.QUANTITY_TOO_LARGE: N_("The quantity was above the most allowed per order."),
    IntakeCode.QUANTITY_TOO_SMALL: N_("The quantity was below the least allowed per order."),
    RejectCode.INVALID_PRICE: N_("The limit order had no positive price."),
    RejectCode.PRICE_OFF_TICK: N_("The price was not a multiple of the tick size."),
    IntakeCode.PRICE_NOT_ALLOWED: N_("A market order takes no price."),
    RejectCode.BOOK_HALTED: N_("Trading in the symbol was halted."),
    RejectCode.ORDER_VALUE_TOO_LARGE: N_("The order value was above the most allowed per order."),
    RejectCode.INSUFFICIENT_CASH: N_("There was not enough free cash for the order."),
    RejectCode.SHORT_SELLING_NOT_ALLOWED: N_(
        "Short selling is not allowed, and the sell was larger than the holding."
    ),
    RejectCode.SHORT_LIMIT_EXCEEDED: N_("The sell could have gone beyond the short limit."),
}
"""Why an order was rejected, by its `reject_reason` code, in words without the request's values."""
OTHER_REJECT_REASON = N_("The exchange rejected the order ({code}).")


def reject_reason_text(code: str) -> tuple[str, dict[str, Any]]:
    """The catalogue message (and its values) saying why an order with `reject_reason` `code` failed."""
    message = REJECT_REASONS.get(code)
    if message is None:
        return OTHER_REJECT_REASON, {"code": code}
    return message, {}


def risk_refusal(problem: RiskProblem) -> DomainError:
    """The error for an order a pre-trade risk check refused."""
    return order_refusal(problem.code, **problem.values)


class Uncancelable(StrEnum):
    """Why an order cannot be canceled."""

    UNKNOWN = "unknown"
    NOT_OWNER = "not_owner"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"


_CANCEL_KINDS: dict[Uncancelable, type[DomainError]] = {
    Uncancelable.UNKNOWN: NotFound,
    Uncancelable.NOT_OWNER: Forbidden,
    Uncancelable.FILLED: Conflict,
    Uncancelable.CANCELED: Conflict,
    Uncancelable.REJECTED: Conflict,
}
_BY_ID = {
    Uncancelable.UNKNOWN: N_("There is no order {order_id}."),
    Uncancelable.NOT_OWNER: N_("You cannot cancel order {order_id}: it belongs to another user."),
    Uncancelable.FILLED: N_("You cannot cancel order {order_id}: it is already filled."),
    Uncancelable.CANCELED: N_("You cannot cancel order {order_id}: it is already canceled."),
    Uncancelable.REJECTED: N_("You cannot cancel order {order_id}: it is already rejected."),
}
_BY_CLIENT_ORDER_ID = {
    Uncancelable.UNKNOWN: N_("There is no order with client order id '{client_order_id}'."),
    Uncancelable.NOT_OWNER: N_(
        "You cannot cancel order with client order id '{client_order_id}': it belongs to another user."
    ),
    Uncancelable.FILLED: N_(
        "You cannot cancel order with client order id '{client_order_id}': it is already filled."
    ),
    Uncancelable.CANCELED: N_(
        "You cannot cancel order with client order id '{client_order_id}': it is already canceled."
    ),
    Uncancelable.REJECTED: N_(
        "You cannot cancel order with client order id '{client_order_id}': it is already rejected."
    ),
}
NOT_OPEN = N_("Order {order_id} is not open.")
_BOOK_CANCEL_REFUSALS = {
    RejectCode.NOT_ORDER_OWNER: Uncancelable.NOT_OWNER,
    RejectCode.ORDER_ALREADY_FILLED: Uncancelable.FILLED,
    RejectCode.ORDER_ALREADY_CANCELED: Uncancelable.CANCELED,
}


def cancel_refusal(
    why: Uncancelable, *, order_id: int | None = None, client_order_id: str | None = None
) -> DomainError:
    """The error for a cancel of the order named by `order_id` (or else `client_order_id`)."""
    kind = _CANCEL_KINDS[why]
    if order_id is not None:
        return kind(_BY_ID[why], order_id=str(order_id))
    return kind(_BY_CLIENT_ORDER_ID[why], client_order_id=client_order_id or "")


def book_cancel_refusal(code: RejectCode, order_id: int) -> DomainError:
    """The error for a cancel the book refused: the order finished meanwhile, or is not the user's."""
    why = _BOOK_CANCEL_REFUSALS.get(code)
    if why is None:  # the book no longer has it open: it finished meanwhile
        return Conflict(NOT_OPEN, order_id=str(order_id))
    return cancel_refusal(why, order_id=order_id)
