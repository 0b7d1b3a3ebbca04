"""OHLCV candles of every symbol, kept current by the journal in each batch's own transaction.

A chart's history is read from `exchange_candles` (1,000 bars by primary key) instead of scanning
executions. Every batch with trades adds them to one bar per interval: a batch has one timestamp
(`Batch.now`), so that is one upsert per (symbol, interval) per batch, whatever its trade count.

Invariants:
- a bar is exactly the fold of the executions whose `executed_at` falls in it: open is the first
  trade's price (by execution id), close the last, high/low the extremes, volume the sum of
  quantities, trade_count the number of executions (`tests/exchange/test_candles.py` recomputes
  them from the executions table);
- bars start on multiples of the interval's length in UTC epoch seconds (days at 00:00 UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.exchange.bulk import Bulk
from kyrios.exchange.models import ExchangeCandle, ExchangeExecution


class Interval(StrEnum):
    """A candle's length, named as charts and exchanges name it."""

    ONE_MINUTE = "1m"
    FIVE_MINUTES = "5m"
    ONE_HOUR = "1h"
    ONE_DAY = "1d"

    @property
    def seconds(self) -> int:
        """The bar's length in seconds."""
        return _SECONDS[self]


_SECONDS = {
    Interval.ONE_MINUTE: 60,
    Interval.FIVE_MINUTES: 300,
    Interval.ONE_HOUR: 3600,
    Interval.ONE_DAY: 86_400,
}
INTERVALS = tuple(Interval)
_NAMES = (
    "symbol",
    "bar_interval",
    "start_time",
    "open_cents",
    "high_cents",
    "low_cents",
    "close_cents",
    "volume",
    "trade_count",
)

_INSERT = (
    "INSERT INTO exchange_candles (symbol, bar_interval, start_time, open_cents, high_cents, low_cents,"
    " close_cents, volume, trade_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_ON_CONFLICT = " ON CONFLICT (symbol, bar_interval, start_time) DO UPDATE SET "
_ADD_UP = (
    "close_cents = excluded.close_cents, volume = exchange_candles.volume + excluded.volume,"
    " trade_count = exchange_candles.trade_count + excluded.trade_count"
)
# One statement per database: SQLite has max()/min() where the servers have GREATEST/LEAST, and
# MariaDB names the new row's values VALUES(col). Open stays as first written.
UPSERT_CANDLE = {
    "sqlite": _INSERT
    + _ON_CONFLICT
    + "high_cents = max(exchange_candles.high_cents, excluded.high_cents),"
    + " low_cents = min(exchange_candles.low_cents, excluded.low_cents), "
    + _ADD_UP,
    "postgresql": _INSERT
    + _ON_CONFLICT
    + "high_cents = GREATEST(exchange_candles.high_cents, excluded.high_cents),"
    + " low_cents = LEAST(exchange_candles.low_cents, excluded.low_cents), "
    + _ADD_UP,
    "mysql": _INSERT
    + " ON DUPLICATE KEY UPDATE high_cents = GREATEST(high_cents, VALUES(high_cents)),"
    + " low_cents = LEAST(low_cents, VALUES(low_cents)), close_cents = VALUES(close_cents),"
    + " volume = volume + VALUES(volume), trade_count = trade_count + VALUES(trade_count)",
}


def bucket_start(at: datetime | int, interval: Interval) -> int:
    """The start (UTC epoch seconds) of the bar of `interval` holding `at` (aware datetime or seconds)."""
    seconds = at if isinstance(at, int) else int(at.timestamp() // 1)
    return seconds - seconds % interval.seconds


@dataclass(slots=True)
class Bar:
    """One candle being folded."""

    open_cents: int
    high_cents: int
    low_cents: int
    close_cents: int
    volume: int
    trade_count: int

    def add(self, price_cents: int, quantity: int) -> None:
        """Fold in one later trade."""
        self.high_cents = max(self.high_cents, price_cents)
        self.low_cents = min(self.low_cents, price_cents)
        self.close_cents = price_cents
        self.volume += quantity
        self.trade_count += 1


BarKey = tuple[str, Interval, int]


def fold(
    trades: Iterable[tuple[str, datetime, int, int]], bars: dict[BarKey, Bar] | None = None
) -> dict[BarKey, Bar]:
    """The bars of (symbol, executed_at, price_cents, quantity) trades given in execution order,
    added to `bars` (a fold in progress) when given."""
    bars = {} if bars is None else bars
    for symbol, at, price, quantity in trades:
        seconds = int(at.timestamp() // 1)
        for interval in INTERVALS:
            key = (symbol, interval, seconds - seconds % interval.seconds)
            bar = bars.get(key)
            if bar is None:
                bars[key] = Bar(price, price, price, price, quantity, 1)
            else:
                bar.add(price, quantity)
    return bars


def rows(bars: dict[BarKey, Bar]) -> list[tuple[Any, ...]]:
    """The bars as the upsert's parameter rows, in key order (a stable lock order)."""
    return [
        (
            symbol,
            interval.value,
            start,
            bar.open_cents,
            bar.high_cents,
            bar.low_cents,
            bar.close_cents,
            bar.volume,
            bar.trade_count,
        )
        for (symbol, interval, start), bar in sorted(bars.items())
    ]


async def add_trades(bulk: Bulk, symbol: str, at: datetime, trades: Sequence[tuple[int, int]]) -> None:
    """Add one batch's (price_cents, quantity) trades, all executed `at`, to the symbol's bars."""
    if trades:
        bars = fold((symbol, at, price, quantity) for price, quantity in trades)
        await bulk.many(UPSERT_CANDLE[bulk.dialect], rows(bars))


async def rebuild(session: AsyncSession, symbol: str | None = None, *, chunk: int = 10_000) -> int:
    """Recompute the bars of `symbol` (None: every symbol) from the executions; returns how many.

    For databases whose executions predate the candles table, or to repair one. Run it where no
    batch writes meanwhile (a migration, or the exchange stopped).
    """
    executions = cast(Table, ExchangeExecution.__table__)
    candles = cast(Table, ExchangeCandle.__table__)
    wipe = delete(candles)
    if symbol is not None:
        wipe = wipe.where(candles.c.symbol == symbol)
    await session.execute(wipe)
    bars: dict[BarKey, Bar] = {}
    last_id = 0
    while True:
        query = (
            select(
                executions.c.id,
                executions.c.symbol,
                executions.c.executed_at,
                executions.c.price_cents,
                executions.c.quantity,
            )
            .where(executions.c.id > last_id)
            .order_by(executions.c.id)
            .limit(chunk)
        )
        if symbol is not None:
            query = query.where(executions.c.symbol == symbol)
        found = (await session.execute(query)).all()
        if not found:
            break
        fold(
            ((row_symbol, at, int(price), int(quantity)) for _, row_symbol, at, price, quantity in found),
            bars,
        )
        last_id = int(found[-1][0])
    values = [dict(zip(_NAMES, row, strict=True)) for row in rows(bars)]
    for start in range(0, len(values), chunk):
        await session.execute(insert(candles), values[start : start + chunk])
    return len(values)
