"""The exchange's public market data, `/api/v1`: no sign-in, read-only.

A thin layer over `kyrios.exchange.market_data`: parameters validated here (a bad one is a 422 in
the one error shape), figures computed there. Prices are integer cents, quantities whole units;
candle `time` is UTC epoch seconds, trade `ts` UTC epoch milliseconds. An unknown symbol is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kyrios.exchange.candles import Interval
from kyrios.exchange.market_data import (
    CandlesPage,
    DepthView,
    MarketData,
    MarketSummary,
    TickerEntry,
    TradesPage,
)
from kyrios.runtime import Runtime
from kyrios.web.api.params import MAX_ID
from kyrios.web.deps import RuntimeDep
from kyrios.web.errors import error_responses

MAX_LEVELS = 500
MAX_TRADES = 1000
MAX_CANDLES = 1000
ERRORS = error_responses(404)
"""What the routes naming a symbol add to the router's errors: an unknown symbol is a 404."""

router = APIRouter(prefix="/api/v1", tags=["market data"], responses=error_responses(422))
Symbol = Annotated[str, Path(max_length=16, description="The listed symbol, e.g. ACME.")]


def _market(runtime: Runtime) -> MarketData:
    return MarketData(runtime.db, runtime.clock, runtime.exchange)


@router.get("/assets")
async def assets(runtime: RuntimeDep) -> list[MarketSummary]:
    """Every listed symbol: status, tick size, last price, 24 h change (cents and percent) and volume."""
    return await _market(runtime).summaries()


@router.get("/ticker")
async def ticker(runtime: RuntimeDep) -> list[TickerEntry]:
    """Every symbol's last price, 24 h change and volume, with the best bid and ask."""
    return await _market(runtime).ticker()


@router.get("/depth/{symbol}", responses=ERRORS | error_responses(503))
async def depth(
    runtime: RuntimeDep,
    symbol: Symbol,
    levels: Annotated[int, Query(ge=1, le=MAX_LEVELS, description="Price levels per side.")] = 20,
) -> DepthView:
    """The aggregated order book, best levels first, with its sequence number `seq`."""
    return await _market(runtime).depth(symbol, levels)


@router.get("/trades/{symbol}", responses=ERRORS)
async def trades(
    runtime: RuntimeDep,
    symbol: Symbol,
    limit: Annotated[int, Query(ge=1, le=MAX_TRADES)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only trades with a smaller id.")
    ] = None,
) -> TradesPage:
    """Recent trades, newest first; page back with `before_id=next_before_id`."""
    return await _market(runtime).trades(symbol, limit=limit, before_id=before_id)


@router.get("/candles/{symbol}", responses=ERRORS)
async def candles(
    runtime: RuntimeDep,
    symbol: Symbol,
    interval: Interval = Interval.ONE_MINUTE,
    start: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="First bar start, UTC epoch seconds.")
    ] = None,
    end: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Last bar start, UTC epoch seconds.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDLES)] = 500,
) -> CandlesPage:
    """OHLCV bars in ascending time: from `start` on, else the latest ones up to `end` (or now)."""
    return await _market(runtime).candles(symbol, interval, start=start, end=end, limit=limit)
