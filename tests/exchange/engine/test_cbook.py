"""The C book (`_cbook`) against the pure-Python book: same events, same state, no leaks.

Both books get the same commands (including bad input, every STP mode, IOC, protected and
unprotected market orders, cancels by id and client order id, operator take-outs, halts, event
batches that rotate the finished-order memory, and restores; enum arguments as members, as plain
values and as invalid values); after every command the event lists (types, seq numbers, the types
of their items, BookLevelChanged included) and the whole observable state must be equal.
"""

from __future__ import annotations

import gc
import os
import random
import subprocess
import sys
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kyrios.exchange.engine import (
    CancelReason,
    Order,
    OrderAccepted,
    OrderType,
    PyOrderBook,
    RejectCode,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trade,
)

try:
    from kyrios.exchange.engine._cbook import OrderBook as CBook
except ImportError:  # pragma: no cover - depends on the build
    pytest.skip(
        "the C book kyrios.exchange.engine._cbook is not built (`pip install -e .` builds it where a C"
        " compiler is available, as CI does)",
        allow_module_level=True,
    )

TICK = 5
MAX_QUANTITY = 20
Book = Any  # either implementation, fed bad input on purpose and read down to private state
Command = tuple[Any, ...]


def books(**options: Any) -> tuple[Book, Book]:
    """A C book and a Python book with the same settings."""
    settings_ = {"tick_size_cents": TICK, "max_quantity": MAX_QUANTITY, **options}
    return CBook("TEST", **settings_), PyOrderBook("TEST", **settings_)


def state(book: Book) -> tuple[object, ...]:
    """Everything a caller can observe, as plain values."""
    return (
        book.seq,
        len(book),
        book.halted,
        book.default_stp,
        book.best_bid,
        book.best_ask,
        book.depth(10_000),
        book.depth(2),
        [order._fields() for order in book.orders()],
        [order._fields() for order in book.orders(Side.SELL)],
        [(order_id, order._fields()) for order_id, order in book.open_orders.items()],
        [(key, order.order_id) for key, order in book.by_client_order_id.items()],
        list(book.finished.items()),
        list(book._finished_older.items()),
        {key: (level.price_cents, level.quantity) for key, level in book.bids.levels.items()},
        book.asks.keys,
    )


def typed(events: list[Any]) -> list[tuple[type, tuple[object, ...], tuple[type, ...]]]:
    """Events with their classes and their items' classes, since named tuples of equal values
    compare equal (and so do `Side.BUY` and "buy")."""
    return [(type(event), tuple(event), tuple(map(type, event))) for event in events]


def apply(book: Book, command: Command) -> object:
    """Run one command; returns what it returned or the class of the exception it raised."""
    kind, *args = command
    try:
        if kind == "limit":
            order_id, user_id, side, price, quantity, tif, stp, client_order_id = args
            book.place_limit(order_id, user_id, side, price, quantity, tif, stp, client_order_id)
        elif kind == "limit_kw":
            order_id, user_id, side, price, quantity, client_order_id = args
            book.place_limit(
                order_id,
                user_id,
                side=side,
                quantity=quantity,
                price_cents=price,
                client_order_id=client_order_id,
            )
        elif kind == "market":
            order_id, user_id, side, quantity, protection, stp, client_order_id = args
            book.place_market(
                order_id,
                user_id,
                side,
                quantity,
                protection_price_cents=protection,
                stp=stp,
                client_order_id=client_order_id,
            )
        elif kind == "cancel":
            book.cancel(*args)
        elif kind == "cancel_client":
            book.cancel_by_client_order_id(*args)
        elif kind == "take_out":
            order_id, reason = args
            order = book.order(order_id)
            if order is not None:
                book.take_out(order, reason)
        elif kind == "halt":
            book.halted = args[0]
        elif kind == "take":
            return typed(book.take_events())
        else:
            raise AssertionError(kind)
    except Exception as error:  # compared between the books
        return type(error)
    return None


def run_both(
    commands: list[Command], *, check_every_command: bool = True, **options: Any
) -> tuple[Book, Book]:
    """Apply the commands to both books, comparing results, events and state."""
    c_book, py_book = books(**options)
    for command in commands:
        assert apply(c_book, command) == apply(py_book, command), command
        if check_every_command or command[0] == "take":
            assert typed(c_book.events) == typed(py_book.events), command
            assert state(c_book) == state(py_book), command
    assert typed(c_book.take_events()) == typed(py_book.take_events())
    assert state(c_book) == state(py_book)
    return c_book, py_book


order_ids = st.one_of(st.integers(0, 40), st.sampled_from(["a", "b", "x-1"]))
users = st.sampled_from([0, 1, 2, "u"])
INVALID = [0, "Buy", "x", OrderType.LIMIT]
"""Neither a member nor a plain value of any enum argument: both books must raise alike, unchanged."""
sides = st.sampled_from([Side.BUY, Side.SELL, Side.BUY, Side.SELL, "buy", "sell", None, *INVALID])
prices = st.one_of(
    st.sampled_from([10_000 + TICK * steps for steps in range(-3, 4)]),
    st.sampled_from([0, -TICK, 10_001, 2**70, 2**64 + 1, None, 10_000.0, True]),
)
quantities = st.one_of(
    st.integers(1, MAX_QUANTITY), st.sampled_from([0, -3, MAX_QUANTITY + 1, 2**64, 2.0, True, None])
)
STP_VALUES = [mode.value for mode in SelfTradePrevention]
# stp None: the book's default
stps = st.sampled_from([*SelfTradePrevention, *SelfTradePrevention, *STP_VALUES, None, *INVALID])
tifs = st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, "gtc", "ioc", None, *INVALID])
reasons = st.sampled_from([*CancelReason, "admin", None, *INVALID])
client_ids = st.sampled_from([None, None, None, "c1", "c2"])
commands = st.lists(
    st.one_of(
        st.tuples(
            st.just("limit"),
            order_ids,
            users,
            sides,
            prices,
            quantities,
            tifs,
            stps,
            client_ids,
        ),
        st.tuples(st.just("limit_kw"), order_ids, users, sides, prices, quantities, client_ids),
        st.tuples(
            st.just("market"),
            order_ids,
            users,
            sides,
            quantities,
            st.one_of(st.none(), prices),
            stps,
            client_ids,
        ),
        st.tuples(st.just("cancel"), order_ids, users),
        st.tuples(st.just("cancel_client"), users, client_ids),
        st.tuples(st.just("take_out"), order_ids, reasons),
        st.tuples(st.just("halt"), st.sampled_from([True, False, False, False])),
        st.tuples(st.just("take")),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands, st.sampled_from([3, 10_000]), st.sampled_from(SelfTradePrevention))
def test_c_book_matches_the_python_book(
    stream: list[Command], finished_memory: int, default_stp: SelfTradePrevention
) -> None:
    """Same results, events and state after every command of a random stream."""
    c_book, py_book = run_both(stream, finished_memory=finished_memory, default_stp=default_stp)
    assert_restore_is_identical(c_book, py_book)


def assert_restore_is_identical(c_book: Book, py_book: Book) -> None:
    """Both books rebuilt from the Python book's open orders list and trade alike."""
    saved = [
        Order(
            o.order_id,
            o.user_id,
            o.side.value if o.priority % 2 else o.side,  # restore() takes plain values too
            o.price_cents,
            o.quantity,
            o.remaining,
            o.priority,
            o.client_order_id,
        )
        for o in sorted(py_book.orders(), key=lambda order: order.priority)
    ]
    c_rebuilt, py_rebuilt = books(last_seq=py_book.seq)
    for order in saved:
        c_rebuilt.restore(order)
        py_rebuilt.restore(order)
    assert state(c_rebuilt) == state(py_rebuilt)
    for book in (c_rebuilt, py_rebuilt):
        book.place_market(10_000, 99, Side.BUY, MAX_QUANTITY, stp=SelfTradePrevention.NONE)
        book.place_market(10_001, 99, Side.SELL, MAX_QUANTITY, stp=SelfTradePrevention.NONE)
    assert typed(c_rebuilt.take_events()) == typed(py_rebuilt.take_events())
    assert state(c_rebuilt) == state(py_rebuilt)


def seeded_stream(count: int, seed: int) -> list[Command]:
    """A long stream like the benchmark's, with every feature mixed in and events taken in batches."""
    rng = random.Random(seed)
    stream: list[Command] = []
    for order_id in range(count):
        roll = rng.random()
        user_id = rng.randrange(30)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        quantity = rng.randint(1, MAX_QUANTITY)
        price = 10_000 + TICK * rng.randint(-25, 25)
        stp = rng.choice(list(SelfTradePrevention))
        client_order_id = f"c{rng.randrange(20)}" if rng.random() < 0.2 else None
        if roll < 0.55:
            tif = TimeInForce.IOC if rng.random() < 0.1 else TimeInForce.GTC
            stream.append(("limit", order_id, user_id, side, price, quantity, tif, stp, client_order_id))
        elif roll < 0.80:
            target = order_id - rng.randint(1, 400)
            owner = user_id if rng.random() < 0.1 else None
            stream.append(("cancel", target, owner if owner is not None else ("owner", target)))
        elif roll < 0.83:
            stream.append(("cancel_client", user_id, f"c{rng.randrange(20)}"))
        elif roll < 0.97:
            protection = price if rng.random() < 0.5 else None
            stream.append(("market", order_id, user_id, side, quantity, protection, stp, client_order_id))
        elif roll < 0.98:
            stream.append(("take_out", order_id - rng.randint(1, 400), CancelReason.ADMIN))
        else:
            stream.append(
                ("limit", rng.randint(0, order_id), user_id, side, price, rng.randint(-1, 25), tif, stp, None)
            )
        if order_id % 500 == 499:
            stream.append(("take",))
    return stream


def test_c_book_matches_the_python_book_on_a_long_seeded_stream() -> None:
    """50,000 commands; the state is compared at every batch of 500 and at the end."""
    stream = seeded_stream(50_000, seed=20_261_123)
    # cancels name the owner; the generator cannot know it, so ask the Python book as it goes
    c_book, py_book = books(finished_memory=2_000)
    for command in stream:
        if command[0] == "cancel" and isinstance(command[2], tuple):
            order = py_book.order(command[1])
            command = ("cancel", command[1], order.user_id if order is not None else 0)
        assert apply(c_book, command) == apply(py_book, command), command
        if command[0] == "take":
            assert state(c_book) == state(py_book)
    assert typed(c_book.take_events()) == typed(py_book.take_events())
    assert state(c_book) == state(py_book)
    assert len(py_book) > 100 and py_book.seq > 100_000


def test_events_are_the_python_event_classes() -> None:
    c_book, _ = books()
    c_book.place_limit(1, "a", Side.SELL, 10_000, 5)
    c_book.place_limit(2, "b", Side.BUY, 10_000, 2)
    events = c_book.take_events()
    assert isinstance(events[2], OrderAccepted) and isinstance(events[3], Trade)
    assert events[3]._asdict()["maker_order_id"] == 1 and events[3].price_cents == 10_000


def test_prices_beyond_the_c_range_are_rejected() -> None:
    """The one intended difference: an on-tick price above 2**62 - 1 (the Python book accepts it)."""
    c_book, _ = books()
    c_book.place_limit(1, "a", Side.BUY, (2**62 // TICK + 1) * TICK, 1)
    c_book.place_market(2, "a", Side.BUY, 1, protection_price_cents=2**64 // TICK * TICK)
    expected = f"is above the maximum of {2**62 - 1} cents"
    for event in c_book.take_events():
        assert event.code is RejectCode.INVALID_PRICE and expected in event.reason
    c_book.place_limit(3, "a", Side.BUY, (2**62 - 1) // TICK * TICK, 1)
    assert c_book.best_bid == (2**62 - 1) // TICK * TICK


def test_order_and_take_out_use_snapshots_and_ids() -> None:
    c_book, _ = books()
    c_book.place_limit(1, "a", Side.SELL, 10_000, 5)
    snapshot = c_book.order(1)
    c_book.place_market(2, "b", Side.BUY, 2)
    assert snapshot is not None and snapshot.remaining == 5  # a copy, not a live view
    assert c_book.order(1).remaining == 3
    c_book.take_out(snapshot, CancelReason.ADMIN)
    assert len(c_book) == 0
    with pytest.raises(KeyError):
        c_book.take_out(snapshot, CancelReason.ADMIN)  # no longer open: the book is unchanged
    with pytest.raises(TypeError):
        c_book.place_limit([1], "a", Side.SELL, 10_000, 5)  # unhashable id, like a dict key


def benchmark_like_stream(count: int) -> list[Command]:
    rng = random.Random(5)
    stream: list[Command] = []
    for order_id in range(count):
        roll = rng.random()
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        user_id = f"user-{rng.randrange(50)}"
        if roll < 0.6:
            price = 10_000 + TICK * rng.randint(-30, 30)
            stream.append(
                (
                    "limit",
                    order_id,
                    user_id,
                    side,
                    price,
                    rng.randint(1, MAX_QUANTITY),
                    TimeInForce.GTC,
                    SelfTradePrevention.DECREMENT,
                    f"c{order_id}" if order_id % 7 == 0 else None,
                )
            )
        elif roll < 0.85:
            stream.append(("cancel", order_id - rng.randint(1, 300), user_id))
        else:
            stream.append(
                (
                    "market",
                    order_id,
                    user_id,
                    side,
                    rng.randint(1, MAX_QUANTITY),
                    None,
                    SelfTradePrevention.CANCEL_OLDEST,
                    None,
                )
            )
    return stream


def run_c(stream: list[Command]) -> None:
    book = CBook("LEAK", tick_size_cents=TICK, max_quantity=MAX_QUANTITY, finished_memory=1_000)
    place_limit, place_market, cancel = book.place_limit, book.place_market, book.cancel
    for index, (kind, *args) in enumerate(stream):
        if kind == "limit":
            place_limit(*args)
        elif kind == "cancel":
            cancel(*args)
        else:
            place_market(*args)
        if index % 1_000 == 0:
            book.take_events()
    book.take_events()


def test_no_memory_grows_between_two_runs_of_100k_commands() -> None:
    stream = benchmark_like_stream(100_000)
    tracemalloc.start()
    try:
        run_c(stream)
        gc.collect()
        after_first = tracemalloc.get_traced_memory()[0]
        run_c(stream)
        gc.collect()
        after_second = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_second - after_first < 16_384


def test_references_are_released() -> None:
    user, other, order_id, client_id = (
        "user-" + str(id(object)),
        "other-x",
        "order-" + str(id(gc)),
        "client-q",
    )
    watched = (
        user,
        other,
        order_id,
        client_id,
        Side.BUY,
        Side.SELL,
        CancelReason.SELF_TRADE,
        RejectCode.ORDER_ALREADY_FILLED,
    )
    before = [sys.getrefcount(obj) for obj in watched]
    book = CBook("REF", tick_size_cents=TICK, max_quantity=MAX_QUANTITY, finished_memory=10)
    for round_ in range(300):
        book.place_limit(
            order_id if round_ == 0 else round_,
            user,
            Side.SELL,
            10_000,
            3,
            client_order_id=client_id if round_ == 1 else None,
        )
        book.place_limit(10_000 + round_, other, Side.BUY, 10_000, 2)
        book.place_market(20_000 + round_, user, Side.BUY, 2, stp=SelfTradePrevention.DECREMENT)
        book.cancel(order_id, other)
        book.cancel_by_client_order_id(user, client_id)
        book.take_events()
    list(book.orders())
    _ = (book.open_orders, book.by_client_order_id, book.bids, book.asks, book.depth())
    del book, _
    assert [sys.getrefcount(obj) for obj in watched] == before


def test_resting_orders_are_invisible_to_the_cyclic_gc() -> None:
    gc.collect()
    book = CBook("GC", tick_size_cents=1)
    tracked_before = len(gc.get_objects())
    for order_id in range(20_000):
        book.place_limit(order_id, order_id % 100, Side.BUY, 1_000 + order_id % 500, 1 + order_id % 9)
        book.take_events()
    gc.collect()
    assert len(book) == 20_000
    assert len(gc.get_objects()) - tracked_before < 50
    del book
    assert gc.collect() == 0


def selection(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "KYRIOS_PURE_ENGINE"} | env
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True, timeout=60
    )
    return result.stdout.strip()


def test_the_package_selects_the_c_book_unless_told_or_unable() -> None:
    report = "import kyrios.exchange.engine as e; print(e.OrderBook.__module__, e.C_ENGINE)"
    assert selection(report) == "kyrios.exchange.engine._cbook True"
    assert selection(report, KYRIOS_PURE_ENGINE="1") == "kyrios.exchange.engine.book False"
    without_extension = (
        "import sys; sys.modules['kyrios.exchange.engine._cbook'] = None\n"  # as if the .so were missing
        "import kyrios.exchange.engine as e\n"
        "book = e.OrderBook('X'); book.place_limit(1, 'a', e.Side.BUY, 100, 1)\n"
        "print(e.OrderBook.__module__, e.C_ENGINE, len(book.take_events()))"
    )
    assert selection(without_extension) == "kyrios.exchange.engine.book False 2"
