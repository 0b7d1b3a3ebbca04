"""The public market data: listings with their 24 h figures, the ticker, depth, trades and candles.

Read-only: everything comes from the database (candles, executions, assets) except the book,
which the `ExchangeClient` gives (the live book in the owner's process). Prices are integer cents,
quantities whole units, times UTC: candle `time` in epoch seconds (Lightweight Charts' convention),
trade `ts` in epoch milliseconds (as the trade messages on the bus).

The 24 h figures are taken from the 1-minute candles that start within the last 24 hours
(`now - 86,400 s < start_time`): volume and trade count are their sums, `open_24h_cents` is the
first of them's open (the first trade of the window, as Binance reckons it), and the change is
the last price against it (0 when nothing traded in the window).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import InvalidInput, NotFound
from kyrios.core.i18n import N_
from kyrios.exchange.candles import Interval
from kyrios.exchange.client import ExchangeClient
from kyrios.exchange.engine import Side
from kyrios.exchange.models import AssetStatus, AssetType, ExchangeAsset, ExchangeCandle, ExchangeExecution

DAY_SECONDS = 86_400
NO_SYMBOL = N_("There is no symbol {symbol}.")
START_AFTER_END = N_("The start ({start}) must not be after the end ({end}).")


class MarketSummary(BaseModel):
    """A listed symbol with its last price and its figures over the last 24 hours."""

    symbol: str
    name: str
    type: AssetType
    sector: str
    status: AssetStatus
    tick_size_cents: int = Field(description="The price step, in cents.")
    last_price_cents: int = Field(description="The last traded price (the listing price before any trade).")
    open_24h_cents: int | None = Field(description="The first traded price of the last 24 h; null: no trade.")
    change_24h_cents: int = Field(description="last_price_cents - open_24h_cents (0 without a trade).")
    change_24h_percent: float = Field(description="Change against open_24h_cents, percent, 2 decimals.")
    high_24h_cents: int | None
    low_24h_cents: int | None
    volume_24h: int = Field(description="Units traded in the last 24 h.")
    trades_24h: int


class TickerEntry(BaseModel):
    """One symbol's compact ticker: last price, 24 h change and volume, best bid and ask."""

    symbol: str
    status: AssetStatus
    last_price_cents: int
    change_24h_cents: int
    change_24h_percent: float
    volume_24h: int
    best_bid_cents: int | None = Field(description="The highest resting buy price; null: no bids.")
    best_ask_cents: int | None = Field(description="The lowest resting sell price; null: no asks.")


class PriceLevel(BaseModel):
    """One aggregated price level of the book."""

    price_cents: int
    quantity: int


class DepthView(BaseModel):
    """The aggregated book, best levels first, as of the book's event sequence number `seq`."""

    symbol: str
    seq: int = Field(
        description="The symbol's book sequence number (every book event takes the next one; it is "
        "`engine_seq` once persisted): WebSocket deltas continue from it."
    )
    bids: list[PriceLevel]
    asks: list[PriceLevel]


class TradeView(BaseModel):
    """One execution, as the public sees it."""

    id: int = Field(description="The execution id: increasing per symbol, the pagination cursor.")
    seq: int = Field(description="The book's sequence number of this trade.")
    price_cents: int
    quantity: int
    taker_side: Side
    ts: int = Field(description="When it executed, UTC epoch milliseconds.")


class TradesPage(BaseModel):
    """Recent trades, newest first; pass `next_before_id` as `before_id` for the next (older) page."""

    symbol: str
    trades: list[TradeView]
    next_before_id: int | None = Field(description="null: there are no older trades.")


class CandleView(BaseModel):
    """One OHLCV bar; `time` is its start in UTC epoch seconds."""

    time: int
    open_cents: int
    high_cents: int
    low_cents: int
    close_cents: int
    volume: int
    trade_count: int


class CandlesPage(BaseModel):
    """Bars in ascending time."""

    symbol: str
    interval: Interval
    candles: list[CandleView]


def _percent(change: int, base: int | None) -> float:
    return round(change * 100 / base, 2) if base else 0.0


class MarketData:
    """The public reads of the market; `client` gives the book (live in the owner's process)."""

    def __init__(self, db: Database, clock: Clock, client: ExchangeClient) -> None:
        self.db = db
        self.clock = clock
        self.client = client

    async def summaries(self) -> list[MarketSummary]:
        """Every listed symbol with its 24 h figures, by symbol."""
        now = int(self.clock.now().timestamp())
        async with self.db.read() as session:
            assets = list(await session.scalars(select(ExchangeAsset).order_by(ExchangeAsset.symbol)))
            figures = await _day_figures(session, [asset.symbol for asset in assets], now - DAY_SECONDS)
        summaries = []
        for asset in assets:
            opened, high, low, volume, trades = figures.get(asset.symbol, (None, None, None, 0, 0))
            change = asset.last_price_cents - opened if opened is not None else 0
            summaries.append(
                MarketSummary(
                    symbol=asset.symbol,
                    name=asset.name,
                    type=asset.type,
                    sector=asset.sector,
                    status=asset.status,
                    tick_size_cents=asset.tick_size_cents,
                    last_price_cents=asset.last_price_cents,
                    open_24h_cents=opened,
                    change_24h_cents=change,
                    change_24h_percent=_percent(change, opened),
                    high_24h_cents=high,
                    low_24h_cents=low,
                    volume_24h=volume,
                    trades_24h=trades,
                )
            )
        return summaries

    async def ticker(self) -> list[TickerEntry]:
        """The compact figures of every symbol, with its best bid and ask."""
        entries = []
        for summary in await self.summaries():
            depth = await self.client.depth(summary.symbol, 1)
            entries.append(
                TickerEntry(
                    symbol=summary.symbol,
                    status=summary.status,
                    last_price_cents=summary.last_price_cents,
                    change_24h_cents=summary.change_24h_cents,
                    change_24h_percent=summary.change_24h_percent,
                    volume_24h=summary.volume_24h,
                    best_bid_cents=depth.bids[0][0] if depth.bids else None,
                    best_ask_cents=depth.asks[0][0] if depth.asks else None,
                )
            )
        return entries

    async def depth(self, symbol: str, levels: int) -> DepthView:
        """The aggregated book of `symbol` (`NotFound` for an unknown one)."""
        depth = await self.client.depth(symbol, levels)
        return DepthView(
            symbol=symbol,
            seq=depth.seq,
            bids=[PriceLevel(price_cents=p, quantity=q) for p, q in depth.bids],
            asks=[PriceLevel(price_cents=p, quantity=q) for p, q in depth.asks],
        )

    async def trades(self, symbol: str, *, limit: int, before_id: int | None = None) -> TradesPage:
        """Up to `limit` trades of `symbol` older than `before_id` (None: the newest), newest first."""
        table = ExchangeExecution
        async with self.db.read() as session:
            await _known(session, symbol)
            query = select(
                table.id, table.seq, table.price_cents, table.quantity, table.taker_side, table.executed_at
            ).where(table.symbol == symbol)
            if before_id is not None:
                query = query.where(table.id < before_id)
            found = (await session.execute(query.order_by(table.id.desc()).limit(limit + 1))).all()
        trades = [
            TradeView(
                id=row_id,
                seq=seq,
                price_cents=price,
                quantity=quantity,
                taker_side=side,
                ts=_millis(at),
            )
            for row_id, seq, price, quantity, side, at in found[:limit]
        ]
        more = len(found) > limit
        return TradesPage(symbol=symbol, trades=trades, next_before_id=trades[-1].id if more else None)

    async def candles(
        self, symbol: str, interval: Interval, *, start: int | None, end: int | None, limit: int
    ) -> CandlesPage:
        """Bars of `symbol` starting in [start, end] (UTC seconds), ascending, at most `limit`.

        With `start`, the first `limit` bars from it; without, the last `limit` bars up to `end`
        (or the newest): what a chart loads first.
        """
        if start is not None and end is not None and start > end:
            raise InvalidInput(START_AFTER_END, start=str(start), end=str(end))  # seconds, not amounts
        table = ExchangeCandle
        async with self.db.read() as session:
            await _known(session, symbol)
            query = select(
                table.start_time,
                table.open_cents,
                table.high_cents,
                table.low_cents,
                table.close_cents,
                table.volume,
                table.trade_count,
            ).where(table.symbol == symbol, table.bar_interval == interval.value)
            if start is not None:
                query = query.where(table.start_time >= start)
            if end is not None:
                query = query.where(table.start_time <= end)
            newest_first = start is None
            order = table.start_time.desc() if newest_first else table.start_time.asc()
            found = list((await session.execute(query.order_by(order).limit(limit))).all())
        if newest_first:
            found.reverse()
        bars = [
            CandleView(
                time=t, open_cents=o, high_cents=h, low_cents=lo, close_cents=c, volume=v, trade_count=n
            )
            for t, o, h, lo, c, v, n in found
        ]
        return CandlesPage(symbol=symbol, interval=interval, candles=bars)


async def _known(session: AsyncSession, symbol: str) -> None:
    if await session.get(ExchangeAsset, symbol) is None:
        raise NotFound(NO_SYMBOL, symbol=symbol)


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def _day_figures(
    session: AsyncSession, symbols: list[str], after: int
) -> dict[str, tuple[int | None, int | None, int | None, int, int]]:
    """Per symbol: (open, high, low, volume, trades) of the 1-minute bars starting after `after`."""
    if not symbols:
        return {}
    table = ExchangeCandle
    window = and_(table.symbol.in_(symbols), table.bar_interval == Interval.ONE_MINUTE.value)
    totals = (
        select(
            table.symbol,
            func.min(table.start_time).label("first"),
            func.max(table.high_cents).label("high"),
            func.min(table.low_cents).label("low"),
            func.sum(table.volume).label("volume"),
            func.sum(table.trade_count).label("trades"),
        )
        .where(window, table.start_time > after)
        .group_by(table.symbol)
        .subquery()
    )
    first = ExchangeCandle.__table__.alias("first_bar")
    query = select(
        totals.c.symbol,
        first.c.open_cents,
        totals.c.high,
        totals.c.low,
        totals.c.volume,
        totals.c.trades,
    ).join(
        first,
        and_(
            first.c.symbol == totals.c.symbol,
            first.c.bar_interval == Interval.ONE_MINUTE.value,
            first.c.start_time == totals.c.first,
        ),
    )
    result: dict[str, tuple[int | None, int | None, int | None, int, int]] = {}
    for symbol, opened, high, low, volume, trades in (await session.execute(query)).all():
        result[symbol] = (int(opened), int(high), int(low), int(volume), int(trades))
    return result
