"""Both books take enum arguments as members or their plain values, refuse anything else, and
apply their own default self-trade prevention when a call gives none."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias, cast, get_args

import pytest

from kyrios.exchange.engine import (
    BookLevelChanged,
    CancelReason,
    CancelReasonLike,
    Event,
    Order,
    OrderCanceled,
    OrderType,
    PyOrderBook,
    SelfTradePrevention,
    SelfTradePreventionLike,
    Side,
    SideLike,
    TimeInForce,
    TimeInForceLike,
    Trade,
)

if TYPE_CHECKING:
    from kyrios.exchange.engine._cbook import OrderBook as CBookType

try:
    from kyrios.exchange.engine._cbook import OrderBook as _built_cbook

    CBook: type[CBookType] | None = _built_cbook
except ImportError:  # pragma: no cover - depends on the build
    CBook = None

Book: TypeAlias = "PyOrderBook | CBookType"  # either implementation
NOT_BUILT = pytest.mark.skipif(CBook is None, reason="the C book kyrios.exchange.engine._cbook is not built")


@pytest.fixture(params=[PyOrderBook, pytest.param(CBook, marks=NOT_BUILT)], ids=["python", "c"])
def book_class(request: pytest.FixtureRequest) -> type[Book]:
    return cast(type[Book], request.param)


def typed(events: list[Event]) -> list[tuple[type, tuple[object, ...], tuple[type, ...]]]:
    """Events with their classes and their items' classes ("buy" == Side.BUY, but not its type)."""
    return [(type(event), tuple(event), tuple(map(type, event))) for event in events]


def observable(book: Book) -> tuple[object, ...]:
    """What a caller can see of a book, to show that a refused call changed nothing."""
    return (book.seq, len(book), book.depth(100), [order._fields() for order in book.orders()], book.events)


def self_trade(book: Book, stp: SelfTradePreventionLike | None, *, plain_side: bool = False) -> list[Event]:
    """Alice rests a sell of 5; then Alice buys 3 at that price with `stp`. Returns the buy's events."""
    book.place_limit(1, "alice", Side.SELL, 10_000, 5)
    book.take_events()
    if stp is None:
        book.place_limit(2, "alice", "buy" if plain_side else Side.BUY, 10_000, 3)
    else:
        book.place_limit(2, "alice", "buy" if plain_side else Side.BUY, 10_000, 3, stp=stp)
    return book.take_events()


class OtherSide(StrEnum):
    """An enum of another type whose values equal Side's: still not a Side."""

    BUY = "buy"


# ------------------------------------------------------------------ plain values act as the members


def test_a_plain_buy_rests_as_a_buy_and_a_plain_sell_matches_it(book_class: type[Book]) -> None:
    book = book_class("ACME")
    book.place_limit(1, "alice", "buy", 10_000, 5)
    assert book.best_bid == 10_000 and book.best_ask is None
    [resting] = book.orders("buy")
    assert resting.side is Side.BUY and list(book.orders("sell")) == []
    book.place_market(2, "bob", "sell", 2)
    events = book.take_events()
    trades = [event for event in events if isinstance(event, Trade)]
    assert [(t.maker_order_id, t.taker_order_id, t.quantity) for t in trades] == [(1, 2, 2)]
    assert trades[0].taker_side is Side.SELL
    assert book.depth().bids == [(10_000, 3)]


@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("time_in_force", list(TimeInForce))
def test_plain_values_give_the_same_events_as_the_members(
    book_class: type[Book], side: Side, time_in_force: TimeInForce
) -> None:
    by_member, by_value = book_class("ACME"), book_class("ACME")
    for book in (by_member, by_value):
        book.place_limit(1, "maker", Side.SELL, 10_000, 4)
        book.place_limit(2, "maker", Side.BUY, 9_990, 4)
    price = 10_000 if side is Side.BUY else 9_990
    by_member.place_limit(3, "taker", side, price, 6, time_in_force)
    by_value.place_limit(3, "taker", side.value, price, 6, time_in_force.value)
    by_member.place_market(4, "taker", side, 1)
    by_value.place_market(4, "taker", side.value, 1)
    assert typed(by_value.take_events()) == typed(by_member.take_events())
    assert observable(by_value) == observable(by_member)


def test_stp_none_as_a_plain_value_lets_the_user_trade_with_their_own_order(book_class: type[Book]) -> None:
    events = self_trade(book_class("ACME"), "none", plain_side=True)
    [trade] = [event for event in events if isinstance(event, Trade)]
    assert (trade.maker_user_id, trade.taker_user_id, trade.quantity) == ("alice", "alice", 3)


@pytest.mark.parametrize("mode", list(SelfTradePrevention))
def test_every_stp_value_acts_as_its_member(book_class: type[Book], mode: SelfTradePrevention) -> None:
    assert typed(self_trade(book_class("ACME"), mode.value)) == typed(self_trade(book_class("ACME"), mode))


def test_orders_restore_and_take_out_take_plain_values(book_class: type[Book]) -> None:
    book = book_class("ACME", last_seq=10)
    # `Order` is typed with members; a restored row may hold plain values, which the book accepts.
    book.restore(Order(7, "alice", "buy", 10_000, 5, 5, 3))  # type: ignore[arg-type]
    book.restore(Order(8, "bob", "sell", 10_010, 5, 5, 4))  # type: ignore[arg-type]
    assert [order.side for order in book.orders()] == [Side.BUY, Side.SELL]
    assert [order.order_id for order in book.orders("sell")] == [8]
    order = book.order(7)
    assert order is not None
    book.take_out(order, "admin")
    [canceled, level] = book.take_events()
    assert isinstance(canceled, OrderCanceled) and isinstance(level, BookLevelChanged)
    assert canceled.reason is CancelReason.ADMIN and level.side is Side.BUY


def test_the_argument_types_list_exactly_the_enum_values() -> None:
    """`SideLike` and its siblings must list every value, so type checkers accept all of them."""
    for alias, enum in [
        (SideLike, Side),
        (TimeInForceLike, TimeInForce),
        (SelfTradePreventionLike, SelfTradePrevention),
        (CancelReasonLike, CancelReason),
    ]:
        member_type, literal = get_args(alias)
        assert member_type is enum and set(get_args(literal)) == {member.value for member in enum}


# ------------------------------------------------------------------ anything else is refused
# These calls pass what the signatures forbid, on purpose (`# type: ignore[arg-type]`, which mypy
# also proves needed): the refusal at run time is what is under test.


BAD_SIDES = [
    ("buyy", ValueError, "side must be one of 'buy', 'sell'; got 'buyy'"),
    ("BUY", ValueError, "side must be one of 'buy', 'sell'; got 'BUY'"),
    (None, TypeError, "side must be a Side member or one of 'buy', 'sell'; got None (NoneType)"),
    (1, TypeError, "side must be a Side member or one of 'buy', 'sell'; got 1 (int)"),
    (OrderType.LIMIT, TypeError, "side must be a Side member or one of 'buy', 'sell'; got <OrderType.LIMIT"),
    (OtherSide.BUY, TypeError, "side must be a Side member or one of 'buy', 'sell'; got <OtherSide.BUY"),
]
STP_CHOICES = "'none', 'cancel_newest', 'cancel_oldest', 'cancel_both', 'decrement'"
BAD_STPS = [
    ("off", ValueError, f"stp must be one of {STP_CHOICES}; got 'off'"),
    ("", ValueError, f"stp must be one of {STP_CHOICES}; got ''"),
    (0, TypeError, f"stp must be a SelfTradePrevention member or one of {STP_CHOICES}; got 0 (int)"),
    (False, TypeError, "got False (bool)"),
    (Side.BUY, TypeError, "got <Side.BUY: 'buy'> (Side)"),
]
BAD_TIMES_IN_FORCE = [
    ("fok", ValueError, "time_in_force must be one of 'gtc', 'ioc'; got 'fok'"),
    (None, TypeError, "time_in_force must be a TimeInForce member or one of 'gtc', 'ioc'; got None"),
    (SelfTradePrevention.NONE, TypeError, "(SelfTradePrevention)"),
]


def assert_refused(book: Book, call: Callable[[], object], error: type[Exception], message: str) -> None:
    """`call()` raises `error` with `message` in it and leaves the book as it was."""
    before = observable(book)
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)
    assert observable(book) == before and book.take_events() == []


def busy_book(book_class: type[Book]) -> Book:
    """A book with a bid and an ask of the same user resting (so any STP mode would act)."""
    book = book_class("ACME", max_quantity=100)
    book.place_limit(1, "alice", Side.BUY, 9_990, 5)
    book.place_limit(2, "alice", Side.SELL, 10_010, 5)
    book.take_events()
    return book


@pytest.mark.parametrize(("side", "error", "message"), BAD_SIDES)
def test_invalid_sides_are_refused_and_change_nothing(
    book_class: type[Book], side: object, error: type[Exception], message: str
) -> None:
    book = busy_book(book_class)
    assert_refused(book, lambda: book.place_limit(3, "alice", side, 10_010, 1), error, message)  # type: ignore[arg-type]
    assert_refused(book, lambda: book.place_market(3, "alice", side, 1), error, message)  # type: ignore[arg-type]
    if side is not None:  # orders(None) lists both sides
        assert_refused(book, lambda: book.orders(side), error, message)  # type: ignore[arg-type]
    restored = Order(3, "bob", side, 10_000, 1, 1, 1)  # type: ignore[arg-type]
    assert_refused(book, lambda: book.restore(restored), error, message)
    book.place_limit(3, "alice", Side.SELL, 9_990, 1)  # the same id is still free
    assert len(book.take_events()) > 1


@pytest.mark.parametrize(("stp", "error", "message"), BAD_STPS)
def test_invalid_stp_modes_are_refused_and_change_nothing(
    book_class: type[Book], stp: object, error: type[Exception], message: str
) -> None:
    book = busy_book(book_class)
    assert_refused(book, lambda: book.place_limit(3, "alice", Side.BUY, 10_010, 1, stp=stp), error, message)  # type: ignore[arg-type]
    assert_refused(book, lambda: book.place_market(3, "alice", Side.SELL, 1, stp=stp), error, message)  # type: ignore[arg-type]
    default_stp_message = message.replace("stp must", "default_stp must")
    assert_refused(book, lambda: book_class("ACME", default_stp=stp), error, default_stp_message)  # type: ignore[arg-type]


@pytest.mark.parametrize(("time_in_force", "error", "message"), BAD_TIMES_IN_FORCE)
def test_invalid_times_in_force_are_refused_and_change_nothing(
    book_class: type[Book], time_in_force: object, error: type[Exception], message: str
) -> None:
    book = busy_book(book_class)
    place = lambda: book.place_limit(3, "alice", Side.BUY, 10_010, 1, time_in_force)  # type: ignore[arg-type]  # noqa: E731
    assert_refused(book, place, error, message)


def test_a_bad_argument_is_refused_before_the_order_is_checked(book_class: type[Book]) -> None:
    """A halted book, a bad quantity or a used id would reject with an event; a bad enum raises first."""
    book = busy_book(book_class)
    book.halted = True
    assert_refused(book, lambda: book.place_limit(1, "a", "bid", 0, 0), ValueError, "side must be")  # type: ignore[arg-type]
    assert_refused(book, lambda: book.place_market(1, "a", Side.BUY, 0, stp="x"), ValueError, "stp must")  # type: ignore[arg-type]


def test_invalid_cancel_reasons_are_refused_and_change_nothing(book_class: type[Book]) -> None:
    book = busy_book(book_class)
    order = book.order(1)
    assert order is not None
    message = (
        "reason must be one of 'requested', 'self_trade', 'no_liquidity', 'immediate_or_cancel', 'admin'"
    )
    assert_refused(book, lambda: book.take_out(order, "halt"), ValueError, message)  # type: ignore[arg-type]
    assert_refused(book, lambda: book.take_out(order, None), TypeError, "reason must be a CancelReason")  # type: ignore[arg-type]
    assert book.order(1) is not None


# ------------------------------------------------------------------ the book's default STP


def test_the_default_stp_is_cancel_newest_unless_the_book_says_otherwise(book_class: type[Book]) -> None:
    book = book_class("ACME")
    assert book.default_stp is SelfTradePrevention.CANCEL_NEWEST
    assert typed(self_trade(book, None)) == typed(self_trade(book_class("ACME"), "cancel_newest"))


@pytest.mark.parametrize("mode", list(SelfTradePrevention))
def test_each_book_applies_its_own_default_stp(book_class: type[Book], mode: SelfTradePrevention) -> None:
    """Two books with different defaults: an order without `stp` gets its book's default; an
    explicit `stp` overrides it."""
    other = (
        SelfTradePrevention.NONE if mode is not SelfTradePrevention.NONE else SelfTradePrevention.CANCEL_BOTH
    )
    book, other_book = book_class("ACME", default_stp=mode.value), book_class("ACME", default_stp=other)
    assert book.default_stp is mode and other_book.default_stp is other
    expected, expected_other = self_trade(book_class("ACME"), mode), self_trade(book_class("ACME"), other)
    assert expected != expected_other
    assert typed(self_trade(book, None)) == typed(expected)
    assert typed(self_trade(other_book, None)) == typed(expected_other)
    overridden = book_class("ACME", default_stp=mode)
    assert typed(self_trade(overridden, other)) == typed(expected_other)


def test_the_default_stp_applies_to_market_orders_too(book_class: type[Book]) -> None:
    book = book_class("ACME", default_stp=SelfTradePrevention.NONE)
    book.place_limit(1, "alice", Side.SELL, 10_000, 5)
    book.place_market(2, "alice", Side.BUY, 2)
    trades = [event for event in book.take_events() if isinstance(event, Trade)]
    assert [(t.maker_user_id, t.taker_user_id, t.quantity) for t in trades] == [("alice", "alice", 2)]


def test_the_default_stp_cannot_be_changed_after_the_book_is_made(book_class: type[Book]) -> None:
    book = book_class("ACME", default_stp="decrement")
    with pytest.raises(AttributeError):
        book.default_stp = SelfTradePrevention.NONE  # type: ignore[misc]  # read-only on purpose
    assert book.default_stp is SelfTradePrevention.DECREMENT
