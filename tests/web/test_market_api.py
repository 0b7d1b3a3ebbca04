"""The public market-data API over HTTP, against real orders run through the real exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.exchange.client import DetachedClient
from kyrios.exchange.engine import Side
from kyrios.exchange.models import ExchangeAsset, ExchangeExecution
from kyrios.exchange.schemas import OrderRequest
from kyrios.runtime import Runtime
from kyrios.web.main import create_app
from tests.exchange.conftest import PRICE, SYMBOL, Market
from tests.exchange.test_candles import START, bars_from_executions, run_schedule, trade

JA = {"Accept-Language": "ja-JP,ja;q=0.9"}


@pytest.fixture
async def api(runtime: Runtime, market: Market) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as client:
        yield client


async def get(api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def rest(market: Market, user: int, side: Side, quantity: int, price: int) -> None:
    await market.exchange.submit_order(
        user, OrderRequest(symbol=SYMBOL, side=side, quantity=quantity, price_cents=price)
    )


async def test_candles_equal_what_the_executions_say(
    api: httpx.AsyncClient, market: Market, runtime: Runtime, clock: FrozenClock
) -> None:
    await run_schedule(market, clock)
    expected = await bars_from_executions(runtime.db)
    for interval in ("1m", "5m", "1h", "1d"):
        page = await get(api, f"/api/v1/candles/{SYMBOL}", interval=interval)
        assert page["symbol"] == SYMBOL and page["interval"] == interval
        served = {
            (interval, bar["time"]): (
                bar["open_cents"],
                bar["high_cents"],
                bar["low_cents"],
                bar["close_cents"],
                bar["volume"],
                bar["trade_count"],
            )
            for bar in page["candles"]
        }
        assert served == {key: bar for key, bar in expected.items() if key[0] == interval}
        times = [bar["time"] for bar in page["candles"]]
        assert times == sorted(times)
    minutes = sorted(start for name, start in expected if name == "1m")
    assert len(minutes) >= 6
    latest = await get(api, f"/api/v1/candles/{SYMBOL}", interval="1m", limit=2)
    assert [bar["time"] for bar in latest["candles"]] == minutes[-2:]
    ranged = await get(api, f"/api/v1/candles/{SYMBOL}", start=minutes[1], end=minutes[4], limit=2)
    assert [bar["time"] for bar in ranged["candles"]] == minutes[1:3]
    before = await get(api, f"/api/v1/candles/{SYMBOL}", end=minutes[3], limit=2)
    assert [bar["time"] for bar in before["candles"]] == minutes[2:4]


async def test_depth_is_the_book_with_its_seq(
    api: httpx.AsyncClient, market: Market, runtime: Runtime
) -> None:
    for user, side, quantity, price in [
        (market.alice, Side.BUY, 3, PRICE - 10),
        (market.bob, Side.BUY, 2, PRICE - 10),
        (market.alice, Side.BUY, 5, PRICE - 20),
        (market.bob, Side.BUY, 1, PRICE - 50),
        (market.issuer_id, Side.SELL, 4, PRICE + 5),
        (market.issuer_id, Side.SELL, 6, PRICE + 15),
        (market.issuer_id, Side.SELL, 1, PRICE + 15),
    ]:
        await rest(market, user, side, quantity, price)
    await trade(market, market.carol, [(PRICE, 2)])  # a trade moves seq too
    depth = await get(api, f"/api/v1/depth/{SYMBOL}", levels=2)
    assert depth["bids"] == [
        {"price_cents": PRICE - 10, "quantity": 5},
        {"price_cents": PRICE - 20, "quantity": 5},
    ]
    assert depth["asks"] == [
        {"price_cents": PRICE + 5, "quantity": 4},
        {"price_cents": PRICE + 15, "quantity": 7},
    ]
    book = await market.exchange.depth(SYMBOL, 2)
    async with runtime.db.read() as session:
        persisted = await session.scalar(
            select(ExchangeAsset.engine_seq).where(ExchangeAsset.symbol == SYMBOL)
        )
    assert persisted is not None and persisted > 0
    assert depth["seq"] == book.seq == persisted
    everything = await get(api, f"/api/v1/depth/{SYMBOL}")
    assert len(everything["bids"]) == 3 and len(everything["asks"]) == 2

    await rest(market, market.alice, Side.BUY, 1, PRICE - 30)
    live = await get(api, f"/api/v1/depth/{SYMBOL}")
    assert live["seq"] > depth["seq"]

    runtime.exchange = DetachedClient(runtime.db, runtime.clock)  # a process that does not run it
    assert await get(api, f"/api/v1/depth/{SYMBOL}") == live


async def test_trades_page_newest_first_without_gaps_or_repeats(
    api: httpx.AsyncClient, market: Market, runtime: Runtime, clock: FrozenClock
) -> None:
    for n in range(9):
        clock.advance(timedelta(seconds=1))
        await trade(
            market, market.bob if n % 2 else market.carol, [(PRICE + 5 * n, 1), (PRICE + 5 * n + 5, 2)]
        )
    async with runtime.db.read() as session:
        rows = (
            await session.execute(
                select(
                    ExchangeExecution.id,
                    ExchangeExecution.seq,
                    ExchangeExecution.price_cents,
                    ExchangeExecution.quantity,
                    ExchangeExecution.executed_at,
                ).order_by(ExchangeExecution.id.desc())
            )
        ).all()
    assert len(rows) == 18
    seen: list[dict[str, Any]] = []
    cursor: int | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor is not None:
            params["before_id"] = cursor
        page = await get(api, f"/api/v1/trades/{SYMBOL}", **params)
        pages += 1
        seen.extend(page["trades"])
        cursor = page["next_before_id"]
        if cursor is None:
            break
        assert cursor == page["trades"][-1]["id"]
    assert pages == 4
    assert [t["id"] for t in seen] == [row.id for row in rows]
    assert [(t["seq"], t["price_cents"], t["quantity"], t["taker_side"]) for t in seen] == [
        (row.seq, row.price_cents, row.quantity, "buy") for row in rows
    ]
    assert seen[0]["ts"] == int(rows[0].executed_at.timestamp() * 1000)
    exact = await get(api, f"/api/v1/trades/{SYMBOL}", limit=18)
    assert exact["next_before_id"] is None and len(exact["trades"]) == 18


async def test_assets_and_ticker_give_the_24_hour_figures(
    api: httpx.AsyncClient, market: Market, clock: FrozenClock
) -> None:
    listed = await get(api, "/api/v1/assets")
    assert listed == [
        {
            "symbol": SYMBOL,
            "name": "Acme Corp",
            "type": "STOCK",
            "sector": "",
            "status": "TRADING",
            "tick_size_cents": 5,
            "last_price_cents": PRICE,
            "open_24h_cents": None,
            "change_24h_cents": 0,
            "change_24h_percent": 0.0,
            "high_24h_cents": None,
            "low_24h_cents": None,
            "volume_24h": 0,
            "trades_24h": 0,
        }
    ]
    await trade(market, market.bob, [(10_000, 1)])
    clock.set(START + timedelta(hours=23))
    await trade(market, market.bob, [(10_100, 2)])
    await trade(market, market.carol, [(10_200, 3)])
    await rest(market, market.alice, Side.BUY, 1, 10_050)
    await rest(market, market.issuer_id, Side.SELL, 1, 10_300)

    clock.set(START + timedelta(hours=23, minutes=1))
    (summary,) = await get(api, "/api/v1/assets")
    assert (summary["open_24h_cents"], summary["last_price_cents"]) == (10_000, 10_200)
    assert (summary["change_24h_cents"], summary["change_24h_percent"]) == (200, 2.0)
    assert (summary["high_24h_cents"], summary["low_24h_cents"]) == (10_200, 10_000)
    assert (summary["volume_24h"], summary["trades_24h"]) == (6, 3)

    clock.set(START + timedelta(hours=24, seconds=30))  # the first trade's minute has left the window
    (summary,) = await get(api, "/api/v1/assets")
    assert (summary["open_24h_cents"], summary["change_24h_cents"]) == (10_100, 100)
    assert summary["change_24h_percent"] == 0.99  # 100 / 10,100, rounded to 2 decimals
    assert (summary["volume_24h"], summary["trades_24h"]) == (5, 2)
    assert await get(api, "/api/v1/ticker") == [
        {
            "symbol": SYMBOL,
            "status": "TRADING",
            "last_price_cents": 10_200,
            "change_24h_cents": 100,
            "change_24h_percent": 0.99,
            "volume_24h": 5,
            "best_bid_cents": 10_050,
            "best_ask_cents": 10_300,
        }
    ]


@pytest.mark.parametrize("path", ["depth/NOPE", "trades/NOPE", "candles/NOPE"])
async def test_an_unknown_symbol_is_a_404_in_the_readers_language(api: httpx.AsyncClient, path: str) -> None:
    english = await api.get(f"/api/v1/{path}")
    assert english.status_code == 404
    assert english.json() == {"error": {"code": "not_found", "message": "There is no symbol NOPE."}}
    japanese = await api.get(f"/api/v1/{path}", headers=JA)
    assert japanese.status_code == 404
    assert japanese.json() == {"error": {"code": "not_found", "message": "銘柄 NOPE はありません。"}}


@pytest.mark.parametrize(
    ("path", "params", "english"),
    [
        (f"candles/{SYMBOL}", {"interval": "2m"}, "query.interval: Input should be '1m', '5m', '1h' or '1d'"),
        (f"candles/{SYMBOL}", {"limit": 1001}, "query.limit: Input should be less than or equal to 1000"),
        (f"candles/{SYMBOL}", {"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        (f"trades/{SYMBOL}", {"limit": "many"}, "query.limit: Input should be a valid integer"),
        (f"depth/{SYMBOL}", {"levels": 0}, "query.levels: Input should be greater than or equal to 1"),
    ],
)
async def test_a_bad_parameter_is_a_422_saying_which(
    api: httpx.AsyncClient, path: str, params: dict[str, Any], english: str
) -> None:
    response = await api.get(f"/api/v1/{path}", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith("The request is not valid: ") and english in error["message"]
    japanese = (await api.get(f"/api/v1/{path}", params=params, headers=JA)).json()["error"]["message"]
    assert japanese.startswith("リクエストが正しくありません: ") and english in japanese


async def test_start_after_end_is_a_422_in_both_languages(api: httpx.AsyncClient) -> None:
    params = {"start": 200, "end": 100}
    english = await api.get(f"/api/v1/candles/{SYMBOL}", params=params)
    assert english.status_code == 422
    assert english.json()["error"] == {
        "code": "invalid",
        "message": "The start (200) must not be after the end (100).",
    }
    japanese = await api.get(f"/api/v1/candles/{SYMBOL}", params=params, headers=JA)
    assert japanese.json()["error"]["message"] == "開始 (200) は終了 (100) より後にできません。"


async def test_openapi_documents_the_market_routes(api: httpx.AsyncClient) -> None:
    spec = await get(api, "/openapi.json")
    for path in ("/api/v1/assets", "/api/v1/ticker", "/api/v1/depth/{symbol}", "/api/v1/trades/{symbol}"):
        assert path in spec["paths"]
    candles = spec["paths"]["/api/v1/candles/{symbol}"]["get"]
    assert candles["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CandlesPage"
    )
    assert {"404", "422"} <= set(candles["responses"])
    schemas = spec["components"]["schemas"]
    assert {"MarketSummary", "TickerEntry", "DepthView", "TradesPage", "CandleView"} <= set(schemas)
