"""Shared set-up of the WebSocket tests: a uvicorn server on a free port, a client that keeps a book."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from kyrios.web.main import KyriosApp
from kyrios.web.ws.book import BookMirror

TIMEOUT = 20.0


@asynccontextmanager
async def served(app: KyriosApp, *, send_buffer: int | None = None) -> AsyncIterator[str]:
    """Run `app` under uvicorn on 127.0.0.1 (a free port) in this loop; yields `ws://host:port`.

    `send_buffer`: the kernel send buffer of the server's connections (default: autotuned, which
    on loopback can hold megabytes before a client that never reads holds the server up).
    """
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if send_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)  # accepted sockets inherit it
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, TIMEOUT)


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next frame, decoded (fails the test after `TIMEOUT`)."""
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert "channel" in frame and "type" in frame, frame
    return frame


async def request(ws: ClientConnection, **message: Any) -> None:
    await ws.send(json.dumps(message))


async def until(ws: ClientConnection, channel: str, kind: str) -> dict[str, Any]:
    """Skip frames up to the first of `channel` and `kind`."""
    while True:
        frame = await receive(ws)
        if frame["channel"] == channel and frame["type"] == kind:
            return frame


class BookFollower:
    """What a careful client does with `book:SYM` frames: apply them, check continuity and checksums."""

    def __init__(self) -> None:
        self.book: BookMirror | None = None
        self.frames = 0

    def apply(self, frame: dict[str, Any]) -> None:
        """Apply one book frame; AssertionError on a gap or a checksum mismatch."""
        if frame["type"] == "snapshot":
            self.book = BookMirror(frame["seq"], map(tuple, frame["bids"]), map(tuple, frame["asks"]))
        else:
            assert frame["type"] == "delta", frame
            assert self.book is not None, "a delta before the snapshot"
            assert frame["prev_seq"] == self.book.seq, f"gap: {self.book.seq} -> {frame['prev_seq']}"
            assert frame["seq"] > frame["prev_seq"]
            for price, quantity in frame["bids"]:
                self.book.set("buy", price, quantity)
            for price, quantity in frame["asks"]:
                self.book.set("sell", price, quantity)
            self.book.seq = frame["seq"]
        assert self.book.checksum() == frame["checksum"], "checksum mismatch"
        self.frames += 1


__all__ = ["BookFollower", "ClientConnection", "connect", "receive", "request", "served", "until"]
