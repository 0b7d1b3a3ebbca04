"""`RedisBus`: the `EventBus` interface across processes (several API workers, bots, traders).

Every process publishes to Redis and listens to all Kyrios channels with one PSUBSCRIBE;
what arrives is handed to a local `InMemoryBus`, so local subscribers keep the same
semantics (publication order per publisher, bounded queues, overflow markers). Publishing
stays fire-and-forget: messages queue locally and one task writes them to Redis in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis

from kyrios.core.bus import InMemoryBus, Message, Subscription

log = logging.getLogger(__name__)

MAX_BATCH = 500


class RedisBus:
    """An event bus whose messages travel through Redis pub/sub under `prefix`."""

    def __init__(self, url: str, *, prefix: str = "kyrios:") -> None:
        self.url = url
        self.prefix = prefix
        self._local = InMemoryBus()
        self._outbox: asyncio.Queue[tuple[str, Message]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: Redis | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        """Connect, start listening and publishing (idempotent)."""
        if self._tasks:
            return
        self._redis = Redis.from_url(self.url)
        self._outbox = asyncio.Queue()
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._send())]
        await self._listening.wait()

    async def ping(self) -> None:
        """Raise unless Redis answers (readiness); `ConnectionError` when the bus is not started."""
        if self._redis is None:
            raise ConnectionError("the Redis bus is not started")
        await self._redis.ping()

    def publish(self, channel: str, message: Message) -> None:
        """Queue one message for every subscriber of `channel` in every process."""
        if self._outbox is None:
            raise RuntimeError("RedisBus.start() must run before publishing")
        self._outbox.put_nowait((channel, message))

    def publish_many(self, messages: Iterable[tuple[str, Message]]) -> None:
        """Queue several (channel, message) pairs in order."""
        for channel, message in messages:
            self.publish(channel, message)

    def subscribe(self, *channels: str, max_queue: int = 10_000) -> Subscription:
        """Receive what any process publishes on `channels` from now on."""
        return self._local.subscribe(*channels, max_queue=max_queue)

    async def _send(self) -> None:
        assert self._redis is not None and self._outbox is not None
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < MAX_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, message in batch:
                    pipe.publish(self.prefix + channel, json.dumps(message, separators=(",", ":")))
                await pipe.execute()
            for _ in batch:
                self._outbox.task_done()

    async def _listen(self) -> None:
        assert self._redis is not None
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.psubscribe(self.prefix + "*")
            self._listening.set()
            while True:
                raw: dict[str, Any] | None = await pubsub.get_message(timeout=1.0)
                if raw is None or raw.get("type") != "pmessage":
                    continue
                channel = raw["channel"].decode()[len(self.prefix) :]
                try:
                    message = json.loads(raw["data"])
                except (ValueError, TypeError):
                    log.warning("dropping a malformed bus message on %s", channel)
                    continue
                self._local.publish(channel, message)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def flush(self) -> None:
        """Return once everything published so far has reached Redis (a no-op before `start`)."""
        if self._outbox is not None:
            await self._outbox.join()

    async def aclose(self) -> None:
        """Flush what was published, stop listening and disconnect."""
        if self._outbox is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._outbox.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
