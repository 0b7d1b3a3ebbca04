"""A user's own records, a page at a time: orders, executions and cash ledger rows, newest first.

Pages are cut by id (`before`: only rows with a smaller id), so a page stays stable while new rows
arrive; a page that came back full says where the next one starts (`next_before`). Every query
is scoped to one user: another user's rows are never returned, not even as "exists".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql
from kyrios.exchange.engine import Side
from kyrios.exchange.models import (
    LIVE_STATUSES,
    CashReason,
    ExchangeCashLedger,
    ExchangeExecution,
    ExchangeOrder,
    OrderStatus,
)
from kyrios.exchange.schemas import OrderView

MAX_PAGE = 500
Item = TypeVar("Item", bound=BaseModel)


class Page(BaseModel, Generic[Item]):
    """Rows newest first; `next_before` is the cursor of the next (older) page, None at the end."""

    items: list[Item]
    next_before: int | None


class ExecutionView(BaseModel):
    """One trade as one of its two sides saw it: `side` and `order_id` are that side's."""

    id: int
    symbol: str
    order_id: int
    side: Side
    liquidity: str
    """"maker" (the order rested in the book) or "taker" (the order crossed it)."""
    price_cents: int
    quantity: int
    executed_at: datetime


class LedgerEntryView(BaseModel):
    """One change of the user's total cash (free + reserved)."""

    id: int
    delta_cents: int
    reason: CashReason
    execution_id: int | None
    detail: str
    created_at: datetime


async def _page(
    session: AsyncSession, query: Select[Any], id_column: Any, before: int | None, limit: int
) -> tuple[Sequence[Any], int | None]:
    """Up to `limit` rows of `query` below `before`, newest first, and the next page's cursor."""
    limit = max(1, min(limit, MAX_PAGE))
    if before is not None:
        query = query.where(id_column < before)
    rows = list((await session.scalars(query.order_by(id_column.desc()).limit(limit + 1))).all())
    if len(rows) > limit:
        return rows[:limit], int(rows[limit - 1].id)
    return rows, None


async def order_page(
    session: AsyncSession,
    user_id: int,
    *,
    symbol: str | None = None,
    status: OrderStatus | None = None,
    open_only: bool = False,
    client_order_id: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> Page[OrderView]:
    """The user's orders, filtered by symbol, status (or live only) and client order id."""
    query = select(ExchangeOrder).where(ExchangeOrder.user_id == user_id)
    if symbol is not None:
        query = query.where(ExchangeOrder.symbol == symbol)
    if status is not None:
        query = query.where(ExchangeOrder.status == status)
    if open_only:
        query = query.where(ExchangeOrder.status.in_(LIVE_STATUSES))
    if client_order_id is not None:
        query = query.where(ExchangeOrder.client_order_id == client_order_id)
    rows, after = await _page(session, query, ExchangeOrder.id, before, limit)
    return Page[OrderView](items=[OrderView.of(row) for row in rows], next_before=after)


# The REST door asks these before every new order: driver-level, as its hot path.
_LIVE_COUNT = "SELECT COUNT(*) FROM exchange_order WHERE user_id = ? AND symbol = ? AND status IN (?, ?)"
_CLIENT_ORDER = "SELECT id FROM exchange_order WHERE user_id = ? AND client_order_id = ?"
assert len(LIVE_STATUSES) == 2, "_LIVE_COUNT names each live status"


async def live_order_count(session: AsyncSession, user_id: int, symbol: str) -> int:
    """How many of the user's orders in `symbol` are live (open or partially filled)."""
    sql = await Sql.of(session)
    statuses = [status.value for status in LIVE_STATUSES]
    return int(await sql.scalar(_LIVE_COUNT, (user_id, symbol, *statuses)) or 0)


async def has_client_order(session: AsyncSession, user_id: int, client_order_id: str) -> bool:
    """True when the user already has an order with this client order id."""
    return await (await Sql.of(session)).one(_CLIENT_ORDER, (user_id, client_order_id)) is not None


async def own_order(session: AsyncSession, user_id: int, order_id: int) -> OrderView | None:
    """The user's order `order_id`, or None when there is none or it is someone else's."""
    row = await session.scalar(
        select(ExchangeOrder).where(ExchangeOrder.id == order_id, ExchangeOrder.user_id == user_id)
    )
    return None if row is None else OrderView.of(row)


def _execution_view(row: ExchangeExecution, user_id: int) -> ExecutionView:
    taker = row.taker_user_id == user_id
    side = row.taker_side if taker else (Side.SELL if row.taker_side == Side.BUY else Side.BUY)
    return ExecutionView(
        id=row.id,
        symbol=row.symbol,
        order_id=row.taker_order_id if taker else row.maker_order_id,
        side=side,
        liquidity="taker" if taker else "maker",
        price_cents=row.price_cents,
        quantity=row.quantity,
        executed_at=row.executed_at,
    )


async def execution_page(
    session: AsyncSession,
    user_id: int,
    *,
    symbol: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> Page[ExecutionView]:
    """The trades the user took part in (as maker or taker)."""
    query = select(ExchangeExecution).where(
        or_(ExchangeExecution.maker_user_id == user_id, ExchangeExecution.taker_user_id == user_id)
    )
    if symbol is not None:
        query = query.where(ExchangeExecution.symbol == symbol)
    rows, after = await _page(session, query, ExchangeExecution.id, before, limit)
    return Page[ExecutionView](items=[_execution_view(row, user_id) for row in rows], next_before=after)


async def ledger_page(
    session: AsyncSession, user_id: int, *, before: int | None = None, limit: int = 100
) -> Page[LedgerEntryView]:
    """The user's cash ledger."""
    query = select(ExchangeCashLedger).where(ExchangeCashLedger.user_id == user_id)
    rows, after = await _page(session, query, ExchangeCashLedger.id, before, limit)
    items = [LedgerEntryView.model_validate(row, from_attributes=True) for row in rows]
    return Page[LedgerEntryView](items=items, next_before=after)
