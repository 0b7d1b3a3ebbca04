"""The hot loop: an incoming order trades against the opposite side at the makers' prices.

Event order within one level: trades (and self-trade prevention events) in queue order, then one
`BookLevelChanged` for the level if its quantity changed. Levels are visited best price first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyrios.exchange.engine.enums import CancelReason, RejectCode, SelfTradePrevention, Side
from kyrios.exchange.engine.events import BookLevelChanged, OrderCanceled, OrderReduced, Trade

if TYPE_CHECKING:
    from kyrios.exchange.engine.book import OrderBook
    from kyrios.exchange.engine.levels import BookSide, PriceLevel
    from kyrios.exchange.engine.orders import Order, OrderId, UserId

NO_PREVENTION = SelfTradePrevention.NONE
CANCEL_NEWEST = SelfTradePrevention.CANCEL_NEWEST
CANCEL_OLDEST = SelfTradePrevention.CANCEL_OLDEST
CANCEL_BOTH = SelfTradePrevention.CANCEL_BOTH
DECREMENT = SelfTradePrevention.DECREMENT
SELF_TRADE = CancelReason.SELF_TRADE
FILLED = RejectCode.ORDER_ALREADY_FILLED
CANCELED = RejectCode.ORDER_ALREADY_CANCELED
new_event = tuple.__new__
"""`new_event(Trade, (...))` builds an event without a Python-level `__new__` call."""


def match(
    book: OrderBook,
    opposite: BookSide,
    taker_id: OrderId,
    taker_user_id: UserId,
    taker_side: Side,
    remaining: int,
    limit_key: int,
    stp: SelfTradePrevention,
) -> int:
    """Trade an incoming order while the best opposite key is >= `limit_key`; return what is left.

    The taker is passed as plain values: no `Order` object is made unless it comes to rest.
    0 means the taker is finished (filled, or canceled by self-trade prevention) and recorded as
    such; a positive result is for the caller to rest or cancel.
    """
    keys = opposite.keys
    levels = opposite.levels
    append = book.events.append
    open_orders = book.open_orders
    by_client_order_id = book.by_client_order_id
    finished = book.finished
    seq = book.seq
    prevent_self_trades = stp is not NO_PREVENTION
    while keys:
        key = keys[-1]
        if key < limit_key:
            break
        level = levels[key]
        price = level.price_cents
        orders = level.orders
        quantity_before = level.quantity
        while True:
            maker = orders[0]
            maker_remaining = maker.remaining
            if not maker_remaining:  # canceled earlier, left in place
                orders.popleft()
                level.dead -= 1
                continue
            if prevent_self_trades and maker.user_id == taker_user_id:
                book.seq = seq
                remaining = prevent_self_trade(book, level, maker, taker_id, taker_user_id, remaining, stp)
                seq = book.seq
                if not remaining or not level.quantity:
                    break
                continue
            if maker_remaining <= remaining:
                quantity = maker_remaining
                orders.popleft()
                maker.remaining = 0
                del open_orders[maker.order_id]
                if maker.client_order_id is not None:
                    del by_client_order_id[maker.user_id, maker.client_order_id]
                finished[maker.order_id] = FILLED
            else:
                quantity = remaining
                maker.remaining = maker_remaining - remaining
            remaining -= quantity
            level.quantity -= quantity
            seq += 1
            trade = (seq, maker.order_id, taker_id, maker.user_id, taker_user_id, taker_side, price, quantity)
            append(new_event(Trade, trade))
            if not remaining:
                finished[taker_id] = FILLED
                break
            if not level.quantity:
                break
        if level.quantity != quantity_before:
            seq += 1
            append(new_event(BookLevelChanged, (seq, opposite.side, price, level.quantity)))
        if not level.quantity:
            keys.pop()
            del levels[key]
        if not remaining:
            break
    book.seq = seq
    return remaining


def prevent_self_trade(
    book: OrderBook,
    level: PriceLevel,
    maker: Order,
    taker_id: OrderId,
    taker_user_id: UserId,
    taker_remaining: int,
    stp: SelfTradePrevention,
) -> int:
    """Apply the taker's STP mode to a maker of the same user at the head of `level`.

    Returns the taker's new remaining quantity; 0 means the taker was canceled. Updates
    `book.seq`, the level and the maker. `stp` is a member (the book checked it); anything else
    raises rather than being taken for some mode.
    """
    if stp is CANCEL_NEWEST:
        _cancel_taker(book, taker_id, taker_user_id, taker_remaining)
        return 0
    maker_remaining = maker.remaining
    if stp is DECREMENT:
        overlap = min(maker_remaining, taker_remaining)
        _reduce_maker(book, level, maker, overlap)
        taker_remaining -= overlap
        if not taker_remaining:
            _cancel_taker(book, taker_id, taker_user_id, overlap)
            return 0
        book.seq = seq = book.seq + 1
        book.events.append(OrderReduced(seq, taker_id, taker_user_id, overlap, taker_remaining))
        return taker_remaining
    if stp is CANCEL_OLDEST:
        _reduce_maker(book, level, maker, maker_remaining)
        return taker_remaining
    if stp is CANCEL_BOTH:
        _reduce_maker(book, level, maker, maker_remaining)
        _cancel_taker(book, taker_id, taker_user_id, taker_remaining)
        return 0
    raise ValueError(f"no self-trade prevention {stp!r}")  # unreachable: the book checked stp


def _reduce_maker(book: OrderBook, level: PriceLevel, maker: Order, by: int) -> None:
    """Take `by` off the maker at the head of `level`; at zero it is canceled and leaves the queue."""
    maker.remaining -= by
    level.quantity -= by
    book.seq = seq = book.seq + 1
    if maker.remaining:
        book.events.append(OrderReduced(seq, maker.order_id, maker.user_id, by, maker.remaining))
        return
    level.orders.popleft()
    del book.open_orders[maker.order_id]
    if maker.client_order_id is not None:
        del book.by_client_order_id[maker.user_id, maker.client_order_id]
    book.finished[maker.order_id] = CANCELED
    book.events.append(OrderCanceled(seq, maker.order_id, maker.user_id, SELF_TRADE, by))


def _cancel_taker(book: OrderBook, taker_id: OrderId, taker_user_id: UserId, canceled: int) -> None:
    book.seq = seq = book.seq + 1
    book.events.append(OrderCanceled(seq, taker_id, taker_user_id, SELF_TRADE, canceled))
    book.finished[taker_id] = CANCELED
