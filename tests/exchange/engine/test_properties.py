"""Differential property tests: the engine against the list-based reference book.

On random streams of limits, markets, cancels (by id and client order id) and every STP mode
(or none: the book's default), with sides, times in force and STP modes given as enum members or
as their plain values, the engine must emit the same non-level events as the reference (carrying
the members), leave the same resting book, and keep its invariants after every command.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import get_args, get_type_hints

from hypothesis import HealthCheck, given, settings
from hypothesis import event as label_example
from hypothesis import strategies as st

from kyrios.exchange.engine import (
    BookLevelChanged,
    CancelRejected,
    Event,
    Order,
    OrderAccepted,
    OrderBook,
    OrderCanceled,
    OrderReduced,
    OrderRejected,
    SelfTradePrevention,
    SelfTradePreventionLike,
    Side,
    SideLike,
    TimeInForce,
    TimeInForceLike,
    Trade,
)
from tests.exchange.engine.reference import ReferenceBook, RefEvent

TICK = 5
MAX_QUANTITY = 12
USERS = 3
CLIENT_IDS = (None, None, "a", "b")


@dataclass(frozen=True)
class Place:
    """A limit (price given, market False) or market order."""

    new_id: bool
    reused_id: int
    user_id: int
    side: Side
    quantity: int
    price_cents: int | None
    market: bool
    time_in_force: TimeInForce
    stp: SelfTradePrevention | None
    """None: the book's default."""
    client_order_id: str | None
    plain_values: bool
    """Give the book the side, time in force and STP mode as plain strings ("buy")."""


@dataclass(frozen=True)
class Cancel:
    """Cancel by order id (client_order_id None) or by client order id."""

    order_id: int
    user_id: int
    client_order_id: str | None


ON_TICK_PRICES = [10_000 + steps * TICK for steps in range(-2, 7)]
OFF_TICK_PRICES = [0, -TICK, 10_001, 10_013]
VALID_QUANTITIES = list(range(1, MAX_QUANTITY + 1))
INVALID_QUANTITIES = [-1, 0, MAX_QUANTITY + 1]

prices = st.sampled_from(ON_TICK_PRICES * 6 + OFF_TICK_PRICES)
places = st.builds(
    Place,
    new_id=st.sampled_from([True] * 9 + [False]),  # one in ten reuses an id
    reused_id=st.integers(0, 80),
    user_id=st.sampled_from(range(USERS)),
    side=st.sampled_from(Side),
    quantity=st.sampled_from(VALID_QUANTITIES * 5 + INVALID_QUANTITIES),
    price_cents=prices,
    market=st.sampled_from([True, False, False, False]),
    time_in_force=st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC]),
    stp=st.sampled_from([*SelfTradePrevention, None]),
    client_order_id=st.sampled_from(CLIENT_IDS),
    plain_values=st.booleans(),
).map(lambda p: replace(p, price_cents=_protection(p)) if p.market else p)
cancels = st.builds(
    Cancel,
    order_id=st.integers(0, 80),
    user_id=st.sampled_from(range(USERS)),
    client_order_id=st.sampled_from(CLIENT_IDS),
)
commands = st.lists(st.one_of(places, places, places, cancels), min_size=10, max_size=80)


def _protection(place: Place) -> int | None:
    """Half of the market orders carry a protection price."""
    return place.price_cents if place.quantity % 2 else None


def as_reference_event(event: Event) -> RefEvent | None:
    """The engine event in the reference's shape (no seq); None for level changes."""
    match event:
        case OrderAccepted(_, order_id, user_id, side, order_type, price, quantity):
            return ("accepted", order_id, user_id, side, order_type.value, price, quantity)
        case OrderRejected(_, order_id, user_id, code, _):
            return ("rejected", order_id, user_id, code)
        case Trade(_, maker_id, taker_id, maker_user, taker_user, side, price, quantity):
            return ("trade", maker_id, taker_id, maker_user, taker_user, side, price, quantity)
        case OrderCanceled(_, order_id, user_id, reason, remaining):
            return ("canceled", order_id, user_id, reason, remaining)
        case OrderReduced(_, order_id, user_id, reduced_by, remaining):
            return ("reduced", order_id, user_id, reduced_by, remaining)
        case CancelRejected(_, order_id, user_id, code, _):
            return ("cancel_rejected", order_id, user_id, code)
    return None


ENUM_FIELDS: dict[type, list[tuple[str, type[Enum]]]] = {
    event_class: [
        (name, kind)
        for name, kind in get_type_hints(event_class).items()
        if isinstance(kind, type) and issubclass(kind, Enum)
    ]
    for event_class in get_args(Event)
}
"""The fields of each event class that must hold enum members (never plain strings)."""


def check_invariants(book: OrderBook) -> None:
    """Levels add up, keys are sorted and complete, the book is not crossed, indexes agree."""
    open_ids = set()
    for book_side in (book.bids, book.asks):
        assert book_side.keys == sorted(book_side.levels)
        for key, level in book_side.levels.items():
            live = [order for order in level.orders if order.remaining]
            assert level.quantity == sum(order.remaining for order in live) > 0
            assert level.dead == len(level.orders) - len(live)
            assert level.key == key == level.price_cents * book_side.sign
            assert [order.priority for order in live] == sorted(order.priority for order in live)
            for order in live:
                assert 0 < order.remaining <= order.quantity
                assert order.side is book_side.side and order.price_cents == level.price_cents
                open_ids.add(order.order_id)
    assert open_ids == set(book.open_orders)
    assert {(o.user_id, o.client_order_id) for o in book.open_orders.values() if o.client_order_id} == set(
        book.by_client_order_id
    )
    if book.best_bid is not None and book.best_ask is not None:
        assert book.best_bid < book.best_ask


def run(
    book: OrderBook,
    reference: ReferenceBook,
    command: Place | Cancel,
    next_id: int,
    default_stp: SelfTradePrevention,
) -> list[RefEvent]:
    """Apply one command to both books; return the reference's events."""
    if isinstance(command, Cancel):
        if command.client_order_id is None:
            book.cancel(command.order_id, command.user_id)
            return reference.cancel(command.order_id, command.user_id)
        book.cancel_by_client_order_id(command.user_id, command.client_order_id)
        return reference.cancel_by_client_order_id(command.user_id, command.client_order_id)
    order_id = next_id if command.new_id else command.reused_id
    client_order_id = command.client_order_id
    side: SideLike = command.side
    time_in_force: TimeInForceLike = command.time_in_force
    stp: SelfTradePreventionLike | None = command.stp
    if command.plain_values:
        side, time_in_force = command.side.value, command.time_in_force.value
        stp = command.stp and command.stp.value
    if command.market:
        book.place_market(
            order_id,
            command.user_id,
            side,
            command.quantity,
            protection_price_cents=command.price_cents,
            stp=stp,
            client_order_id=client_order_id,
        )
    else:
        assert command.price_cents is not None
        book.place_limit(
            order_id,
            command.user_id,
            side,
            command.price_cents,
            command.quantity,
            time_in_force=time_in_force,
            stp=stp,
            client_order_id=client_order_id,
        )
    return reference.place(
        order_id,
        command.user_id,
        command.side,
        command.quantity,
        command.price_cents,
        market=command.market,
        time_in_force=command.time_in_force,
        stp=command.stp or default_stp,
        client_order_id=client_order_id,
    )


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands, st.sampled_from(SelfTradePrevention))
def test_engine_matches_the_reference_model(
    stream: list[Place | Cancel], default_stp: SelfTradePrevention
) -> None:
    """Same events, same book, invariants after every command."""
    book = OrderBook("TEST", tick_size_cents=TICK, max_quantity=MAX_QUANTITY, default_stp=default_stp)
    reference = ReferenceBook(TICK, MAX_QUANTITY)
    mirror: dict[tuple[Side, int], int] = {}
    filled: dict[object, int] = {}
    quantities: dict[object, int] = {}
    last_seq = 0
    for index, command in enumerate(stream):
        expected = run(book, reference, command, index, default_stp)
        events = book.take_events()
        assert [e for e in map(as_reference_event, events) if e is not None] == expected
        for kind in {e[0] for e in expected}:
            label_example(str(kind))
        for event in events:
            assert event.seq == last_seq + 1
            last_seq = event.seq
            for name, kind in ENUM_FIELDS[type(event)]:
                assert type(getattr(event, name)) is kind, (name, event)
            if isinstance(event, BookLevelChanged):
                mirror[event.side, event.price_cents] = event.quantity
            elif isinstance(event, OrderAccepted):
                quantities[event.order_id] = event.quantity
            elif isinstance(event, Trade):
                for order_id in (event.maker_order_id, event.taker_order_id):
                    filled[order_id] = filled.get(order_id, 0) + event.quantity
                    assert filled[order_id] <= quantities[order_id]
        check_invariants(book)
        for side in Side:
            assert {p: q for (s, p), q in mirror.items() if s is side and q} == reference.depth(side)
        resting = [(o.order_id, o.user_id, o.side, o.price_cents, o.remaining) for o in book.orders()]
        assert resting == reference.priority_order()
    assert_restores_identically(book)


def assert_restores_identically(book: OrderBook) -> None:
    """A book rebuilt from its open orders (as persistence would) lists and trades the same."""
    rebuilt = OrderBook("TEST", tick_size_cents=TICK, max_quantity=MAX_QUANTITY, last_seq=book.seq)
    for order in sorted(book.orders(), key=lambda order: order.priority):
        rebuilt.restore(
            Order(
                order.order_id,
                order.user_id,
                order.side,
                order.price_cents,
                order.quantity,
                order.remaining,
                order.priority,
                order.client_order_id,
            )
        )
    assert list(rebuilt.orders()) == list(book.orders())
    assert rebuilt.depth(1_000) == book.depth(1_000)
    for twin in (book, rebuilt):
        twin.take_events()
        twin.place_market(10_000, 99, Side.BUY, MAX_QUANTITY, stp=SelfTradePrevention.NONE)
        twin.place_market(10_001, 99, Side.SELL, MAX_QUANTITY, stp=SelfTradePrevention.NONE)
    assert rebuilt.take_events() == book.take_events()
