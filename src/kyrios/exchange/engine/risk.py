"""Pre-trade risk arithmetic for the service layer: pure integer functions, no book, no I/O.

Each `*_problem` function returns None when the order is acceptable, otherwise a `RiskProblem`:
its code and the numbers behind it, which the exchange puts into words in the reader's language
(`kyrios.exchange.refusals`). Prices are integer cents, quantities whole units, rates basis
points (1 bps = 0.01 %).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from kyrios.exchange.engine.enums import RejectCode, Side

BPS = 10_000


class MarginStatus(StrEnum):
    """Where an account stands against its margins: at or above initial, between, below maintenance."""

    OK = "ok"
    WARNING = "warning"
    RESTRICTED = "restricted"


class MarginState(NamedTuple):
    """An account's margin figures at the last prices (cents)."""

    equity_cents: int
    """Free + reserved cash + the positions at the last prices (shorts count negative)."""
    short_value_cents: int
    """What buying back every short would cost at the last prices."""
    requirement_cents: int
    """The initial margin of the shorts at the last prices (`initial_margin_bps` of their value)."""
    maintenance_cents: int
    """The equity below which the account may only reduce risk (`maintenance_margin_bps`)."""
    status: MarginStatus


class RiskProblem(NamedTuple):
    """Why a risk check refuses an order: the code, and the numbers a message about it needs."""

    code: RejectCode
    values: dict[str, int]


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def limit_buy_cash_cents(price_cents: int, quantity: int) -> int:
    """Cash to reserve for a limit buy: it can never pay more than its limit price."""
    return price_cents * quantity


def market_collar_price_cents(
    last_price_cents: int, side: Side, collar_bps: int, tick_size_cents: int
) -> int:
    """The worst price a market order may reach: last price ± collar, rounded inwards to the tick.

    Buys round down and sells round up, so the collar is never wider than asked; a sell's collar
    is at least one tick.
    """
    if last_price_cents <= 0 or collar_bps < 0 or tick_size_cents <= 0:
        raise ValueError("last price and tick size must be positive and the collar not negative")
    if side is Side.BUY:
        worst = last_price_cents * (BPS + collar_bps) // BPS
        return max(worst // tick_size_cents * tick_size_cents, tick_size_cents)
    worst = _ceil_div(last_price_cents * max(BPS - collar_bps, 0), BPS)
    return max(_ceil_div(worst, tick_size_cents) * tick_size_cents, tick_size_cents)


def market_buy_cash_cents(last_price_cents: int, quantity: int, collar_bps: int, tick_size_cents: int) -> int:
    """Cash to reserve for a market buy that is protected by the collar price."""
    collar = market_collar_price_cents(last_price_cents, Side.BUY, collar_bps, tick_size_cents)
    return collar * quantity


def short_margin_cents(short_quantity: int, price_cents: int, margin_bps: int) -> int:
    """Cash to hold against a short position of `short_quantity` units at `price_cents` (rounded up)."""
    return _ceil_div(max(short_quantity, 0) * price_cents * margin_bps, BPS)


def short_units(position: int, open_sell_quantity: int, quantity: int) -> int:
    """How many units of a sell of `quantity` may open or increase a short.

    The sell first uses what is left of a long after the sells already resting (they may all fill
    first); the rest goes below zero.
    """
    covered = min(quantity, max(position - open_sell_quantity, 0))
    return quantity - covered


def margin_problem(required_cents: int, available_cents: int, units: int) -> RiskProblem | None:
    """Refuse a short sell whose initial margin is more than the free cash."""
    if required_cents <= available_cents:
        return None
    return RiskProblem(
        RejectCode.INSUFFICIENT_MARGIN,
        {"short": units, "needed_cents": required_cents, "available_cents": available_cents},
    )


def margin_state(
    equity_cents: int, short_value_cents: int, initial_margin_bps: int, maintenance_margin_bps: int
) -> MarginState:
    """Grade an account: RESTRICTED below maintenance, WARNING below the initial margin, else OK.

    An account without shorts (`short_value_cents` 0) needs no margin and is always OK.
    """
    requirement = _ceil_div(short_value_cents * initial_margin_bps, BPS)
    maintenance = _ceil_div(short_value_cents * maintenance_margin_bps, BPS)
    if short_value_cents > 0 and equity_cents < maintenance:
        status = MarginStatus.RESTRICTED
    elif short_value_cents > 0 and equity_cents < requirement:
        status = MarginStatus.WARNING
    else:
        status = MarginStatus.OK
    return MarginState(equity_cents, short_value_cents, requirement, maintenance, status)


def risk_reducing_problem(
    position: int, open_sell_quantity: int, open_buy_quantity: int, side: Side, quantity: int
) -> RiskProblem | None:
    """Below maintenance only risk-reducing orders pass: sells of a long, buys that cover a short.

    Counting the resting orders of the same side, which may all fill first, the order must
    neither take the position below zero (a sell) nor above it (a buy).
    """
    if side is Side.SELL:
        reduces = position - open_sell_quantity - quantity >= 0
    else:
        reduces = position + open_buy_quantity + quantity <= 0
    if reduces:
        return None
    return RiskProblem(RejectCode.BELOW_MAINTENANCE_MARGIN, {})


def proportional_share(amount: int, part: int, whole: int) -> int:
    """The share of `amount` that goes with `part` of `whole` units, rounded down; all of it for the
    last units, so shares taken one after another add up to `amount` exactly."""
    if part >= whole:
        return amount
    return amount * part // whole


def liquidation_quantity(
    position: int, open_buy_quantity: int, spendable_cents: int, price_cents: int
) -> int:
    """Units of a short the exchange buys back: all still uncovered, as far as the cash pays at a price."""
    uncovered = max(-position - open_buy_quantity, 0)
    if price_cents <= 0:
        return 0
    return min(uncovered, max(spendable_cents, 0) // price_cents)


def short_position_problem(
    position: int, open_sell_quantity: int, side: Side, quantity: int, max_short_quantity: int
) -> RiskProblem | None:
    """Refuse a sell that could take the position below `-max_short_quantity`.

    `position` is + long / − short; `open_sell_quantity` counts sells already resting, which may
    all fill before this one.
    """
    if side is Side.BUY:
        return None
    worst_position = position - open_sell_quantity - quantity
    if worst_position >= -max_short_quantity:
        return None
    if max_short_quantity == 0:
        available = max(position - open_sell_quantity, 0)
        return RiskProblem(RejectCode.SHORT_SELLING_NOT_ALLOWED, {"available": available})
    return RiskProblem(
        RejectCode.SHORT_LIMIT_EXCEEDED, {"short": -worst_position, "max_short": max_short_quantity}
    )


def notional_problem(price_cents: int, quantity: int, max_notional_cents: int) -> RiskProblem | None:
    """Refuse an order whose value (price × quantity) is above `max_notional_cents`."""
    notional = price_cents * quantity
    if notional <= max_notional_cents:
        return None
    return RiskProblem(
        RejectCode.ORDER_VALUE_TOO_LARGE, {"value_cents": notional, "max_value_cents": max_notional_cents}
    )


def cash_problem(required_cents: int, available_cents: int) -> RiskProblem | None:
    """Refuse an order that needs more cash than the user has free."""
    if required_cents <= available_cents:
        return None
    return RiskProblem(
        RejectCode.INSUFFICIENT_CASH, {"needed_cents": required_cents, "available_cents": available_cents}
    )
