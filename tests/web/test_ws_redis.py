"""`/ws` in a web process that does not run the exchange: the events come over the Redis bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from kyrios.core.clock import FrozenClock
from kyrios.core.rng import RandomSource
from kyrios.exchange.client import InProcessClient
from kyrios.exchange.engine import Side
from kyrios.exchange.schemas import AssetListing, OrderRequest
from kyrios.exchange.streams import StreamClient
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime
from tests.web.ws_helpers import BookFollower, connect, receive, request, served, until

PREFIXES = ("kyrios:rate:", "kyrios:auth:")


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock, redis_url: str) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET), redis_url=redis_url) as rt:
        await rt.exchange.create_asset(
            AssetListing(symbol="ACME", name="Acme", supply=10_000, price_cents=10_000, tick_size_cents=5)
        )
        yield rt
    redis = Redis.from_url(redis_url)
    try:  # leave no sessions behind in the shared Redis
        for prefix in PREFIXES:
            keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture
async def web_runtime(runtime: Runtime, clock: FrozenClock) -> AsyncIterator[Runtime]:
    """A second process's runtime: same database and Redis, no exchange."""
    web = build_runtime(runtime.settings, clock=clock, rng=RandomSource(8))
    await web.start()
    try:
        assert isinstance(web.exchange, StreamClient)  # its writes go to the owner over Redis
        yield web
    finally:
        await web.aclose()


async def test_a_web_process_without_the_exchange_streams_its_book_and_trades(
    runtime: Runtime, web_runtime: Runtime
) -> None:
    exchange = runtime.exchange
    assert isinstance(exchange, InProcessClient)
    async with client(create_app(runtime)) as http:
        accounts = []
        for name in ("alice", "bob"):
            login = await http.post("/api/v1/auth/dev-login", json={"name": name})
            bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            accounts.append(int((await http.get("/api/v1/me", headers=bearer)).json()["account_id"]))
            await exchange.deposit(accounts[-1], 10_000_000)
    alice, bob = accounts
    await exchange.exchange.submit_order(
        alice, OrderRequest(symbol="ACME", side=Side.BUY, quantity=5, price_cents=9_990)
    )
    await exchange.exchange.flush()
    async with served(create_app(web_runtime)) as base, connect(f"{base}/ws") as ws:
        await request(ws, op="subscribe", channels=["book:ACME", "trades:ACME"])
        await until(ws, "system", "subscribed")
        follower = BookFollower()
        follower.apply(await until(ws, "book:ACME", "snapshot"))
        assert follower.book is not None and follower.book.best_bids() == [(9_990, 5)]
        for price in (9_995, 10_000, 10_005):
            await exchange.exchange.submit_order(
                alice, OrderRequest(symbol="ACME", side=Side.BUY, quantity=2, price_cents=price)
            )
        await exchange.exchange.submit_order(
            bob, OrderRequest(symbol="ACME", side=Side.SELL, quantity=3, price_cents=10_000)
        )
        await exchange.exchange.flush()
        live = await exchange.depth("ACME", 100)
        trades: list[tuple[int, int, str]] = []
        while (follower.book.best_bids(), follower.book.best_asks()) != (live.bids, live.asks) or len(
            trades
        ) < 2:
            frame = await receive(ws)
            if frame["channel"] == "book:ACME":
                follower.apply(frame)
            elif frame["channel"] == "trades:ACME":
                trades.append((frame["price_cents"], frame["quantity"], frame["taker_side"]))
        assert trades == [(10_005, 2, "sell"), (10_000, 1, "sell")]
