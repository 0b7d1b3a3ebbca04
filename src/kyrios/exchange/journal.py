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
- a short sell's `reserved_cents` (its initial margin) goes with its units: a fill moves its
  share to the position's `margin_cents`, a cancel releases it to free cash (shares rounded down,
  the last unit takes the rest, so nothing is lost or made);
- a position's margin goes back to free cash in the share of each unit a buy covers, and all of
  it once the position can no longer go short (quantity ≥ its open sells); a covering market
  buy's unspent margin returns to the position. Each user's `reserved_cents` == its live orders'
  `reserved_cents` + its positions' `margin_cents`;
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
from kyrios.exchange import candles, margin
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
from kyrios.exchange.engine.risk import MarginState, proportional_share
from kyrios.exchange.ids import RowIds
from kyrios.exchange.live import LiveOrder
from kyrios.exchange.margin import SET_RESTRICTED
from kyrios.exchange.models import (
    CashReason,
    ExchangeAsset,
    ExchangePosition,
    OrderStatus,
)
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.settlement import PositionState, apply_fill

log = logging.getLogger(__name__)

POSITIONS = cast(Table, ExchangePosition.__table__)
ASSETS = cast(Table, ExchangeAsset.__table__)
LOCK_CASH = (
    "SELECT user_id, cash_cents, reserved_cents, margin_restricted FROM exchange_cash"
    " WHERE user_id IN ({in}) ORDER BY user_id{lock}"
)
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
    "SELECT user_id, quantity, cost_basis_cents, realized_pnl_cents, reserved_quantity, margin_cents"
    " FROM exchange_position WHERE symbol = ? AND user_id IN ({in})"
)
UPDATE_POSITION = (
    "UPDATE exchange_position SET quantity = ?, cost_basis_cents = ?, average_price_cents = ?,"
    " realized_pnl_cents = ?, reserved_quantity = reserved_quantity + ?, margin_cents = ?"
    " WHERE user_id = ? AND symbol = ?"
)
INSERT_POSITION = (
    "INSERT INTO exchange_position (user_id, symbol, quantity, cost_basis_cents, average_price_cents,"
    " realized_pnl_cents, reserved_quantity, margin_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
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

    def __init__(
        self,
        symbol: str,
        live: dict[int, LiveOrder],
        now: datetime,
        rules: ExchangeRules | None = None,
        shorts: set[int] | None = None,
    ) -> None:
        self.symbol = symbol
        self.rules = rules or ExchangeRules()
        self.shorts: set[int] = set() if shorts is None else shorts
        """The users short in this symbol: kept current as positions are written (the sequencer's set)."""
        self.watch: set[int] = set()
        """Users whose margin the batch grades (besides its traders who are or were short)."""
        self.graded: dict[int, bool] = {}
        """Intake's new grading of flagged users (restricted or not)."""
        self.margin_taken: defaultdict[int, int] = defaultdict(int)
        """Margin covering market buys took from each user's position (intake)."""
        self.margin_back: defaultdict[int, int] = defaultdict(int)
        """Of that, what they did not spend and give back to the position."""
        self.margin_states: dict[int, MarginState] = {}
        """The margin state of each user the batch graded."""
        self.crossings: list[tuple[int, MarginState]] = []
        """Users whose restriction flag the batch flipped, with their new state."""
        self.mark: int | None = None
        """The symbol's last price before the batch (None: unknown, so any trade is a new mark)."""
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
        self.fills: list[tuple[int, Side, int, int, int]] = []
        """(user, side, quantity, price, short margin the fill moves to the position)."""
        self.market: list[Trade | BookLevelChanged] = []
        """Trades and depth changes in book order, for publishing."""
        self.last_price: int | None = None
        self.seq: int | None = None

    def reserve(
        self,
        cash: dict[int, int],
        units: dict[int, int],
        margin: dict[int, int] | None = None,
        graded: dict[int, bool] | None = None,
    ) -> None:
        """Add the reservations of the batch's accepted orders (`intake.Reservations`)."""
        for user_id, cents in (margin or {}).items():
            self.margin_taken[user_id] += cents
        self.graded.update(graded or {})
        self.watch.update(graded or {})
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
        buyer, seller = (taker, maker) if trade.taker_side is BUY else (maker, taker)
        moved = 0
        if seller.reserved_cents:  # a short sell's initial margin goes with its filled units
            moved = proportional_share(seller.reserved_cents, quantity, seller.remaining)
            seller.reserved_cents -= moved
        for order in (maker, taker):
            order.filled += quantity
            order.remaining -= quantity
            order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
            self.dirty[order.id] = order
        held = buyer.price_cents * quantity
        buyer.reserved_cents -= held
        if buyer.margin_cents:  # a covering buy spends what it took from the margin first
            buyer.margin_cents -= min(buyer.margin_cents, held)
        buyer_cash = self.cash[buyer.user_id]
        buyer_cash[0] += held - price * quantity
        buyer_cash[1] -= held
        self.cash[seller.user_id][0] += price * quantity
        self.units[seller.user_id] -= quantity
        self.fills.append((buyer.user_id, Side.BUY, quantity, price, 0))
        self.fills.append((seller.user_id, Side.SELL, quantity, price, moved))
        self.trades.append(trade)
        self.market.append(trade)
        self.last_price = price

    def _take_off(self, order: LiveOrder, quantity: int, *, finished: bool) -> None:
        """Cancel `quantity` of the order's open remainder and release what it held."""
        account = self.cash[order.user_id]
        if order.side is BUY:
            release = order.price_cents * quantity
            order.reserved_cents -= release
            back = min(order.margin_cents, release)  # unspent margin goes back to the short, not free
            if back:
                order.margin_cents -= back
                self.margin_back[order.user_id] += back
            account[0] += release - back
            account[1] -= release - back
        else:
            self.units[order.user_id] -= quantity
            if order.reserved_cents:
                release = proportional_share(order.reserved_cents, quantity, order.remaining)
                order.reserved_cents -= release
                account[0] += release
                account[1] -= release
        order.canceled += quantity
        order.remaining -= quantity
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
        """Lock every changed or graded cash row in one ordered step, check the reservations, apply
        the net changes, then grade the margins (`margin`) and flip the restriction flags."""
        moves = sorted((uid, free, held) for uid, (free, held) in self.cash.items() if free or held)
        watch = set(self.watch)
        if self.last_price is not None and self.last_price != self.mark:
            watch |= self.shorts  # the shorts of this symbol were marked to a new price
        watch |= {fill[0] for fill in self.fills if fill[0] in self.shorts}
        if not moves and not watch:
            return
        locked = await bulk.fetch(LOCK_CASH, sorted({uid for uid, _, _ in moves} | watch))
        free_now = {int(uid): int(free) for uid, free, _, _ in locked}
        for user_id, needed in self.need.items():
            free = free_now.get(user_id)
            if free is not None and free < needed:
                raise CashMoved(user_id, free, needed)
        await bulk.many(MOVE_CASH, [(free, held, uid) for uid, free, held in moves])
        flagged = {int(uid): bool(restricted) for uid, _, _, restricted in locked}
        watch |= {uid for uid, restricted in flagged.items() if restricted}  # so a cure clears the flag
        totals = {}
        for uid, free, reserved, _ in locked:
            if int(uid) in watch:
                delta = self.cash.get(int(uid), (0, 0))
                totals[int(uid)] = int(free) + int(reserved) + delta[0] + delta[1]
        self.margin_states = await margin.states(bulk, totals, self.rules)
        flips = []
        for uid, state in sorted(self.margin_states.items()):
            restricted = margin.is_restricted(state)
            if restricted != flagged.get(uid, False):
                flips.append((restricted, uid))
                self.crossings.append((uid, state))
        await bulk.many(SET_RESTRICTED, flips)

    async def _write_positions(self, bulk: Bulk) -> None:
        users = sorted(
            {fill[0] for fill in self.fills}
            | set(self.units)
            | set(self.margin_taken)
            | set(self.margin_back)
        )
        if not users:
            return
        rows = await bulk.fetch(SELECT_POSITIONS, (self.symbol, *users))
        states = {int(r[0]): PositionState(int(r[1]), int(r[2]), int(r[3])) for r in rows}
        selling = {int(r[0]): int(r[4]) for r in rows}
        margins = {int(r[0]): int(r[5]) - self.margin_taken.get(int(r[0]), 0) for r in rows}
        released: defaultdict[int, int] = defaultdict(int)
        for user_id, side, quantity, price, moved in self.fills:
            before = states.get(user_id) or PositionState()
            held = margins.get(user_id, 0) + moved
            if side is BUY and before.quantity < 0 and held:
                covered = min(quantity, -before.quantity)
                share = proportional_share(held, covered, -before.quantity)
                held -= share
                released[user_id] += share
            margins[user_id] = held
            states[user_id] = apply_fill(before, side, quantity, price)
        changed: list[tuple[Any, ...]] = []
        new: list[tuple[Any, ...]] = []
        for uid in users:
            state = states.get(uid) or PositionState()
            held = margins.get(uid, 0) + self.margin_back.get(uid, 0)
            reserved = self.units.get(uid, 0)
            if held and state.quantity >= selling.get(uid, 0) + reserved:  # it can no longer go short
                released[uid] += held
                held = 0
            if state.quantity < 0:
                self.shorts.add(uid)
            else:
                self.shorts.discard(uid)
            figures = (
                state.quantity,
                state.cost_basis_cents,
                state.average_price_cents,
                state.realized_pnl_cents,
            )
            if uid in selling:
                changed.append((*figures, reserved, held, uid, self.symbol))
            else:
                new.append((uid, self.symbol, *figures, reserved, held))
        for uid, cents in released.items():
            if cents:
                account = self.cash[uid]
                account[0] += cents
                account[1] -= cents
        await bulk.many(UPDATE_POSITION, changed)
        await bulk.many(INSERT_POSITION, new)

    async def _write_executions(self, bulk: Bulk, ids: RowIds, stamp: Any) -> None:
        symbol = self.symbol
        executions: list[tuple[Any, ...]] = []
        ledger: list[tuple[Any, ...]] = []
        buy, sell = CashReason.BUY.value, CashReason.SELL.value
        liquidation = CashReason.LIQUIDATION.value
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
            buy_order = self.live[int(t.taker_order_id if t.taker_side is BUY else t.maker_order_id)]
            if buy_order.liquidating is not None:
                why = margin.liquidation_detail(symbol, t.quantity, t.price_cents, buy_order.liquidating)
                ledger.append((buyer, -amount, liquidation, execution_id, why, stamp))
            else:
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
        for user_id, state in self.crossings:
            yield f"orders:{user_id}", {"symbol": symbol, **margin.warning(state)}
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
