"""One WebSocket connection as the hub sees it: a bounded send queue and who it is."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kyrios.core.i18n import Translator


def frame(channel: str, kind: str, **fields: Any) -> str:
    """One JSON text frame: `channel` and `type` first, then the fields."""
    return json.dumps({"channel": channel, "type": kind, **fields}, separators=(",", ":"), ensure_ascii=False)


class WsClient:
    """The hub's handle on a connection: frames go into `queue`; a writer task sends them.

    `offer` never waits: when the queue is full the client is marked `dropped` (its connection
    is then closed as a slow consumer) and everything further is ignored.
    """

    def __init__(self, translator: Translator, max_queue: int) -> None:
        self.translator = translator
        self.queue: asyncio.Queue[str] = asyncio.Queue(max_queue)
        self.dropped = asyncio.Event()
        self._room = asyncio.Event()
        self.channels: set[str] = set()
        self.account_id: int | None = None
        """The signed-in exchange account (`user` channel), once authenticated."""

    def offer(self, text: str) -> bool:
        """Queue one frame; False (and the client dropped) when its queue is full."""
        if self.dropped.is_set():
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped.set()
            self._room.set()
            return False
        return True

    async def room(self) -> None:
        """Wait until at most half the queue is in use (or the client is dropped).

        The reader waits here after each request, so a client that sends many requests at once
        is slowed down by its own answers instead of being dropped for them; one that never
        reads stops being served its requests, and the market data then fills its queue.
        """
        while self.queue.qsize() > self.queue.maxsize // 2 and not self.dropped.is_set():
            self._room.clear()
            await self._room.wait()

    async def next_frame(self) -> str:
        """The next frame to send (the writer's side of the queue)."""
        text = await self.queue.get()
        if self.queue.qsize() <= self.queue.maxsize // 2:
            self._room.set()
        return text
