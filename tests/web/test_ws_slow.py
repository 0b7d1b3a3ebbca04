"""A client that never reads is dropped with close code 4008; the others still get every frame."""

from __future__ import annotations

import asyncio
import random
import socket

from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from kyrios.exchange.models import ExchangeExecution
from kyrios.runtime import Runtime
from kyrios.web.main import create_app
from kyrios.web.ws.endpoint import SLOW_CONSUMER
from tests.exchange.conftest import SYMBOL, Market
from tests.ops.exposition import value
from tests.web.test_ws_market import random_orders
from tests.web.ws_helpers import BookFollower, ClientConnection, connect, receive, request, served, until

CHANNELS = [f"book:{SYMBOL}", f"trades:{SYMBOL}"]


async def read_to_the_end(ws: ClientConnection) -> ConnectionClosed:
    """Read everything the server sent, up to its close."""
    while True:
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed as closed:
            return closed


def tiny_socket(port: int) -> socket.socket:
    """A connected TCP socket with a small receive buffer, so unread frames back up quickly."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def test_a_slow_consumer_is_dropped_and_the_others_get_everything(
    runtime: Runtime, market: Market
) -> None:
    app = create_app(runtime)
    hub = app.state.ws_hub
    async with served(app, send_buffer=4096) as base, connect(f"{base}/ws") as good:
        await request(good, op="subscribe", channels=CHANNELS)
        await until(good, "system", "subscribed")
        hub.limits.max_queue = (
            64  # the slow client's queue: more than a tick's frames, so only not reading fills it
        )
        port = int(base.rsplit(":", 1)[1])
        slow = await connect(f"{base}/ws", sock=tiny_socket(port), max_queue=1)
        await request(slow, op="subscribe", channels=CHANNELS)  # and never read again
        rng = random.Random(5)
        follower = BookFollower()
        trades = 0

        async def read_good() -> None:
            nonlocal trades
            while True:
                frame = await receive(good)
                if frame["channel"] == f"book:{SYMBOL}":
                    follower.apply(frame)
                elif frame["channel"] == f"trades:{SYMBOL}":
                    trades += 1

        reader = asyncio.create_task(read_good())
        for _ in range(60):
            if hub.dropped:
                break
            await random_orders(market, rng, 50)
            for _ in range(50):  # each re-subscription sends a whole snapshot it will not read either
                await request(slow, op="unsubscribe", channels=[f"book:{SYMBOL}"])
                await request(slow, op="subscribe", channels=[f"book:{SYMBOL}"])
            await asyncio.sleep(0.05)
        assert hub.dropped == 1, "the slow client was not dropped"
        closing = asyncio.create_task(read_to_the_end(slow))  # it reads at last, in time for the close frame
        assert len(hub.clients) == 1
        await random_orders(market, rng, 50)  # the hub goes on serving the good client
        async with runtime.db.read() as session:
            executed = int(await session.scalar(select(func.count()).select_from(ExchangeExecution)) or 0)
        live = await market.exchange.depth(SYMBOL, 1_000_000)
        for _ in range(500):
            assert follower.book is not None
            if trades == executed and (follower.book.best_bids(), follower.book.best_asks()) == (
                live.bids,
                live.asks,
            ):
                break
            await asyncio.sleep(0.02)
        reader.cancel()
        assert trades == executed > 0
        assert follower.book is not None
        assert (follower.book.best_bids(), follower.book.best_asks()) == (live.bids, live.asks)

        closed = await closing
        assert closed.rcvd is not None and closed.rcvd.code == SLOW_CONSUMER
        text = runtime.metrics.render().decode()  # what /metrics serves
        assert value(text, "kyrios_ws_dropped_total") == 1
        assert value(text, "kyrios_ws_clients") == 1
