"""Reads for the `/stock` commands: a symbol's quote and the players' net-worth ranking.

Both read committed rows only (last prices are the ones the journal wrote), so they change nothing
and agree with what `portfolio` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import NotFound
from kyrios.exchange.models import (
    AssetStatus,
    ExchangeAsset,
    ExchangeCash,
    ExchangeExecution,
    ExchangePosition,
    ExchangeUser,
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


@dataclass(frozen=True, slots=True)
class Standing:
    """One player's net worth marked to the last prices: free + reserved cash + positions' value."""

    user_id: int
    username: str
    discord_id: int
    net_worth_cents: int


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


async def leaderboard(session: AsyncSession, limit: int = 10) -> list[Standing]:
    """The players (accounts of Discord users) with the highest net worth, richest first."""
    holdings = (
        select(
            ExchangePosition.user_id.label("user_id"),
            func.sum(ExchangePosition.quantity * ExchangeAsset.last_price_cents).label("value"),
        )
        .join(ExchangeAsset, ExchangeAsset.symbol == ExchangePosition.symbol)
        .group_by(ExchangePosition.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            ExchangeUser.id,
            ExchangeUser.username,
            ExchangeUser.discord_id,
            ExchangeCash.cash_cents + ExchangeCash.reserved_cents,
            holdings.c.value,
        )
        .join(ExchangeCash, ExchangeCash.user_id == ExchangeUser.id)
        .outerjoin(holdings, holdings.c.user_id == ExchangeUser.id)
        .where(ExchangeUser.discord_id.is_not(None))
    )
    standings = [
        Standing(int(user_id), username, int(discord_id), int(cash) + int(value or 0))
        for user_id, username, discord_id, cash, value in rows
    ]
    standings.sort(key=lambda s: (-s.net_worth_cents, s.user_id))
    return standings[:limit]
