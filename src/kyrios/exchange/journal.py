"""Applying a batch of book events to the database in one transaction (the sequencer's group commit).

Invariants:
- every trade moves cash and positions of both sides in the same transaction as its execution row
  and the order states, so a crash leaves either all of a batch or none of it;
- a batch changes each user's cash row at most once, by its net change (reservations, fills,
  releases), after locking all the rows it changes in one statement in ascending user id, the one
  global order every cash-changing transaction follows; so sequencers of different symbols sharing
  users never deadlock. It goes last, so the locks are held for the shortest time;
- the free cash the batch's reservations counted on is still there when the rows are locked
  (else `CashMoved`: another transaction spent it meanwhile, and the batch is retried);
- per order, filled + canceled + remaining == quantity; a buy's `reserved_cents` is
  price × remaining, and what a fill or cancel no longer needs goes back to free cash;
- a seller's position `reserved_quantity` drops with every fill or cancel of its sells;
- cash + reserved of a user changes only with a ledger row (trades here, deposits in `accounts`);
- the symbol's candles take the batch's trades in the same transaction (`candles`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import Message
from kyrios.exchange import candles
from kyrios.exchange.bulk import Bulk
from kyrios.exchange.engine import (
    BookLevelChanged,
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderReduced,
    OrderRejected,
    Side,
    Trade,
)
from kyrios.exchange.ids import RowIds
from kyrios.exchange.live import LiveOrder
from kyrios.exchange.models import (
    CashReason,
    ExchangeAsset,
    ExchangePosition,
    OrderStatus,
)
from kyrios.exchange.settlement import PositionState, apply_fill

log = logging.getLogger(__name__)

POSITIONS = cast(Table, ExchangePosition.__table__)
ASSETS = cast(Table, ExchangeAsset.__table__)
LOCK_CASH = "SELECT user_id, cash_cents FROM exchange_cash WHERE user_id IN ({in}) ORDER BY user_id{lock}"
MOVE_CASH = (
    "UPDATE exchange_cash SET cash_cents = cash_cents + ?, reserved_cents = reserved_cents + ?"
    " WHERE user_id = ?"
)
UPDATE_ORDER = (
    "UPDATE exchange_order SET filled_quantity = ?, canceled_quantity = ?, remaining_quantity = ?,"
    " status = ?, priority = ?, reserved_cents = ?, reject_reason = ?, updated_at = ? WHERE id = ?"
)
UPDATE_SEQ = "UPDATE exchange_asset SET engine_seq = ? WHERE symbol = ?"
UPDATE_SEQ_AND_PRICE = "UPDATE exchange_asset SET engine_seq = ?, last_price_cents = ? WHERE symbol = ?"
# No lock: only this symbol's sequencer writes its positions (and a locking read of a missing
# row would take a gap lock on MariaDB that other symbols' position inserts must wait for).
SELECT_POSITIONS = (
    "SELECT user_id, quantity, cost_basis_cents, realized_pnl_cents FROM exchange_position"
    " WHERE symbol = ? AND user_id IN ({in})"
)
UPDATE_POSITION = (
    "UPDATE exchange_position SET quantity = ?, cost_basis_cents = ?, average_price_cents = ?,"
    " realized_pnl_cents = ?, reserved_quantity = reserved_quantity + ? WHERE user_id = ? AND symbol = ?"
)
INSERT_POSITION = (
    "INSERT INTO exchange_position (user_id, symbol, quantity, cost_basis_cents, average_price_cents,"
    " realized_pnl_cents, reserved_quantity) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_ORDER = (
    "INSERT INTO exchange_order (id, uuid, client_order_id, user_id, symbol, side, type, price_cents,"
    " quantity, filled_quantity, canceled_quantity, remaining_quantity, status, reject_reason, stp,"
    " priority, reserved_cents, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_EXECUTION = (
    "INSERT INTO exchange_execution (id, symbol, seq, maker_order_id, taker_order_id, maker_user_id,"
    " taker_user_id, taker_side, price_cents, quantity, executed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_LEDGER = (
    "INSERT INTO exchange_cash_ledger (user_id, delta_cents, reason, execution_id, detail, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
BUY = Side.BUY


class CashMoved(Exception):
    """Another transaction spent free cash that this batch's reservations counted on; retry the batch."""

    def __init__(self, user_id: int, free_cents: int, needed_cents: int) -> None:
        super().__init__(f"user {user_id} has {free_cents} cents free; the batch reserved {needed_cents}")


class Batch:
    """The effects of one batch of book events, gathered in memory, then written by `persist`."""

    def __init__(self, symbol: str, live: dict[int, LiveOrder], now: datetime) -> None:
        self.symbol = symbol
        self.live = live
        self.now = now
        self.dirty: dict[int, LiveOrder] = {}
        self.new: list[LiveOrder] = []
        """Orders accepted in this batch: inserted once, in their state after the batch."""
        self.trades: list[Trade] = []
        self.execution_ids: dict[int, int] = {}
        """The execution id persisted for each trade, by the trade's book seq (for the trade frames)."""
        self.cash: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
        """Net change of (free, reserved) cash per user."""
        self.need: dict[int, int] = {}
        """Free cash per user that the batch's reservations counted on."""
        self.units: defaultdict[int, int] = defaultdict(int)
        """Net change of each user's reserved quantity of the position."""
        self.fills: list[tuple[int, Side, int, int]] = []
        self.market: list[Trade | BookLevelChanged] = []
        """Trades and depth changes in book order, for publishing."""
        self.last_price: int | None = None
        self.seq: int | None = None

    def reserve(self, cash: dict[int, int], units: dict[int, int]) -> None:
        """Add the reservations of the batch's accepted orders (`intake.Reservations`)."""
        for user_id, cents in cash.items():
            account = self.cash[user_id]
            account[0] -= cents
            account[1] += cents
            self.need[user_id] = self.need.get(user_id, 0) + cents
        for user_id, quantity in units.items():
            self.units[user_id] += quantity

    def apply(self, event: Event) -> None:
        """Fold one book event into the batch."""
        self.seq = event.seq
        if isinstance(event, Trade):
            self._trade(event)
        elif isinstance(event, BookLevelChanged):
            self.market.append(event)
        elif isinstance(event, OrderAccepted):
            order = self.live[int(event.order_id)]
            order.priority = event.seq
            self.dirty[order.id] = order
        elif isinstance(event, OrderCanceled):
            self._take_off(self.live[int(event.order_id)], event.remaining, finished=True)
        elif isinstance(event, OrderReduced):
            self._take_off(self.live[int(event.order_id)], event.reduced_by, finished=False)
        elif isinstance(event, OrderRejected):  # intake checks the same: the book should never need to
            log.warning("%s: the book rejected order %s: %s", self.symbol, event.order_id, event.reason)
            order = self.live[int(event.order_id)]
            order.reject_reason = event.code.value  # a code, not English words (see models)
            self._take_off(order, order.remaining, finished=True)
            order.status = OrderStatus.REJECTED
        elif isinstance(event, CancelRejected):
            pass  # nothing changes; the sequencer answers the request

    def _trade(self, trade: Trade) -> None:
        maker = self.live[int(trade.maker_order_id)]
        taker = self.live[int(trade.taker_order_id)]
        quantity, price = trade.quantity, trade.price_cents
        for order in (maker, taker):
            order.filled += quantity
            order.remaining -= quantity
            order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
            self.dirty[order.id] = order
        buyer, seller = (taker, maker) if trade.taker_side is BUY else (maker, taker)
        held = buyer.price_cents * quantity
        buyer.reserved_cents -= held
        buyer_cash = self.cash[buyer.user_id]
        buyer_cash[0] += held - price * quantity
        buyer_cash[1] -= held
        self.cash[seller.user_id][0] += price * quantity
        self.units[seller.user_id] -= quantity
        self.fills.append((buyer.user_id, Side.BUY, quantity, price))
        self.fills.append((seller.user_id, Side.SELL, quantity, price))
        self.trades.append(trade)
        self.market.append(trade)
        self.last_price = price

    def _take_off(self, order: LiveOrder, quantity: int, *, finished: bool) -> None:
        """Cancel `quantity` of the order's open remainder and release what it held."""
        order.canceled += quantity
        order.remaining -= quantity
        if order.side is BUY:
            release = order.price_cents * quantity
            order.reserved_cents -= release
            account = self.cash[order.user_id]
            account[0] += release
            account[1] -= release
        else:
            self.units[order.user_id] -= quantity
        if finished:
            order.status = OrderStatus.CANCELED
        self.dirty[order.id] = order

    async def persist(self, session: AsyncSession, engine_seq: int, ids: RowIds) -> None:
        """Write the whole batch: positions, orders, executions, ledger, last price and seq, then cash.

        The batch's new orders are inserted as they stand after it; older orders it changed
        are updated. Cash goes last: its rows are the only ones other symbols' batches share.
        """
        bulk = await Bulk.of(session)
        stamp = bulk.stamp(self.now)
        await self._write_positions(bulk)
        symbol = self.symbol
        await bulk.many(INSERT_ORDER, [order.row(symbol, stamp) for order in self.new])
        inserted = {order.id for order in self.new}
        orders = [
            (
                o.filled,
                o.canceled,
                o.remaining,
                o.status.value,
                o.priority,
                o.reserved_cents,
                o.reject_reason,
                stamp,
                o.id,
            )
            for o in self.dirty.values()
            if o.id not in inserted
        ]
        await bulk.many(UPDATE_ORDER, orders)
        if self.trades:
            await self._write_executions(bulk, ids, stamp)
        if self.last_price is None:
            await bulk.many(UPDATE_SEQ, [(engine_seq, self.symbol)])
        else:
            await bulk.many(UPDATE_SEQ_AND_PRICE, [(engine_seq, self.last_price, self.symbol)])
        await self._write_cash(bulk)

    async def _write_cash(self, bulk: Bulk) -> None:
        """Lock every changed cash row in one ordered step, check the reservations, apply the net changes."""
        moves = sorted((uid, free, held) for uid, (free, held) in self.cash.items() if free or held)
        if not moves:
            return
        locked = await bulk.fetch(LOCK_CASH, [uid for uid, _, _ in moves])
        free_now = {int(uid): int(free) for uid, free in locked}
        for user_id, needed in self.need.items():
            free = free_now.get(user_id)
            if free is not None and free < needed:
                raise CashMoved(user_id, free, needed)
        await bulk.many(MOVE_CASH, [(free, held, uid) for uid, free, held in moves])

    async def _write_positions(self, bulk: Bulk) -> None:
        users = sorted({fill[0] for fill in self.fills} | set(self.units))
        if not users:
            return
        rows = await bulk.fetch(SELECT_POSITIONS, (self.symbol, *users))
        states = {int(uid): PositionState(int(q), int(cost), int(pnl)) for uid, q, cost, pnl in rows}
        known = set(states)
        for user_id, side, quantity, price in self.fills:
            states[user_id] = apply_fill(states.get(user_id) or PositionState(), side, quantity, price)
        changed: list[tuple[Any, ...]] = []
        new: list[tuple[Any, ...]] = []
        for uid in users:
            state = states.get(uid) or PositionState()
            figures = (
                state.quantity,
                state.cost_basis_cents,
                state.average_price_cents,
                state.realized_pnl_cents,
            )
            reserved = self.units.get(uid, 0)
            if uid in known:
                changed.append((*figures, reserved, uid, self.symbol))
            else:
                new.append((uid, self.symbol, *figures, reserved))
        await bulk.many(UPDATE_POSITION, changed)
        await bulk.many(INSERT_POSITION, new)

    async def _write_executions(self, bulk: Bulk, ids: RowIds, stamp: Any) -> None:
        symbol = self.symbol
        executions: list[tuple[Any, ...]] = []
        ledger: list[tuple[Any, ...]] = []
        buy, sell = CashReason.BUY.value, CashReason.SELL.value
        for t, execution_id in zip(self.trades, ids.executions(len(self.trades)), strict=True):
            self.execution_ids[t.seq] = execution_id
            executions.append(
                (
                    execution_id,
                    symbol,
                    t.seq,
                    t.maker_order_id,
                    t.taker_order_id,
                    t.maker_user_id,
                    t.taker_user_id,
                    t.taker_side.value,
                    t.price_cents,
                    t.quantity,
                    stamp,
                )
            )
            amount = t.price_cents * t.quantity
            buyer, seller = (
                (t.taker_user_id, t.maker_user_id)
                if t.taker_side is BUY
                else (t.maker_user_id, t.taker_user_id)
            )
            detail = f"{symbol} {t.quantity} @ {t.price_cents}"
            ledger.append((buyer, -amount, buy, execution_id, detail, stamp))
            ledger.append((seller, amount, sell, execution_id, detail, stamp))
        await bulk.many(INSERT_EXECUTION, executions)
        await bulk.many(INSERT_LEDGER, ledger)
        await candles.add_trades(bulk, symbol, self.now, [(t.price_cents, t.quantity) for t in self.trades])

    def messages(self) -> Iterator[tuple[str, Message]]:
        """What to publish once the batch is committed: trades, depth deltas, users' order updates."""
        symbol = self.symbol
        millis = int(self.now.timestamp() * 1000)
        for event in self.market:  # in seq order, so a client can check continuity
            if isinstance(event, Trade):
                yield (
                    f"trades:{symbol}",
                    {
                        "type": "trade",
                        "symbol": symbol,
                        "id": self.execution_ids[event.seq],
                        "seq": event.seq,
                        "price_cents": event.price_cents,
                        "quantity": event.quantity,
                        "taker_side": event.taker_side.value,
                        "ts": millis,
                    },
                )
            else:
                yield (
                    f"book:{symbol}",
                    {
                        "type": "delta",
                        "symbol": symbol,
                        "seq": event.seq,
                        "side": event.side.value,
                        "price_cents": event.price_cents,
                        "quantity": event.quantity,
                    },
                )
        for order in self.dirty.values():
            yield (
                f"orders:{order.user_id}",
                {
                    "type": "order",
                    "symbol": symbol,
                    "id": order.id,
                    "status": order.status.value,
                    "filled_quantity": order.filled,
                    "remaining_quantity": order.remaining,
                },
            )
