"""A symbol's feed that fails starts over from a fresh snapshot instead of going quiet."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from kyrios.runtime import Runtime
from kyrios.web.main import KyriosApp, create_app
from tests.exchange.conftest import SYMBOL, Market
from tests.web.test_ws_market import random_orders
from tests.web.ws_helpers import BookFollower, connect, receive, request, served, until

ALL = 1_000_000


@pytest.fixture
async def app(runtime: Runtime, market: Market) -> KyriosApp:
    return create_app(runtime)


@pytest.fixture
async def url(app: KyriosApp) -> AsyncIterator[str]:
    async with served(app) as base:
        yield base


async def test_a_feed_that_fails_sends_a_new_snapshot_and_goes_on(
    app: KyriosApp, url: str, runtime: Runtime, market: Market
) -> None:
    rng = random.Random(4)
    await random_orders(market, rng, 30)
    async with connect(f"{url}/ws") as ws:
        await request(ws, op="subscribe", channels=[f"book:{SYMBOL}", f"trades:{SYMBOL}"])
        follower = BookFollower()
        follower.apply(await until(ws, f"book:{SYMBOL}", "snapshot"))
        feed = app.state.ws_hub.feeds[SYMBOL]

        # A malformed book message on the bus (its side is missing) makes the feed's tick fail.
        runtime.bus.publish(
            f"book:{SYMBOL}", {"type": "delta", "seq": 10**12, "price_cents": 1, "quantity": 1}
        )
        again = await until(ws, f"book:{SYMBOL}", "snapshot")
        assert feed.restarts == 1 and app.state.ws_hub.feeds[SYMBOL] is feed
        follower.apply(again)

        # It goes on: deltas continue from the new snapshot and end at the live book.
        await random_orders(market, rng, 60)
        live = await market.exchange.depth(SYMBOL, ALL)
        trades = 0
        while follower.book is None or (follower.book.best_bids(), follower.book.best_asks()) != (
            live.bids,
            live.asks,
        ):
            frame = await receive(ws)
            if frame["channel"] == f"book:{SYMBOL}":
                follower.apply(frame)  # continuity and checksum checked on every frame
            elif frame["channel"] == f"trades:{SYMBOL}":
                trades += 1
        assert follower.frames > 3 and trades > 0  # two snapshots, then the deltas and trades after
        assert feed.restarts == 1
