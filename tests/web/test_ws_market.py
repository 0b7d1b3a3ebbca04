"""The public WebSocket channels over a real socket (uvicorn + `websockets`), the exchange in process."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.core.errors import DomainError
from kyrios.exchange.engine import OrderType, Side
from kyrios.exchange.models import ExchangeCandle, ExchangeExecution
from kyrios.exchange.schemas import OrderRequest
from kyrios.runtime import Runtime
from kyrios.web.main import create_app
from kyrios.web.ws.book import checksum
from tests.exchange.conftest import PRICE, SYMBOL, TICK, Market
from tests.web.ws_helpers import BookFollower, connect, receive, request, served, until

ALL = 1_000_000


@pytest.fixture
async def url(runtime: Runtime, market: Market) -> AsyncIterator[str]:
    app = create_app(runtime)
    app.state.ws_hub.limits.ticker_seconds = 0.05
    async with served(app) as base:
        yield base


async def random_orders(
    market: Market, rng: random.Random, count: int, clock: FrozenClock | None = None
) -> None:
    """`count` random limit and market orders from the three players, ten at a time (so batches form)."""
    players = (market.alice, market.bob, market.carol, market.issuer_id)

    async def one() -> None:
        side = rng.choice((Side.BUY, Side.SELL))
        user = market.issuer_id if side is Side.SELL and rng.random() < 0.5 else rng.choice(players)
        if rng.random() < 0.15:
            order = OrderRequest(symbol=SYMBOL, side=side, type=OrderType.MARKET, quantity=rng.randint(1, 4))
        else:
            price = PRICE + TICK * rng.randint(-15, 15)
            order = OrderRequest(symbol=SYMBOL, side=side, quantity=rng.randint(1, 6), price_cents=price)
        with contextlib.suppress(DomainError):  # refused (e.g. the short limit): part of a random stream
            await market.exchange.submit_order(user, order)

    for start in range(0, count, 10):
        if clock is not None and start == count // 2:
            clock.advance(timedelta(seconds=61))  # a new minute: the first bar closes
        await asyncio.gather(*(one() for _ in range(min(10, count - start))))
    await market.exchange.flush()


async def test_snapshot_and_deltas_reproduce_the_book_and_trades_equal_the_executions(
    url: str, market: Market, runtime: Runtime, clock: FrozenClock
) -> None:
    await random_orders(market, random.Random(1), 40)  # a book before anyone subscribes
    async with connect(f"{url}/ws") as ws:
        await request(
            ws, op="subscribe", channels=[f"book:{SYMBOL}", f"trades:{SYMBOL}", f"candles:{SYMBOL}:1m"]
        )
        follower = BookFollower()
        frames: list[dict[str, Any]] = []
        while follower.book is None:
            frame = await receive(ws)
            frames.append(frame)
            if frame["channel"] == f"book:{SYMBOL}":
                follower.apply(frame)
        depth = await market.exchange.depth(SYMBOL, ALL)
        assert follower.book.seq <= depth.seq
        await random_orders(market, random.Random(2), 300, clock)
        live = await market.exchange.depth(SYMBOL, ALL)
        async with runtime.db.read() as session:
            executions = (
                await session.execute(
                    select(
                        ExchangeExecution.seq,
                        ExchangeExecution.price_cents,
                        ExchangeExecution.quantity,
                        ExchangeExecution.taker_side,
                    ).order_by(ExchangeExecution.id)
                )
            ).all()
            bars = {
                row.start_time: row
                for row in await session.scalars(
                    select(ExchangeCandle).where(ExchangeCandle.bar_interval == "1m")
                )
            }
        expected_trades = [(s, p, q, side.value) for s, p, q, side in executions if s > depth.seq]
        trades: list[tuple[int, int, int, str]] = []
        candles: list[dict[str, Any]] = []
        last_bar = bars[max(bars)]

        def behind() -> bool:
            assert follower.book is not None
            book = (follower.book.best_bids(), follower.book.best_asks())
            bar = (candles[-1]["time"], candles[-1]["trade_count"]) if candles else None
            return (
                book != (live.bids, live.asks)
                or len(trades) < len(expected_trades)
                or bar
                != (
                    last_bar.start_time,
                    last_bar.trade_count,
                )
            )

        while behind():
            frame = await receive(ws)
            frames.append(frame)
            if frame["channel"] == f"book:{SYMBOL}":
                follower.apply(frame)  # continuity and checksum checked on every frame
            elif frame["channel"] == f"trades:{SYMBOL}":
                trades.append((frame["seq"], frame["price_cents"], frame["quantity"], frame["taker_side"]))
            elif frame["channel"] == f"candles:{SYMBOL}:1m":
                candles.append(frame)
        assert trades == expected_trades and len(trades) > 20
        assert follower.book.best_bids() == live.bids and follower.book.best_asks() == live.asks
        assert follower.frames > 10
        closed = list({c["time"]: c for c in candles if c["closed"]}.values())  # the last word per bar
        assert len(closed) == 1, closed
        for candle in (closed[0], candles[-1]):
            bar = bars[candle["time"]]
            assert candle["time"] % 60 == 0
            assert (
                candle["open_cents"],
                candle["high_cents"],
                candle["low_cents"],
                candle["close_cents"],
            ) == (
                bar.open_cents,
                bar.high_cents,
                bar.low_cents,
                bar.close_cents,
            )
            assert (candle["volume"], candle["trade_count"]) == (bar.volume, bar.trade_count)
        assert candles[-1]["closed"] is False and candles[-1]["time"] > closed[0]["time"]

    deltas = [f for f in frames if f["channel"] == f"book:{SYMBOL}"]
    gapped = BookFollower()
    gapped.apply(deltas[0])
    with pytest.raises(AssertionError, match="gap"):
        for frame in deltas[1:3] + deltas[4:]:  # one delta lost on the way
            gapped.apply(frame)


def test_the_checksum_is_the_crc32_of_asks_then_bids() -> None:
    import zlib

    bids = [(10_000, 3), (9_995, 12)]
    asks = [(10_005, 1)]
    assert checksum(bids, asks) == zlib.crc32(b"100051" + b"100003" + b"999512")
    assert checksum([], []) == 0


async def test_the_snapshot_is_the_depth_endpoints_book_and_seq(url: str, market: Market) -> None:
    await random_orders(market, random.Random(3), 60)
    async with httpx.AsyncClient(base_url=url.replace("ws://", "http://")) as http:
        rest = (await http.get(f"/api/v1/depth/{SYMBOL}", params={"levels": 500})).json()
    async with connect(f"{url}/ws") as ws:
        await request(ws, op="subscribe", channels=[f"book:{SYMBOL}"])
        ack = await until(ws, "system", "subscribed")
        assert ack["channels"] == [f"book:{SYMBOL}"]
        snapshot = await until(ws, f"book:{SYMBOL}", "snapshot")
        assert snapshot["seq"] == rest["seq"] > 0
        assert snapshot["bids"] == [[level["price_cents"], level["quantity"]] for level in rest["bids"]]
        assert snapshot["asks"] == [[level["price_cents"], level["quantity"]] for level in rest["asks"]]
        levels = (
            [(p, q) for p, q in snapshot["bids"]],
            [(p, q) for p, q in snapshot["asks"]],
        )
        assert snapshot["checksum"] == checksum(*levels) and levels[0] and levels[1]
        await request(ws, op="unsubscribe", channels=[f"book:{SYMBOL}"])
        assert await receive(ws) == {
            "channel": "system",
            "type": "unsubscribed",
            "channels": [f"book:{SYMBOL}"],
        }


async def test_unknown_channels_and_symbols_are_refused_in_the_connections_language(url: str) -> None:
    async with connect(f"{url}/ws?locale=ja") as ws:
        await request(ws, op="subscribe", channels=["nonsense", "book:NOPE", f"trades:{SYMBOL}"])
        first, second, ack = await receive(ws), await receive(ws), await receive(ws)
        assert (first["type"], first["code"], first["subject"]) == ("error", "invalid", "nonsense")
        assert (second["code"], second["subject"]) == ("not_found", "book:NOPE")
        assert "NOPE" in second["message"] and not second["message"].isascii()
        assert ack == {"channel": "system", "type": "subscribed", "channels": [f"trades:{SYMBOL}"]}
        await request(ws, op="dance")
        bad = await receive(ws)
        assert bad["code"] == "invalid" and not bad["message"].isascii()
    async with connect(f"{url}/ws", additional_headers={"Accept-Language": "en-US"}) as ws:
        await ws.send("not json")
        bad = await receive(ws)
        assert bad["type"] == "error" and bad["message"].startswith("Send a JSON object")


async def test_the_ticker_has_every_symbol_with_its_best_bid_and_ask(url: str, market: Market) -> None:
    await market.exchange.submit_order(
        market.alice, OrderRequest(symbol=SYMBOL, side=Side.BUY, quantity=2, price_cents=PRICE - TICK)
    )
    await market.exchange.flush()
    async with connect(f"{url}/ws") as ws:
        await request(ws, op="subscribe", channels=["ticker"])
        snapshot = await until(ws, "ticker", "snapshot")
        (entry,) = snapshot["data"]
        assert entry["symbol"] == SYMBOL and entry["best_bid_cents"] == PRICE - TICK
        assert entry["best_ask_cents"] is None
        await market.exchange.submit_order(
            market.bob, OrderRequest(symbol=SYMBOL, side=Side.SELL, quantity=1, price_cents=PRICE + TICK)
        )
        await market.exchange.flush()
        update = await until(ws, "ticker", "update")
        assert update["data"][0]["best_ask_cents"] == PRICE + TICK


async def test_an_idle_connection_gets_heartbeats(runtime: Runtime, market: Market) -> None:
    app = create_app(runtime)
    app.state.ws_hub.limits.heartbeat_seconds = 0.05
    async with served(app) as base, connect(f"{base}/ws") as ws:
        first, second = await receive(ws), await receive(ws)
        assert (
            (first["channel"], first["type"])
            == ("system", "heartbeat")
            == (second["channel"], second["type"])
        )


async def test_a_bar_closes_when_its_minute_is_over(url: str, market: Market, clock: FrozenClock) -> None:
    async with connect(f"{url}/ws") as ws:
        await request(ws, op="subscribe", channels=[f"candles:{SYMBOL}:1m"])
        await until(ws, "system", "subscribed")
        await market.exchange.submit_order(
            market.alice, OrderRequest(symbol=SYMBOL, side=Side.BUY, quantity=3, price_cents=PRICE)
        )
        await market.exchange.submit_order(
            market.issuer_id, OrderRequest(symbol=SYMBOL, side=Side.SELL, quantity=3, price_cents=PRICE)
        )
        await market.exchange.flush()
        live = await until(ws, f"candles:{SYMBOL}:1m", "candle")
        assert (live["closed"], live["close_cents"], live["volume"], live["trade_count"]) == (
            False,
            PRICE,
            3,
            1,
        )
        assert live["time"] == int(clock.now().timestamp()) // 60 * 60
        clock.advance(timedelta(seconds=62))  # no trade in the next minute
        final = await until(ws, f"candles:{SYMBOL}:1m", "candle")
        assert final == live | {"closed": True}
