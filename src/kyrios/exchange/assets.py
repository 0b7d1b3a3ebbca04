"""Listing symbols: create, list, halt and resume.

Invariants:
- the issued supply of a symbol is held, at listing, by the market issuer account (a BOT user
  named `market`) as an ordinary long position, so for every symbol the positions of all users
  always sum to `issued_supply` (trades only move units between users);
- a halted symbol takes no new orders (intake reads the status in every batch); cancels still work.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import Conflict, InvalidInput, NotFound
from kyrios.exchange.accounts import create_user, find_user
from kyrios.exchange.models import AssetStatus, AssetType, ExchangeAsset, ExchangePosition, ExchangeUser, Role
from kyrios.exchange.schemas import AssetView

ISSUER_USERNAME = "market"
SYMBOL_PATTERN = re.compile(r"^[A-Z][A-Z0-9.]{0,15}$")


async def issuer(session: AsyncSession, now: datetime) -> ExchangeUser:
    """The market issuer account, created on first use."""
    user = await find_user(session, username=ISSUER_USERNAME)
    if user is None:
        user = await create_user(session, username=ISSUER_USERNAME, role=Role.BOT, now=now)
    return user


async def create_asset(
    session: AsyncSession,
    *,
    symbol: str,
    name: str,
    asset_type: AssetType,
    tick_size_cents: int,
    supply: int,
    price_cents: int,
    now: datetime,
    sector: str = "",
    max_quantity: int = 1_000_000,
    max_notional_cents: int = 10**12,
) -> ExchangeAsset:
    """List a symbol and give its whole supply to the issuer at `price_cents` (the first last price)."""
    if not SYMBOL_PATTERN.match(symbol):
        raise InvalidInput("A symbol is 1–16 capital letters, digits or dots, starting with a letter.")
    if tick_size_cents <= 0 or price_cents <= 0 or price_cents % tick_size_cents:
        raise InvalidInput("Tick size and price must be positive, and the price a multiple of the tick.")
    if supply <= 0 or max_quantity <= 0 or max_notional_cents <= 0:
        raise InvalidInput("Supply, maximum quantity and maximum order value must be positive.")
    if await session.get(ExchangeAsset, symbol) is not None:
        raise Conflict("The symbol {symbol} is already listed.", symbol=symbol)
    market = await issuer(session, now)
    asset = ExchangeAsset(
        symbol=symbol,
        name=name,
        type=asset_type,
        sector=sector,
        tick_size_cents=tick_size_cents,
        min_quantity=1,
        max_quantity=max_quantity,
        max_notional_cents=max_notional_cents,
        status=AssetStatus.TRADING,
        issued_supply=supply,
        issuer_user_id=market.id,
        last_price_cents=price_cents,
        engine_seq=0,
        created_at=now,
    )
    session.add(asset)
    await session.flush()
    session.add(
        ExchangePosition(
            user_id=market.id,
            symbol=symbol,
            quantity=supply,
            cost_basis_cents=supply * price_cents,
            average_price_cents=price_cents,
            realized_pnl_cents=0,
            reserved_quantity=0,
        )
    )
    await session.flush()
    return asset


async def list_assets(session: AsyncSession) -> list[AssetView]:
    """Every listed symbol, alphabetically."""
    rows = await session.scalars(select(ExchangeAsset).order_by(ExchangeAsset.symbol))
    return [
        AssetView(
            symbol=a.symbol,
            name=a.name,
            type=a.type,
            sector=a.sector,
            tick_size_cents=a.tick_size_cents,
            max_quantity=a.max_quantity,
            max_notional_cents=a.max_notional_cents,
            status=a.status,
            issued_supply=a.issued_supply,
            last_price_cents=a.last_price_cents,
        )
        for a in rows
    ]


async def set_status(session: AsyncSession, symbol: str, status: AssetStatus) -> None:
    """Halt or resume trading in `symbol`."""
    result = await session.execute(
        update(ExchangeAsset).where(ExchangeAsset.symbol == symbol).values(status=status)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("There is no symbol {symbol}.", symbol=symbol)
