"""The enum-valued arguments of the book's commands: a member or its plain value, nothing else.

`"buy"` means `Side.BUY`; `"BUY"`, `None`, `1` or `OrderType.LIMIT` as a side raise before the
book changes. Both books check members by identity first and call these functions only for
anything else (the C book too, so both refuse with the same exception and message). No book
command takes an `OrderType`: the kind of order is the method called.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Literal, TypeAlias, TypeVar

from kyrios.exchange.engine.enums import CancelReason, SelfTradePrevention, Side, TimeInForce

SideLike: TypeAlias = Side | Literal["buy", "sell"]
TimeInForceLike: TypeAlias = TimeInForce | Literal["gtc", "ioc"]
SelfTradePreventionLike: TypeAlias = (
    SelfTradePrevention | Literal["none", "cancel_newest", "cancel_oldest", "cancel_both", "decrement"]
)
CancelReasonLike: TypeAlias = (
    CancelReason | Literal["requested", "self_trade", "no_liquidity", "immediate_or_cancel", "admin"]
)

Member = TypeVar("Member", bound=StrEnum)


def member(kind: type[Member], value: object, argument: str) -> Member:
    """`value` as a member of `kind`: the member itself, or the member whose plain value it is.

    Raises TypeError for anything that is neither a `kind` member nor a plain string (None, an
    int, a member of another enum even with an equal value) and ValueError for an unknown string.
    """
    if type(value) is kind:
        return value
    values = ", ".join(repr(known.value) for known in kind)
    if isinstance(value, str) and not isinstance(value, Enum):
        for known in kind:
            if known.value == value:
                return known
        raise ValueError(f"{argument} must be one of {values}; got {value!r}")
    kind_name, got = kind.__name__, type(value).__name__
    raise TypeError(f"{argument} must be a {kind_name} member or one of {values}; got {value!r} ({got})")


def side(value: object) -> Side:
    """The `Side` that `value` names."""
    return member(Side, value, "side")


def time_in_force(value: object) -> TimeInForce:
    """The `TimeInForce` that `value` names."""
    return member(TimeInForce, value, "time_in_force")


def self_trade_prevention(value: object, argument: str = "stp") -> SelfTradePrevention:
    """The `SelfTradePrevention` that `value` names (`argument`: the parameter, for the message)."""
    return member(SelfTradePrevention, value, argument)


def cancel_reason(value: object) -> CancelReason:
    """The `CancelReason` that `value` names."""
    return member(CancelReason, value, "reason")
