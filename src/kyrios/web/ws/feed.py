"""`SymbolFeed`: one symbol's trades, book and 1-minute candles, from the runtime's bus to clients.

The feed subscribes to the bus (`trades:SYM`, `book:SYM`, published by the sequencer after each
committed batch) *before* it reads the book's snapshot, drops the deltas the snapshot already
contains (`seq <=` its `seq`), and then wakes once per tick: whatever the bus delivered since (one
or more sequencer batches) becomes trade frames, one book delta frame (the changed levels' new
absolute quantities) and candle frames. A bus overflow (the feed fell behind) re-reads the
snapshot and sends it to every book subscriber, who start again from it. So does an unexpected
error in the feed (logged): it starts over, from the bar and the snapshot, instead of going quiet.

Candles: the bar of the latest minute is read from the executions (with their `seq`, so the bus's
trades already counted are skipped) and then advanced by each trade, bucketed by the trade's time
(`ts // 60_000 * 60`), exactly as the persisted candles are. A bar is final (`closed: true`) when
a trade of a later minute arrives, or once the runtime clock is `GRACE` past its minute; a trade
that still lands in a closed bar (a batch that began in its minute) sends it again, corrected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select

from kyrios.core.bus import EventBus, Subscription
from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.exchange.client import ExchangeClient
from kyrios.exchange.models import ExchangeExecution
from kyrios.web.ws.book import BookMirror
from kyrios.web.ws.client import WsClient, frame

log = logging.getLogger(__name__)
ALL_LEVELS = 1_000_000
MINUTE = 60
GRACE = 1.0
"""Seconds after a minute's end before its bar is closed without a trade of the next minute."""
CLOSE_CHECK_SECONDS = 0.25
RESTART_SECONDS = 0.5
"""The pause before a feed that failed starts over (so a persistent fault does not spin)."""


class Bar:
    """An in-progress 1-minute bar."""

    __slots__ = ("close", "closed", "high", "low", "open", "time", "trades", "volume")

    def __init__(self, time: int, price: int, quantity: int) -> None:
        self.time = time
        self.open = self.high = self.low = self.close = price
        self.volume = quantity
        self.trades = 1
        self.closed = False

    def add(self, price: int, quantity: int) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.volume += quantity
        self.trades += 1

    def fields(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "open_cents": self.open,
            "high_cents": self.high,
            "low_cents": self.low,
            "close_cents": self.close,
            "volume": self.volume,
            "trade_count": self.trades,
            "closed": self.closed,
        }


class SymbolFeed:
    """The public channels of one symbol: `trades:SYM`, `book:SYM`, `candles:SYM:1m`."""

    def __init__(
        self, symbol: str, bus: EventBus, db: Database, clock: Clock, exchange: Callable[[], ExchangeClient]
    ) -> None:
        self.symbol = symbol
        self.trades_channel = f"trades:{symbol}"
        self.book_channel = f"book:{symbol}"
        self.candles_channel = f"candles:{symbol}:1m"
        self.subscribers: dict[str, set[WsClient]] = {
            self.trades_channel: set(),
            self.book_channel: set(),
            self.candles_channel: set(),
        }
        self._bus = bus
        self._db = db
        self._clock = clock
        self._exchange = exchange
        self._subscription: Subscription | None = None
        self.book: BookMirror | None = None
        """None until the snapshot is read (then book subscribers get it)."""
        self.bar: Bar | None = None
        self._bar_seq = 0
        self._task: asyncio.Task[None] | None = None
        self.restarts = 0
        """Times the feed failed and started over."""

    @property
    def idle(self) -> bool:
        return not any(self.subscribers.values())

    def start(self) -> None:
        """Subscribe to the bus now; read the snapshot and serve in a task."""
        self._subscription = self._bus.subscribe(self.trades_channel, self.book_channel, max_queue=100_000)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"ws feed {self.symbol}")

    async def aclose(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def add(self, channel: str, client: WsClient) -> None:
        """Subscribe `client`; a book subscriber gets the snapshot now (or when it is read)."""
        self.subscribers[channel].add(client)
        if channel == self.book_channel and self.book is not None:
            client.offer(self._snapshot_frame(self.book))
        if channel == self.candles_channel and self.bar is not None:
            client.offer(self._candle_frame(self.bar))

    def remove(self, channel: str, client: WsClient) -> None:
        self.subscribers[channel].discard(client)

    def _send(self, channel: str, text: str) -> None:
        for client in tuple(self.subscribers[channel]):
            client.offer(text)

    def _snapshot_frame(self, book: BookMirror) -> str:
        return frame(
            self.book_channel,
            "snapshot",
            symbol=self.symbol,
            seq=book.seq,
            bids=book.best_bids(),
            asks=book.best_asks(),
            checksum=book.checksum(),
        )

    async def _resnapshot(self) -> None:
        self.book = None
        depth = await self._exchange().depth(self.symbol, ALL_LEVELS)
        self.book = BookMirror(depth.seq, depth.bids, depth.asks)
        self._send(self.book_channel, self._snapshot_frame(self.book))

    async def _load_bar(self) -> None:
        """The latest minute's bar from the executions, and the last trade seq it counts."""
        table = ExchangeExecution
        async with self._db.read() as session:
            last = await session.scalar(
                select(func.max(table.executed_at)).where(table.symbol == self.symbol)
            )
            if last is None:
                return
            seconds = int(last.timestamp() // 1)
            start = seconds - seconds % MINUTE
            rows = (
                await session.execute(
                    select(table.seq, table.price_cents, table.quantity, table.executed_at)
                    .where(
                        table.symbol == self.symbol,
                        table.executed_at >= last.replace(second=0, microsecond=0),
                    )
                    .order_by(table.id)
                )
            ).all()
        for seq, price, quantity, at in rows:
            if int(at.timestamp() // 1) < start:
                continue
            self._count(start, int(price), int(quantity))
            self._bar_seq = max(self._bar_seq, int(seq))

    def _count(self, start: int, price: int, quantity: int) -> str | None:
        """Add one trade to the bar; the final frame of the previous bar if it was still open."""
        bar = self.bar
        if bar is not None and bar.time == start:
            bar.add(price, quantity)  # to a bar closed by the timer too: its next frame corrects it
            return None
        self.bar = Bar(start, price, quantity)
        if bar is not None and not bar.closed:
            bar.closed = True
            return self._candle_frame(bar)
        return None

    def _candle_frame(self, bar: Bar) -> str:
        return frame(self.candles_channel, "candle", symbol=self.symbol, **bar.fields())

    def _close_if_over(self) -> None:
        """Close the bar once its minute (and a grace for batches still committing) is over."""
        bar = self.bar
        if bar is not None and not bar.closed and self._clock.now().timestamp() >= bar.time + MINUTE + GRACE:
            bar.closed = True
            self._send(self.candles_channel, self._candle_frame(bar))

    async def _run(self) -> None:
        """Serve until cancelled; after an unexpected error, log it and start over (a new snapshot)."""
        while True:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.restarts += 1
                log.exception("the WebSocket feed of %s failed; restarting it", self.symbol)
                await asyncio.sleep(RESTART_SECONDS)

    async def _serve(self) -> None:
        subscription = self._subscription
        assert subscription is not None
        self.bar, self._bar_seq = None, 0
        await self._load_bar()
        await self._resnapshot()
        if self.restarts and self.bar is not None:
            self._send(self.candles_channel, self._candle_frame(self.bar))
        while True:
            try:
                first = await asyncio.wait_for(subscription.get(), CLOSE_CHECK_SECONDS)
            except TimeoutError:
                self._close_if_over()
                continue
            items = [first]
            while not subscription.queue.empty():
                items.append(subscription.queue.get_nowait())
            await self._tick(items)
            self._close_if_over()  # book changes alone may keep the bus busy past the minute

    async def _tick(self, items: list[tuple[str, Mapping[str, Any]]]) -> None:
        book = self.book
        assert book is not None
        before = book.seq
        changed: dict[tuple[str, int], int] = {}
        bar_touched = False
        for channel, message in items:
            kind = message.get("type")
            if kind == "overflow":
                await self._resnapshot()
                return
            if channel == self.book_channel:
                seq = int(message["seq"])
                if seq <= book.seq:
                    continue  # the snapshot has it
                book.set(str(message["side"]), int(message["price_cents"]), int(message["quantity"]))
                book.seq = seq
                changed[(str(message["side"]), int(message["price_cents"]))] = int(message["quantity"])
            elif channel == self.trades_channel:
                self._send(
                    self.trades_channel,
                    frame(
                        channel,
                        "trade",
                        symbol=self.symbol,
                        seq=message["seq"],
                        price_cents=message["price_cents"],
                        quantity=message["quantity"],
                        taker_side=message["taker_side"],
                        ts=message["ts"],
                    ),
                )
                if int(message["seq"]) > self._bar_seq:
                    self._bar_seq = int(message["seq"])
                    seconds = int(message["ts"]) // 1000
                    closed = self._count(
                        seconds - seconds % MINUTE, int(message["price_cents"]), int(message["quantity"])
                    )
                    if closed is not None:
                        self._send(self.candles_channel, closed)
                    bar_touched = True
        if changed:
            bids = [[price, quantity] for (side, price), quantity in sorted(changed.items()) if side == "buy"]
            asks = [[price, quantity] for (side, price), quantity in sorted(changed.items()) if side != "buy"]
            self._send(
                self.book_channel,
                frame(
                    self.book_channel,
                    "delta",
                    symbol=self.symbol,
                    seq=book.seq,
                    prev_seq=before,
                    bids=bids,
                    asks=asks,
                    checksum=book.checksum(),
                ),
            )
        if bar_touched and self.bar is not None:
            self._send(
                self.candles_channel,
                self._candle_frame(self.bar),
            )
