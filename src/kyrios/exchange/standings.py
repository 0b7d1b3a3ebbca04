"""A symbol's quote for `/stock price` (the players' ranking is `net_worth.leaderboard`).

It reads committed rows only (last prices are the ones the journal wrote), so they change nothing
and agrees with what `portfolio` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import NotFound
from kyrios.exchange.models import (
    AssetStatus,
    ExchangeAsset,
    ExchangeExecution,
)

CHANGE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Quote:
    """A symbol's last price and what it was `CHANGE_WINDOW` ago (None: no trade to compare with)."""

    symbol: str
    name: str
    status: AssetStatus
    last_price_cents: int
    reference_price_cents: int | None

    @property
    def change_cents(self) -> int | None:
        """Last price minus the reference price."""
        return (
            None if self.reference_price_cents is None else self.last_price_cents - self.reference_price_cents
        )


async def quote(session: AsyncSession, symbol: str, now: datetime) -> Quote:
    """The symbol's quote; the reference is the last trade before the window, else its first trade in it."""
    asset = await session.get(ExchangeAsset, symbol)
    if asset is None:
        raise NotFound("There is no symbol {symbol}.", symbol=symbol)
    trades = select(ExchangeExecution.price_cents).where(ExchangeExecution.symbol == symbol)
    since = now - CHANGE_WINDOW
    reference = await session.scalar(
        trades.where(ExchangeExecution.executed_at <= since).order_by(ExchangeExecution.seq.desc()).limit(1)
    )
    if reference is None:
        reference = await session.scalar(
            trades.where(ExchangeExecution.executed_at > since).order_by(ExchangeExecution.seq).limit(1)
        )
    return Quote(
        asset.symbol,
        asset.name,
        asset.status,
        asset.last_price_cents,
        None if reference is None else int(reference),
    )
