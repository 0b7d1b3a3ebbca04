"""Candles are kept current by every batch, and equal what the executions say, across bar boundaries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from kyrios.core.clock import FrozenClock
from kyrios.core.db import Database
from kyrios.core.errors import Conflict
from kyrios.exchange import candles, invariants
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.engine import Side
from kyrios.exchange.models import ExchangeCandle, ExchangeExecution
from kyrios.exchange.schemas import OrderRequest
from kyrios.runtime import Runtime
from tests.exchange.conftest import SYMBOL, Market

LENGTHS = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86_400}
Bars = dict[tuple[str, int], tuple[int, int, int, int, int, int]]
# (seconds after 2026-03-01 12:00 UTC, [(price, quantity) of one batch]): bars of every length
# begin and end between them, down to the last microsecond of a minute.
SCHEDULE: list[tuple[float, list[tuple[int, int]]]] = [
    (5, [(10_000, 2)]),
    (30, [(10_050, 1), (10_100, 3), (9_950, 1)]),  # one batch: the buy takes 9,950 first, 10,100 last
    (59.999999, [(10_020, 4)]),
    (60, [(10_030, 1)]),
    (299, [(10_200, 2)]),
    (300, [(9_800, 5)]),
    (3599, [(10_005, 1)]),
    (3600, [(10_010, 1), (10_015, 2)]),
    (12 * 3600 - 1, [(10_400, 1)]),  # 23:59:59
    (12 * 3600, [(10_500, 3)]),  # the next day
]
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def trade(market: Market, buyer: int, fills: Sequence[tuple[int, int]]) -> None:
    """The issuer rests a sell at each (price, quantity); `buyer` takes them all in one order (one batch)."""
    exchange = market.exchange
    for price, quantity in fills:
        await exchange.submit_order(
            market.issuer_id,
            OrderRequest(symbol=SYMBOL, side=Side.SELL, quantity=quantity, price_cents=price),
        )
    total = sum(quantity for _, quantity in fills)
    top = max(price for price, _ in fills)
    await exchange.submit_order(
        buyer, OrderRequest(symbol=SYMBOL, side=Side.BUY, quantity=total, price_cents=top)
    )


async def run_schedule(market: Market, clock: FrozenClock) -> None:
    """Trade SCHEDULE with the clock set to each moment (the seller's orders rest just before)."""
    for offset, fills in SCHEDULE:
        clock.set(START + timedelta(seconds=offset))
        await trade(market, market.bob, fills)
    await market.exchange.flush()


async def bars_from_executions(db: Database, symbol: str = SYMBOL) -> Bars:
    """OHLCV per (interval, start), recomputed plainly from the executions table."""
    bars: Bars = {}
    async with db.read() as session:
        rows = (
            await session.execute(
                select(
                    ExchangeExecution.executed_at, ExchangeExecution.price_cents, ExchangeExecution.quantity
                )
                .where(ExchangeExecution.symbol == symbol)
                .order_by(ExchangeExecution.id)
            )
        ).all()
    for at, price, quantity in rows:
        second = int(at.timestamp())
        for name, length in LENGTHS.items():
            key = (name, second - second % length)
            if key not in bars:
                bars[key] = (price, price, price, price, quantity, 1)
            else:
                o, h, lo, _, v, n = bars[key]
                bars[key] = (o, max(h, price), min(lo, price), price, v + quantity, n + 1)
    return bars


async def stored_bars(db: Database, symbol: str = SYMBOL) -> Bars:
    """What `exchange_candles` holds for `symbol`."""
    c = ExchangeCandle
    async with db.read() as session:
        rows = (
            await session.execute(
                select(
                    c.bar_interval,
                    c.start_time,
                    c.open_cents,
                    c.high_cents,
                    c.low_cents,
                    c.close_cents,
                    c.volume,
                    c.trade_count,
                ).where(c.symbol == symbol)
            )
        ).all()
    return {(i, t): (o, h, lo, cl, v, n) for i, t, o, h, lo, cl, v, n in rows}


async def test_candles_equal_the_executions_across_bar_boundaries(
    market: Market, runtime: Runtime, clock: FrozenClock
) -> None:
    await run_schedule(market, clock)
    expected = await bars_from_executions(runtime.db)
    assert await stored_bars(runtime.db) == expected
    start = int(START.timestamp())
    # Spelled out for a few bars, so the recomputation itself is checked.
    assert expected[("1m", start)] == (10_000, 10_100, 9_950, 10_020, 11, 5)
    assert expected[("1m", start + 60)] == (10_030, 10_030, 10_030, 10_030, 1, 1)
    assert expected[("5m", start)] == (10_000, 10_200, 9_950, 10_200, 14, 7)
    assert expected[("1h", start)][3] == 10_005
    assert expected[("1d", start - 12 * 3600)] == (10_000, 10_400, 9_800, 10_400, 24, 12)
    assert expected[("1d", start + 12 * 3600)] == (10_500, 10_500, 10_500, 10_500, 3, 1)
    assert len([key for key in expected if key[0] == "1d"]) == 2


async def test_a_sweep_is_folded_in_execution_order(
    market: Market, runtime: Runtime, clock: FrozenClock
) -> None:
    clock.set(START + timedelta(seconds=10))
    await trade(market, market.carol, [(10_000, 1), (10_005, 2), (10_010, 3)])
    start = int(START.timestamp())
    assert (await stored_bars(runtime.db))[("1m", start)] == (10_000, 10_010, 10_000, 10_010, 6, 3)


async def test_rebuild_recomputes_the_same_bars(market: Market, runtime: Runtime, clock: FrozenClock) -> None:
    await run_schedule(market, clock)
    kept = await stored_bars(runtime.db)
    async with runtime.db.transaction() as session:
        await session.execute(delete(ExchangeCandle))
    async with runtime.db.transaction() as session:
        written = await candles.rebuild(session, SYMBOL, chunk=3)
    assert written == len(kept)
    assert await stored_bars(runtime.db) == kept


def test_bucket_start_aligns_on_utc() -> None:
    at = datetime(2026, 3, 1, 12, 34, 56, 789_000, tzinfo=UTC)
    assert candles.bucket_start(at, candles.Interval.ONE_MINUTE) == int(
        datetime(2026, 3, 1, 12, 34, tzinfo=UTC).timestamp()
    )
    assert candles.bucket_start(at, candles.Interval.FIVE_MINUTES) == int(
        datetime(2026, 3, 1, 12, 30, tzinfo=UTC).timestamp()
    )
    assert candles.bucket_start(at, candles.Interval.ONE_HOUR) == int(
        datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()
    )
    assert candles.bucket_start(at, candles.Interval.ONE_DAY) == int(
        datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    )


async def test_the_invariant_check_catches_a_wrong_or_missing_bar(
    market: Market, runtime: Runtime, clock: FrozenClock
) -> None:
    await run_schedule(market, clock)
    async with runtime.db.read() as session:
        assert await invariants.check(session) == []
    start = int(START.timestamp())
    async with runtime.db.transaction() as session:
        await session.execute(
            update(ExchangeCandle)
            .where(ExchangeCandle.bar_interval == "5m", ExchangeCandle.start_time == start)
            .values(volume=ExchangeCandle.volume + 1)
        )
        await session.execute(delete(ExchangeCandle).where(ExchangeCandle.bar_interval == "1h"))
    async with runtime.db.read() as session:
        problems = await invariants.check(session)
    stored = "stored (open, high, low, close, volume, trades)"
    lost = f"{stored} None, the executions say"
    assert problems == [
        f"ACME 1h candle at {start}: {lost} (10000, 10200, 9800, 10005, 20, 9)",
        f"ACME 1h candle at {start + 3600}: {lost} (10010, 10015, 10010, 10015, 3, 2)",
        f"ACME 1h candle at {start + 11 * 3600}: {lost} (10400, 10400, 10400, 10400, 1, 1)",
        f"ACME 1h candle at {start + 12 * 3600}: {lost} (10500, 10500, 10500, 10500, 3, 1)",
        f"ACME 5m candle at {start}: {stored} (10000, 10200, 9950, 10200, 15, 7),"
        " the executions say (10000, 10200, 9950, 10200, 14, 7)",
    ]


async def test_a_trading_exchange_refuses_to_rebuild_its_candles(market: Market, runtime: Runtime) -> None:
    with pytest.raises(Conflict, match="the candles were not rebuilt"):
        await InProcessClient(market.exchange).rebuild_candles()
