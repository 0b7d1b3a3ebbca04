"""The event bus: publish JSON-shaped messages on named channels, subscribe to channels.

`InMemoryBus` serves one process; a Redis implementation of the same `EventBus` interface
fans out between processes. Publishing never blocks the publisher: a subscriber whose queue
is full loses the oldest message and is told so by a `{"type": "overflow"}` message, so a slow
consumer can resynchronise (market data carries sequence numbers) instead of stalling the
exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Protocol, Self

Message = Mapping[str, Any]
OVERFLOW: Message = {"type": "overflow"}

log = logging.getLogger(__name__)


class Subscription:
    """Messages from some channels, in publication order; iterate it or call `get()`."""

    def __init__(self, bus: InMemoryBus, channels: tuple[str, ...], max_queue: int) -> None:
        self._bus = bus
        self.channels = channels
        if max_queue < 2:
            raise ValueError("a subscription needs room for at least two messages")
        self.queue: asyncio.Queue[tuple[str, Message]] = asyncio.Queue(max_queue)

    def deliver(self, channel: str, message: Message) -> None:
        """Queue one message, dropping the oldest (and flagging the gap) when full."""
        try:
            self.queue.put_nowait((channel, message))
        except asyncio.QueueFull:
            while self.queue.qsize() > self.queue.maxsize - 2:
                self.queue.get_nowait()
            self.queue.put_nowait((channel, OVERFLOW))
            self.queue.put_nowait((channel, message))

    async def get(self) -> tuple[str, Message]:
        """The next (channel, message)."""
        return await self.queue.get()

    def close(self) -> None:
        """Stop receiving."""
        self._bus.unsubscribe(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncIterator[tuple[str, Message]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[str, Message]]:
        while True:
            yield await self.queue.get()


class Follower:
    """Handles every message of one subscription in a background task (`start`, `close`).

    Subscribed at construction, so nothing published before `start` is missed. Overflow markers
    are skipped (what they stand for is lost; followers act on state the database keeps), and a
    message whose handling fails is logged and left: the next one is handled as usual.
    """

    def __init__(self, subscription: Subscription, *, name: str) -> None:
        self.subscription = subscription
        self.name = name
        self._task: asyncio.Task[None] | None = None

    async def handle(self, message: Message) -> None:
        """Act on one message (subclasses say how)."""
        raise NotImplementedError

    def start(self) -> None:
        """Follow the subscription (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._follow(), name=self.name)

    async def close(self) -> None:
        """Stop following."""
        self.subscription.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        async for _, message in self.subscription:
            if message is OVERFLOW or message.get("type") == "overflow":
                continue
            try:
                await self.handle(message)
            except Exception:
                log.exception("%s could not handle %s", self.name, dict(message))


class EventBus(Protocol):
    """What publishers and subscribers need from a bus."""

    def publish(self, channel: str, message: Message) -> None:
        """Send one message to every current subscriber of `channel` (fire and forget)."""

    def publish_many(self, messages: Iterable[tuple[str, Message]]) -> None:
        """Send several (channel, message) pairs in order."""

    def subscribe(self, *channels: str, max_queue: int = 10_000) -> Subscription:
        """Start receiving the messages published on `channels` from now on."""


class InMemoryBus:
    """A bus inside one process: a dict of channel → subscriptions."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, list[Subscription]] = defaultdict(list)

    def publish(self, channel: str, message: Message) -> None:
        """Send one message to every current subscriber of `channel`."""
        for subscription in self._subscribers.get(channel, ()):
            subscription.deliver(channel, message)

    def publish_many(self, messages: Iterable[tuple[str, Message]]) -> None:
        """Send several (channel, message) pairs in order."""
        subscribers = self._subscribers
        if not subscribers:
            return
        for channel, message in messages:
            for subscription in subscribers.get(channel, ()):
                subscription.deliver(channel, message)

    def subscribe(self, *channels: str, max_queue: int = 10_000) -> Subscription:
        """Start receiving the messages published on `channels` from now on."""
        subscription = Subscription(self, channels, max_queue)
        for channel in channels:
            self._subscribers[channel].append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to `subscription`."""
        for channel in subscription.channels:
            subscribers = self._subscribers.get(channel)
            if subscribers and subscription in subscribers:
                subscribers.remove(subscription)
                if not subscribers:
                    del self._subscribers[channel]
