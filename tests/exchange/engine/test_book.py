"""Unit tests of the order book: rejections, self-trade prevention, market and IOC remainders, restore."""

from __future__ import annotations

import gc

import pytest

from kyrios.exchange.engine import (
    BookLevelChanged,
    CancelReason,
    CancelRejected,
    Depth,
    Order,
    OrderAccepted,
    OrderBook,
    OrderCanceled,
    OrderReduced,
    OrderRejected,
    OrderType,
    RejectCode,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)

BUY, SELL = Side.BUY, Side.SELL


def new_book() -> OrderBook:
    """A book with a 10-cent tick and at most 1000 units per order."""
    return OrderBook("ACME", tick_size_cents=10, max_quantity=1_000)


def rejection(book: OrderBook) -> tuple[RejectCode, str]:
    """The code and sentence of the only event, which must be a rejection."""
    [event] = book.take_events()
    assert isinstance(event, OrderRejected | CancelRejected)
    return event.code, event.reason


@pytest.mark.parametrize(
    ("quantity", "price", "code", "reason"),
    [
        (0, 10_000, RejectCode.INVALID_QUANTITY, "quantity must be a positive whole number, got 0"),
        (-5, 10_000, RejectCode.INVALID_QUANTITY, "quantity must be a positive whole number, got -5"),
        (1.5, 10_000, RejectCode.INVALID_QUANTITY, "quantity must be a positive whole number, got 1.5"),
        (
            1_001,
            10_000,
            RejectCode.QUANTITY_TOO_LARGE,
            "quantity 1001 is above the maximum of 1000 per order",
        ),
        (1, 0, RejectCode.INVALID_PRICE, "price must be a positive whole number of cents, got 0"),
        (1, -10, RejectCode.INVALID_PRICE, "price must be a positive whole number of cents, got -10"),
        (1, 100.0, RejectCode.INVALID_PRICE, "price must be a positive whole number of cents, got 100.0"),
        (1, 10_005, RejectCode.PRICE_OFF_TICK, "price 10005 is not a multiple of the tick size 10"),
    ],
)
def test_limit_order_with_bad_quantity_or_price_is_rejected(
    quantity: int, price: int, code: RejectCode, reason: str
) -> None:
    book = new_book()
    book.place_limit(1, "alice", BUY, price, quantity)
    assert rejection(book) == (code, reason)
    assert len(book) == 0 and book.seq == 1


def test_limit_order_without_a_price_is_rejected() -> None:
    book = new_book()
    book.place_limit(1, "alice", BUY, None, 5)  # type: ignore[arg-type]  # a caller bypassing the types
    assert rejection(book) == (RejectCode.INVALID_PRICE, "a limit order needs a price")


def test_uuid_order_ids_and_string_users_work() -> None:
    book = new_book()
    maker, taker = "0b1c7f2e-2f0a-4d38-9d7e-1c2b3a4d5e6f", "5d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f7a"
    book.place_limit(maker, "alice", SELL, 10_000, 5, client_order_id="quote-1")
    book.place_market(taker, "bob", BUY, 2)
    trades = [e for e in book.take_events() if isinstance(e, Trade)]
    assert [(t.maker_order_id, t.taker_order_id, t.quantity) for t in trades] == [(maker, taker, 2)]
    book.cancel_by_client_order_id("alice", "quote-1")
    assert book.take_events()[0] == OrderCanceled(6, maker, "alice", CancelReason.REQUESTED, 3)


def test_market_order_protection_price_must_be_on_the_tick() -> None:
    book = new_book()
    book.place_market(1, "alice", BUY, 5, protection_price_cents=10_001)
    assert rejection(book) == (RejectCode.PRICE_OFF_TICK, "price 10001 is not a multiple of the tick size 10")


def test_duplicate_order_id_is_rejected_while_open_and_after_it_finished() -> None:
    book = new_book()
    book.place_limit(1, "alice", BUY, 10_000, 5)
    book.take_events()
    book.place_limit(1, "bob", SELL, 10_100, 5)
    assert rejection(book) == (RejectCode.DUPLICATE_ORDER_ID, "order id 1 is already used")
    book.cancel(1, "alice")
    book.take_events()
    book.place_market(1, "bob", SELL, 5)
    assert rejection(book)[0] is RejectCode.DUPLICATE_ORDER_ID


def test_client_order_id_must_be_unique_among_a_users_open_orders() -> None:
    book = new_book()
    book.place_limit(1, "alice", BUY, 10_000, 5, client_order_id="c1")
    book.place_limit(2, "bob", BUY, 10_000, 5, client_order_id="c1")  # another user may reuse it
    book.take_events()
    book.place_limit(3, "alice", BUY, 9_990, 5, client_order_id="c1")
    assert rejection(book) == (
        RejectCode.DUPLICATE_CLIENT_ORDER_ID,
        "client order id 'c1' is already used by your open order 1",
    )
    book.cancel_by_client_order_id("alice", "c1")
    book.take_events()
    book.place_limit(3, "alice", BUY, 9_990, 5, client_order_id="c1")  # free again once closed
    assert isinstance(book.take_events()[0], OrderAccepted)


def test_halted_book_rejects_orders_but_accepts_cancels() -> None:
    book = new_book()
    book.place_limit(1, "alice", BUY, 10_000, 5)
    book.halted = True
    book.take_events()
    book.place_limit(2, "alice", BUY, 10_000, 5)
    assert rejection(book) == (RejectCode.BOOK_HALTED, "trading in ACME is halted; only cancels are accepted")
    book.cancel(1, "alice")
    assert isinstance(book.take_events()[0], OrderCanceled)


def test_cancel_rejections_name_the_problem() -> None:
    book = new_book()
    book.place_limit(1, "alice", SELL, 10_000, 5)
    book.place_limit(2, "alice", SELL, 10_010, 5)
    book.place_limit(3, "bob", BUY, 10_000, 5)  # fills order 1
    book.cancel(2, "alice")
    book.take_events()
    book.cancel(99, "alice")
    assert rejection(book) == (RejectCode.UNKNOWN_ORDER, "there is no open order 99 in ACME")
    book.cancel(1, "alice")
    assert rejection(book) == (RejectCode.ORDER_ALREADY_FILLED, "order 1 is already filled")
    book.cancel(2, "alice")
    assert rejection(book) == (RejectCode.ORDER_ALREADY_CANCELED, "order 2 is already canceled")
    book.place_limit(4, "alice", SELL, 10_020, 5)
    book.take_events()
    book.cancel(4, "mallory")
    assert rejection(book) == (RejectCode.NOT_ORDER_OWNER, "order 4 belongs to another user")
    assert book.order(4) is not None
    book.cancel_by_client_order_id("alice", "nope")
    assert rejection(book) == (
        RejectCode.UNKNOWN_ORDER,
        "you have no open order with client order id 'nope' in ACME",
    )


def test_operator_can_take_out_any_open_order() -> None:
    book = new_book()
    book.place_limit(1, "alice", BUY, 10_000, 5)
    book.place_limit(2, "bob", BUY, 10_000, 3)
    book.take_events()
    order = book.order(1)
    assert order is not None
    book.take_out(order, CancelReason.ADMIN)
    assert book.take_events() == [
        OrderCanceled(5, 1, "alice", CancelReason.ADMIN, 5),
        BookLevelChanged(6, BUY, 10_000, 3),
    ]
    assert book.depth().bids == [(10_000, 3)]


def test_price_time_priority_partial_fills_at_the_makers_price() -> None:
    book = new_book()
    book.place_limit(1, "a", SELL, 10_010, 5)
    book.place_limit(2, "b", SELL, 10_000, 5)
    book.place_limit(3, "c", SELL, 10_000, 5)
    book.take_events()
    book.place_limit(4, "d", BUY, 10_020, 12)
    trades = [
        (e.maker_order_id, e.price_cents, e.quantity) for e in book.take_events() if isinstance(e, Trade)
    ]
    assert trades == [(2, 10_000, 5), (3, 10_000, 5), (1, 10_010, 2)]
    assert book.depth() == Depth(book.seq, [], [(10_010, 3)])
    assert book.best_bid is None and book.best_ask == 10_010


def test_event_stream_of_a_crossing_limit_that_rests() -> None:
    book = new_book()
    book.place_limit(1, "a", SELL, 10_000, 4)
    book.take_events()
    book.place_limit(2, "b", BUY, 10_010, 10)
    assert book.take_events() == [
        OrderAccepted(3, 2, "b", BUY, OrderType.LIMIT, 10_010, 10),
        Trade(4, 1, 2, "a", "b", BUY, 10_000, 4),
        BookLevelChanged(5, SELL, 10_000, 0),
        BookLevelChanged(6, BUY, 10_010, 6),
    ]


def test_market_order_never_rests_and_respects_its_protection_price() -> None:
    book = new_book()
    book.place_limit(1, "a", SELL, 10_000, 3)
    book.place_limit(2, "a", SELL, 10_100, 3)
    book.take_events()
    book.place_market(3, "b", BUY, 10, protection_price_cents=10_050)
    events = book.take_events()
    assert [e.quantity for e in events if isinstance(e, Trade)] == [3]
    assert events[-1] == OrderCanceled(events[-1].seq, 3, "b", CancelReason.NO_LIQUIDITY, 7)
    book.place_market(4, "b", BUY, 10)
    events = book.take_events()
    assert events[-1] == OrderCanceled(events[-1].seq, 4, "b", CancelReason.NO_LIQUIDITY, 7)
    assert len(book) == 0


def test_market_order_into_an_empty_book_is_canceled_whole() -> None:
    book = new_book()
    book.place_market(1, "a", SELL, 10)
    accepted, canceled = book.take_events()
    assert accepted == OrderAccepted(1, 1, "a", SELL, OrderType.MARKET, None, 10)
    assert canceled == OrderCanceled(2, 1, "a", CancelReason.NO_LIQUIDITY, 10)


def test_immediate_or_cancel_limit_cancels_its_remainder() -> None:
    book = new_book()
    book.place_limit(1, "a", BUY, 10_000, 3)
    book.take_events()
    book.place_limit(2, "b", SELL, 9_990, 5, time_in_force=TimeInForce.IOC)
    events = book.take_events()
    assert events[-1] == OrderCanceled(events[-1].seq, 2, "b", CancelReason.IMMEDIATE_OR_CANCEL, 2)
    assert len(book) == 0


def self_trade(stp: SelfTradePrevention, maker_quantity: int = 5, taker_quantity: int = 8) -> OrderBook:
    """Alice rests a sell of `maker_quantity` behind Bob's sell of 2; then Alice buys with `stp`."""
    book = new_book()
    book.place_limit(1, "bob", SELL, 10_000, 2)
    book.place_limit(2, "alice", SELL, 10_000, maker_quantity)
    book.place_limit(3, "bob", SELL, 10_010, 10)
    book.take_events()
    book.place_limit(4, "alice", BUY, 10_010, taker_quantity, stp=stp)
    return book


def kinds(book: OrderBook) -> list[tuple[object, ...]]:
    """The command's events without seq or level changes."""
    summary: list[tuple[object, ...]] = []
    for event in book.take_events():
        if isinstance(event, Trade):
            summary.append(("trade", event.maker_order_id, event.quantity))
        elif isinstance(event, OrderCanceled):
            summary.append(("canceled", event.order_id, event.reason, event.remaining))
        elif isinstance(event, OrderReduced):
            summary.append(("reduced", event.order_id, event.reduced_by, event.remaining))
    return summary


def test_stp_cancel_newest_cancels_the_taker_and_keeps_the_maker() -> None:
    book = self_trade(SelfTradePrevention.CANCEL_NEWEST)
    assert kinds(book) == [("trade", 1, 2), ("canceled", 4, CancelReason.SELF_TRADE, 6)]
    assert book.order(2) is not None and book.depth().asks == [(10_000, 5), (10_010, 10)]


def test_stp_cancel_oldest_cancels_the_maker_and_keeps_matching() -> None:
    book = self_trade(SelfTradePrevention.CANCEL_OLDEST)
    assert kinds(book) == [("trade", 1, 2), ("canceled", 2, CancelReason.SELF_TRADE, 5), ("trade", 3, 6)]
    assert book.depth().asks == [(10_010, 4)]


def test_stp_cancel_both_cancels_maker_and_taker() -> None:
    book = self_trade(SelfTradePrevention.CANCEL_BOTH)
    assert kinds(book) == [
        ("trade", 1, 2),
        ("canceled", 2, CancelReason.SELF_TRADE, 5),
        ("canceled", 4, CancelReason.SELF_TRADE, 6),
    ]
    assert book.depth().asks == [(10_010, 10)] and book.depth().bids == []


def test_stp_decrement_reduces_both_without_a_trade() -> None:
    book = self_trade(SelfTradePrevention.DECREMENT)  # maker 5, taker 6 left after bob's 2
    assert kinds(book) == [
        ("trade", 1, 2),
        ("canceled", 2, CancelReason.SELF_TRADE, 5),
        ("reduced", 4, 5, 1),
        ("trade", 3, 1),
    ]
    book = self_trade(SelfTradePrevention.DECREMENT, maker_quantity=9)
    assert kinds(book) == [("trade", 1, 2), ("reduced", 2, 6, 3), ("canceled", 4, CancelReason.SELF_TRADE, 6)]
    assert book.depth().asks == [(10_000, 3), (10_010, 10)]


def test_stp_none_allows_the_self_trade() -> None:
    book = self_trade(SelfTradePrevention.NONE)
    assert kinds(book) == [("trade", 1, 2), ("trade", 2, 5), ("trade", 3, 1)]


def test_restore_rebuilds_an_identical_book() -> None:
    book = new_book()
    for order_id in range(40):
        side = BUY if order_id % 2 else SELL
        price = 10_000 - (order_id % 5) * 10 if side is BUY else 10_010 + (order_id % 7) * 10
        book.place_limit(
            order_id, f"user{order_id % 3}", side, price, 1 + order_id % 9, client_order_id=f"c{order_id}"
        )
    book.place_market(100, "user9", BUY, 12)
    for order_id in range(0, 40, 3):
        book.cancel(order_id, f"user{order_id % 3}")
    saved = [
        Order(
            o.order_id,
            o.user_id,
            o.side,
            o.price_cents,
            o.quantity,
            o.remaining,
            o.priority,
            o.client_order_id,
        )
        for o in sorted(book.orders(), key=lambda o: o.priority)
    ]
    rebuilt = OrderBook("ACME", tick_size_cents=10, max_quantity=1_000, last_seq=book.seq)
    for order in saved:
        rebuilt.restore(order)
    assert rebuilt.take_events() == []
    assert list(rebuilt.orders()) == list(book.orders())
    assert rebuilt.depth(100) == book.depth(100)
    assert rebuilt.by_client_order_id.keys() == book.by_client_order_id.keys()
    for twin in (book, rebuilt):  # and both behave the same afterwards
        twin.place_market(200, "user9", SELL, 30)
        twin.cancel_by_client_order_id("user1", "c37")
    assert rebuilt.take_events()[-6:] == book.take_events()[-6:]


def test_restore_refuses_inconsistent_orders() -> None:
    book = OrderBook("ACME", tick_size_cents=10, last_seq=10)
    book.restore(Order(1, "a", BUY, 10_000, 5, 5, priority=3))
    with pytest.raises(ValueError, match="already in the book"):
        book.restore(Order(1, "a", BUY, 10_000, 5, 5, priority=4))
    with pytest.raises(ValueError, match="out of priority order"):
        book.restore(Order(2, "a", BUY, 10_000, 5, 5, priority=2))
    with pytest.raises(ValueError, match="after seq 10"):
        book.restore(Order(3, "a", BUY, 9_990, 5, 5, priority=11))
    with pytest.raises(ValueError, match="would cross"):
        book.restore(Order(4, "a", SELL, 10_000, 5, 5, priority=5))
    with pytest.raises(ValueError, match="no open quantity"):
        book.restore(Order(5, "a", SELL, 10_100, 5, 0, priority=6))


def test_cancels_in_the_middle_of_a_level_are_compacted_away() -> None:
    book = new_book()
    for order_id in range(100):
        book.place_limit(order_id, "a", BUY, 10_000, 1)
    for order_id in range(1, 99):
        book.cancel(order_id, "a")
    level = book.bids.levels[10_000]
    assert len(level.orders) < 40 and level.quantity == 2
    book.place_market(500, "b", SELL, 2)
    assert [e.maker_order_id for e in book.take_events() if isinstance(e, Trade)] == [0, 99]
    assert len(book) == 0 and book.bids.keys == []


def test_finished_memory_is_bounded() -> None:
    book = OrderBook("ACME", finished_memory=10)
    for order_id in range(50):
        book.place_market(order_id, "a", BUY, 1)
        book.take_events()
    assert len(book.finished) < 10
    book.cancel(49, "a")
    assert rejection(book)[0] is RejectCode.ORDER_ALREADY_CANCELED
    book.cancel(0, "a")
    assert rejection(book)[0] is RejectCode.UNKNOWN_ORDER


def test_sequence_continues_from_last_seq() -> None:
    book = OrderBook("ACME", last_seq=41)
    book.place_limit(1, "a", BUY, 100, 1)
    assert [event.seq for event in book.take_events()] == [42, 43]


def test_the_engine_makes_no_reference_cycles() -> None:
    """Everything is freed by reference counting, so a sequencer may gc.freeze() the book safely."""
    gc.collect()
    gc.disable()
    try:
        book = new_book()
        for order_id in range(300):
            side = BUY if order_id % 2 else SELL
            book.place_limit(
                order_id, f"u{order_id % 4}", side, 10_000 + (order_id % 7 - 3) * 10, 5 + order_id % 9
            )
            if order_id % 5 == 0:
                book.cancel(order_id - 3, f"u{(order_id - 3) % 4}")
            if order_id % 11 == 0:
                book.place_market(10_000 + order_id, "u1", side, 20, stp=SelfTradePrevention.DECREMENT)
            book.take_events()
        del book
        assert gc.collect() == 0
    finally:
        gc.enable()
