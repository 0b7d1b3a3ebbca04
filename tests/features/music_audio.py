"""Test audio: a generated tone, and a local HTTP server that serves it (and fails on purpose)."""

from __future__ import annotations

import asyncio
import io
import math
import struct
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

RATE = 48_000


def tone(seconds: float, *, frequency: float = 440.0, amplitude: float = 0.5, rate: int = RATE) -> bytes:
    """A stereo 16-bit WAV file of a sine tone."""
    frames = int(seconds * rate)
    peak = int(32767 * amplitude)
    samples = bytearray()
    for i in range(frames):
        value = int(peak * math.sin(2 * math.pi * frequency * i / rate))
        samples += struct.pack("<hh", value, value)
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(2)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(bytes(samples))
    return out.getvalue()


def rms(pcm: bytes) -> float:
    """The loudness of s16le PCM as a fraction of full scale."""
    count = len(pcm) // 2
    if not count:
        return 0.0
    values = struct.unpack(f"<{count}h", pcm[: count * 2])
    return math.sqrt(sum(v * v for v in values) / count) / 32768


@asynccontextmanager
async def audio_server(files: dict[str, bytes]) -> AsyncIterator[str]:
    """Serve `files` at `/<name>` on a free loopback port; `/slow/<name>` never answers, `/page`
    is a page without media, anything else is a 404. Yields the base URL."""

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in files:
            raise web.HTTPNotFound()
        return web.Response(body=files[name], content_type="audio/wav")

    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(60)
        raise web.HTTPNotFound()

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(
            text="<html><head><title>No media</title></head><body>hi</body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/page", page)
    app.router.add_get("/slow/{name}", slow)
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
