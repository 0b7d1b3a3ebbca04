"""`Hub`: who follows which channel, and the tasks that feed them.

Everything runs on the event loop without waiting on a client: frames go into each client's
bounded queue (`WsClient.offer`), so a slow client is dropped instead of slowing the hub, the
sequencer (which publishes on the bus without waiting) or the other clients. Feeds start with
their first subscriber and stop with their last: a symbol's `SymbolFeed`, a user's order updates
(bus `orders:ACCOUNT`), the throttled ticker, the heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from kyrios.core.bus import Subscription
from kyrios.core.errors import DomainError, Forbidden, InvalidInput
from kyrios.exchange.history import ExecutionView
from kyrios.exchange.market_data import MarketData, TickerEntry
from kyrios.runtime import Runtime
from kyrios.web.errors import NotAuthenticated
from kyrios.web.ws import messages
from kyrios.web.ws.client import WsClient, frame
from kyrios.web.ws.feed import SymbolFeed

log = logging.getLogger(__name__)
SYMBOL_KINDS = ("trades", "book")


@dataclass
class HubLimits:
    """Tunable limits (tests shrink them)."""

    max_queue: int = 1_000
    """Frames a client may have waiting before it is dropped as a slow consumer."""
    heartbeat_seconds: float = 15.0
    ticker_seconds: float = 1.0
    """At most one ticker frame per this many seconds."""


class Hub:
    """The channels of one app's WebSocket clients."""

    def __init__(self, runtime: Runtime, limits: HubLimits | None = None) -> None:
        self.runtime = runtime
        self.limits = limits or HubLimits()
        self.clients: set[WsClient] = set()
        self.feeds: dict[str, SymbolFeed] = {}
        self.users: dict[int, tuple[Subscription, asyncio.Task[None], set[WsClient]]] = {}
        self.ticker_clients: set[WsClient] = set()
        self._ticker_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self.dropped = 0
        """Clients dropped as slow consumers so far."""

    # ------------------------------------------------------------------ clients

    def connect(self, client: WsClient) -> None:
        self.clients.add(client)
        if self._heartbeat_task is None:
            self._heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeat())

    async def disconnect(self, client: WsClient) -> None:
        """Forget `client` and stop the feeds nobody follows any more."""
        self.clients.discard(client)
        if client.dropped.is_set():
            self.dropped += 1
        for channel in tuple(client.channels):
            await self.unsubscribe(client, channel)
        if not self.clients and self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            await asyncio.gather(self._heartbeat_task, return_exceptions=True)
            self._heartbeat_task = None

    async def subscribe(self, client: WsClient, channel: str) -> None:
        """Follow `channel`; a `DomainError` (in the client's language) for an unknown or refused one."""
        if channel in client.channels:
            return
        if channel == "ticker":
            self.ticker_clients.add(client)
            client.channels.add(channel)
            if self._ticker_task is None:
                self._ticker_task = asyncio.get_running_loop().create_task(self._ticker())
            return
        if channel == "user" or channel.startswith("user:"):
            self._follow_user(client, channel)
            return
        symbol = _symbol_of(channel)
        if symbol is None:
            raise InvalidInput(messages.UNKNOWN_CHANNEL, channel=channel)
        feed = self.feeds.get(symbol)
        if feed is None:
            await self.runtime.exchange.depth(symbol, 1)  # NotFound for an unknown symbol
            feed = self.feeds.get(symbol)  # another client may have started it meanwhile
            if feed is None:
                feed = self.feeds[symbol] = SymbolFeed(
                    symbol,
                    self.runtime.bus,
                    self.runtime.db,
                    self.runtime.clock,
                    lambda: self.runtime.exchange,
                )
                feed.start()
        feed.add(channel, client)
        client.channels.add(channel)

    async def unsubscribe(self, client: WsClient, channel: str) -> None:
        if channel.startswith("user:") and channel == f"user:{client.account_id}":
            channel = "user"
        if channel not in client.channels:
            return
        client.channels.discard(channel)
        if channel == "ticker":
            self.ticker_clients.discard(client)
            if not self.ticker_clients and self._ticker_task is not None:
                self._ticker_task.cancel()
                await asyncio.gather(self._ticker_task, return_exceptions=True)
                self._ticker_task = None
            return
        if channel == "user":
            await self._unfollow_user(client)
            return
        symbol = _symbol_of(channel)
        feed = self.feeds.get(symbol or "")
        if feed is None:
            return
        feed.remove(channel, client)
        if feed.idle:
            del self.feeds[feed.symbol]
            await feed.aclose()

    # -------------------------------------------------------------- user channel

    def _follow_user(self, client: WsClient, channel: str) -> None:
        account = client.account_id
        if account is None:
            raise NotAuthenticated(messages.SIGN_IN_FIRST)
        if channel != "user" and channel != f"user:{account}":
            raise Forbidden(messages.NOT_YOURS)
        client.channels.add("user")
        following = self.users.get(account)
        if following is None:
            subscription = self.runtime.bus.subscribe(f"orders:{account}", max_queue=10_000)
            clients: set[WsClient] = set()
            task = asyncio.get_running_loop().create_task(self._user_feed(account, subscription, clients))
            following = self.users[account] = (subscription, task, clients)
        following[2].add(client)

    async def _unfollow_user(self, client: WsClient) -> None:
        account = client.account_id
        following = self.users.get(account) if account is not None else None
        if following is None:
            return
        subscription, task, clients = following
        clients.discard(client)
        if not clients:
            del self.users[account]  # type: ignore[arg-type]  # not None here
            subscription.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _user_feed(self, account: int, subscription: Subscription, clients: set[WsClient]) -> None:
        """Relay the account's order updates; after those of a tick that filled, its new `fill`s."""
        try:
            last = await self._newest_execution(account)
            while True:
                items = [await subscription.get()]
                while not subscription.queue.empty():
                    items.append(subscription.queue.get_nowait())
                filled = False
                for _channel, message in items:
                    if message.get("type") == "overflow":
                        filled = True  # some updates were lost: at least send the fills
                        continue
                    fields = {key: value for key, value in message.items() if key != "type"}
                    _send_all(clients, frame("user", str(message.get("type", "order")), **fields))
                    filled = filled or bool(message.get("filled_quantity"))
                if filled:
                    for fill in await self._executions_after(account, last):
                        _send_all(clients, frame("user", "fill", **fill.model_dump(mode="json")))
                        last = fill.id
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the WebSocket user feed of account %s failed", account)

    async def _newest_execution(self, account: int) -> int:
        page = await self.runtime.exchange.execution_page(account, limit=1)
        return page.items[0].id if page.items else 0

    async def _executions_after(self, account: int, after: int) -> list[ExecutionView]:
        """The account's executions with an id above `after`, oldest first."""
        found: list[ExecutionView] = []
        before: int | None = None
        while True:
            page = await self.runtime.exchange.execution_page(account, before=before, limit=100)
            newer = [item for item in page.items if item.id > after]
            found.extend(newer)
            if len(newer) < len(page.items) or page.next_before is None:
                break
            before = page.next_before
        return sorted(found, key=lambda item: item.id)

    # ------------------------------------------------------------ ticker, heartbeat

    async def _ticker(self) -> None:
        """Every `ticker_seconds`, the entries that changed (all of them to a new subscriber)."""
        sent: dict[str, TickerEntry] = {}
        told: set[WsClient] = set()
        while True:
            try:
                entries = await MarketData(
                    self.runtime.db, self.runtime.clock, self.runtime.exchange
                ).ticker()
            except Exception:
                log.exception("the WebSocket ticker failed")
                entries = []
            changed = [entry for entry in entries if sent.get(entry.symbol) != entry]
            for entry in entries:
                sent[entry.symbol] = entry
            every = [entry.model_dump(mode="json") for entry in entries]
            for client in tuple(self.ticker_clients):
                if client not in told:
                    client.offer(frame("ticker", "snapshot", data=every))
                elif changed:
                    client.offer(frame("ticker", "update", data=[e.model_dump(mode="json") for e in changed]))
            told = set(self.ticker_clients)
            await asyncio.sleep(self.limits.ticker_seconds)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.limits.heartbeat_seconds)
            text = frame("system", "heartbeat", ts=int(self.runtime.clock.now().timestamp() * 1000))
            for client in tuple(self.clients):
                client.offer(text)


def _send_all(clients: set[WsClient], text: str) -> None:
    for client in tuple(clients):
        client.offer(text)


def _symbol_of(channel: str) -> str | None:
    """The symbol of `trades:SYM`, `book:SYM` or `candles:SYM:1m`; None for anything else."""
    parts = channel.split(":")
    if len(parts) == 2 and parts[0] in SYMBOL_KINDS and parts[1]:
        return parts[1]
    if len(parts) == 3 and parts[0] == "candles" and parts[1] and parts[2] == "1m":
        return parts[1]
    return None


__all__ = ["DomainError", "Hub", "HubLimits"]
