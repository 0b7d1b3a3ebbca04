"""The exchange's invariants, checked against the database; `check()` lists every violation found.

- cash: free and reserved cash never negative; per user, free + reserved == the sum of its ledger;
  over all users, free + reserved == deposits − withdrawals (trades only move cash between users);
  per user, net deposits == its deposits − withdrawals in the ledger;
- reservations: a user's reserved cash == the reservations of its open orders (buys: price ×
  remaining; short sells: their initial margin) + the margin held by its positions; a position's
  reserved quantity == the open quantity of its user's sells in that symbol; margin is never
  negative, and a position that can no longer go short (quantity ≥ its open sells) holds none;
- supply: for each symbol the positions of all users sum to the issued supply;
- orders: filled + canceled + remaining == quantity, all ≥ 0 (but a REJECTED order keeps the
  quantity asked, which may be why it was rejected); the status agrees with them;
  a finished order holds no reservation;
- executions: each references two orders of its symbol on opposite sides, and each order's filled
  quantity is exactly the sum of the executions it took part in;
- candles: every stored bar is exactly the fold of the executions in it, and every execution is in
  its bars (`candles`).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.exchange import candles
from kyrios.exchange.engine import Side
from kyrios.exchange.models import (
    LIVE_STATUSES,
    CashReason,
    ExchangeAsset,
    ExchangeCandle,
    ExchangeCash,
    ExchangeCashLedger,
    ExchangeExecution,
    ExchangeOrder,
    ExchangePosition,
    OrderStatus,
)


async def check(session: AsyncSession) -> list[str]:
    """Every broken invariant, as sentences; an empty list means the books are sound."""
    problems: list[str] = []
    problems += await _cash(session)
    problems += await _reservations(session)
    problems += await _supply(session)
    problems += await _orders(session)
    problems += await _executions(session)
    problems += await _candles(session)
    return problems


async def _cash(session: AsyncSession) -> list[str]:
    problems: list[str] = []
    ledger = {
        int(u): int(t)
        for u, t in await session.execute(
            select(ExchangeCashLedger.user_id, func.sum(ExchangeCashLedger.delta_cents)).group_by(
                ExchangeCashLedger.user_id
            )
        )
    }
    total = 0
    for user_id, cash, reserved in await session.execute(
        select(ExchangeCash.user_id, ExchangeCash.cash_cents, ExchangeCash.reserved_cents)
    ):
        total += cash + reserved
        if cash < 0 or reserved < 0:
            problems.append(f"user {user_id} has negative cash ({cash}) or reserved cash ({reserved})")
        if cash + reserved != ledger.get(int(user_id), 0):
            problems.append(
                f"user {user_id}: cash + reserved = {cash + reserved} but the ledger sums to "
                f"{ledger.get(int(user_id), 0)}"
            )
    by_reason = {
        reason: int(t)
        for reason, t in await session.execute(
            select(ExchangeCashLedger.reason, func.sum(ExchangeCashLedger.delta_cents)).group_by(
                ExchangeCashLedger.reason
            )
        )
    }
    external = by_reason.get(CashReason.DEPOSIT, 0) + by_reason.get(CashReason.WITHDRAWAL, 0)
    if total != external:
        problems.append(f"all cash + reserved is {total} but deposits − withdrawals is {external}")
    trading = sum(
        by_reason.get(reason, 0) for reason in (CashReason.BUY, CashReason.SELL, CashReason.LIQUIDATION)
    )
    if trading != 0:
        problems.append(f"trades created or destroyed {trading} cents")
    return problems + await _net_deposits(session)


async def _net_deposits(session: AsyncSession) -> list[str]:
    moved = {
        int(u): int(t)
        for u, t in await session.execute(
            select(ExchangeCashLedger.user_id, func.sum(ExchangeCashLedger.delta_cents))
            .where(ExchangeCashLedger.reason.in_((CashReason.DEPOSIT, CashReason.WITHDRAWAL)))
            .group_by(ExchangeCashLedger.user_id)
        )
    }
    return [
        f"user {user_id}: net deposits are {recorded} but its deposits − withdrawals are "
        f"{moved.get(int(user_id), 0)}"
        for user_id, recorded in await session.execute(
            select(ExchangeCash.user_id, ExchangeCash.net_deposits_cents)
        )
        if recorded != moved.get(int(user_id), 0)
    ]


async def _reservations(session: AsyncSession) -> list[str]:
    problems: list[str] = []
    held = defaultdict(
        int,
        {
            int(u): int(t)
            for u, t in await session.execute(
                select(ExchangeOrder.user_id, func.sum(ExchangeOrder.reserved_cents))
                .where(ExchangeOrder.status.in_(LIVE_STATUSES))
                .group_by(ExchangeOrder.user_id)
            )
        },
    )
    margins = defaultdict(
        int,
        {
            int(u): int(t)
            for u, t in await session.execute(
                select(ExchangePosition.user_id, func.sum(ExchangePosition.margin_cents)).group_by(
                    ExchangePosition.user_id
                )
            )
        },
    )
    for user_id, reserved in await session.execute(select(ExchangeCash.user_id, ExchangeCash.reserved_cents)):
        orders, margin = held[int(user_id)], margins[int(user_id)]
        if reserved != orders + margin:
            problems.append(
                f"user {user_id} has {reserved} cents reserved but open orders hold {orders}"
                f" and its positions' margin is {margin}"
            )
    selling = defaultdict(
        int,
        {
            (int(u), str(s)): int(t)
            for u, s, t in await session.execute(
                select(
                    ExchangeOrder.user_id, ExchangeOrder.symbol, func.sum(ExchangeOrder.remaining_quantity)
                )
                .where(ExchangeOrder.status.in_(LIVE_STATUSES), ExchangeOrder.side == Side.SELL)
                .group_by(ExchangeOrder.user_id, ExchangeOrder.symbol)
            )
        },
    )
    for user_id, symbol, quantity, reserved, margin in await session.execute(
        select(
            ExchangePosition.user_id,
            ExchangePosition.symbol,
            ExchangePosition.quantity,
            ExchangePosition.reserved_quantity,
            ExchangePosition.margin_cents,
        )
    ):
        if reserved != selling.pop((int(user_id), str(symbol)), 0):
            problems.append(f"user {user_id} reserves {reserved} {symbol} but its open sells differ")
        if margin < 0 or (margin and quantity >= reserved):
            problems.append(
                f"user {user_id} holds {margin} cents of margin on {quantity} {symbol}"
                f" with {reserved} in open sells"
            )
    for (user_id, symbol), quantity in selling.items():
        if quantity:
            problems.append(f"user {user_id} has {quantity} {symbol} in open sells but no position row")
    return problems


async def _supply(session: AsyncSession) -> list[str]:
    totals = {
        str(s): int(t)
        for s, t in await session.execute(
            select(ExchangePosition.symbol, func.sum(ExchangePosition.quantity)).group_by(
                ExchangePosition.symbol
            )
        )
    }
    return [
        f"{symbol}: positions sum to {totals.get(symbol, 0)} but the issued supply is {supply}"
        for symbol, supply in await session.execute(select(ExchangeAsset.symbol, ExchangeAsset.issued_supply))
        if totals.get(symbol, 0) != supply
    ]


async def _orders(session: AsyncSession) -> list[str]:
    problems: list[str] = []
    rows = await session.execute(
        select(
            ExchangeOrder.id,
            ExchangeOrder.side,
            ExchangeOrder.status,
            ExchangeOrder.price_cents,
            ExchangeOrder.quantity,
            ExchangeOrder.filled_quantity,
            ExchangeOrder.canceled_quantity,
            ExchangeOrder.remaining_quantity,
            ExchangeOrder.reserved_cents,
        )
    )
    for order_id, side, status, price, quantity, filled, canceled, remaining, reserved in rows:
        name = f"order {order_id}"
        negative = min(filled, remaining) < 0 or (canceled < 0 and status != OrderStatus.REJECTED)
        if negative or filled + canceled + remaining != quantity:
            problems.append(
                f"{name}: filled {filled} + canceled {canceled} + remaining {remaining} != {quantity}"
            )
        live = status in LIVE_STATUSES
        expected_status_ok = {
            OrderStatus.OPEN: filled == 0 and remaining > 0,
            OrderStatus.PARTIALLY_FILLED: filled > 0 and remaining > 0,
            OrderStatus.FILLED: filled > 0 and remaining == 0,
            OrderStatus.CANCELED: remaining == 0,
            OrderStatus.REJECTED: remaining == 0 and filled == 0,
        }[status]
        if not expected_status_ok:
            problems.append(f"{name}: status {status} with filled {filled}, remaining {remaining}")
        if live and side is Side.SELL:  # a short sell's initial margin: whatever it was, never below 0
            if reserved < 0:
                problems.append(f"{name}: reserves {reserved} cents")
            continue
        want = (price or 0) * remaining if live else 0
        if reserved != want:
            problems.append(f"{name}: reserves {reserved} cents, expected {want}")
    return problems


async def _executions(session: AsyncSession) -> list[str]:
    problems: list[str] = []
    orders = {
        int(i): (str(s), side, int(f))
        for i, s, side, f in await session.execute(
            select(ExchangeOrder.id, ExchangeOrder.symbol, ExchangeOrder.side, ExchangeOrder.filled_quantity)
        )
    }
    traded: defaultdict[int, int] = defaultdict(int)
    for ex_id, symbol, maker, taker, quantity in await session.execute(
        select(
            ExchangeExecution.id,
            ExchangeExecution.symbol,
            ExchangeExecution.maker_order_id,
            ExchangeExecution.taker_order_id,
            ExchangeExecution.quantity,
        )
    ):
        a, b = orders.get(int(maker)), orders.get(int(taker))
        if a is None or b is None:
            problems.append(f"execution {ex_id} references a missing order")
            continue
        if a[0] != symbol or b[0] != symbol or a[1] == b[1] or quantity <= 0:
            problems.append(f"execution {ex_id} does not join a buy and a sell of {symbol}")
        traded[int(maker)] += int(quantity)
        traded[int(taker)] += int(quantity)
    for order_id, (_, _, filled) in orders.items():
        if traded[order_id] != filled:
            problems.append(f"order {order_id}: filled {filled} but its executions sum to {traded[order_id]}")
    return problems


async def _candles(session: AsyncSession) -> list[str]:
    executions = await session.execute(
        select(
            ExchangeExecution.symbol,
            ExchangeExecution.executed_at,
            ExchangeExecution.price_cents,
            ExchangeExecution.quantity,
        ).order_by(ExchangeExecution.id)
    )
    folded = candles.rows(candles.fold((s, at, int(p), int(q)) for s, at, p, q in executions))
    want = {row[:3]: row[3:] for row in folded}
    c = ExchangeCandle
    stored = {
        (str(s), str(i), int(t)): tuple(int(v) for v in figures)
        for s, i, t, *figures in await session.execute(
            select(
                c.symbol,
                c.bar_interval,
                c.start_time,
                c.open_cents,
                c.high_cents,
                c.low_cents,
                c.close_cents,
                c.volume,
                c.trade_count,
            )
        )
    }
    problems = []
    for key in sorted(want.keys() | stored.keys()):
        if stored.get(key) != want.get(key):
            symbol, interval, start = key
            problems.append(
                f"{symbol} {interval} candle at {start}: stored (open, high, low, close, volume, trades)"
                f" {stored.get(key)}, the executions say {want.get(key)}"
            )
    return problems
