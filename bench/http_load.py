"""A keep-alive HTTP/1.1 load generator on raw asyncio streams, cheap enough not to be the bottleneck."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """Throughput and latency of one load run."""

    requests: int
    seconds: float
    latencies: list[float] = field(repr=False)
    statuses: dict[int, int]
    bodies_checked_ok: int

    @property
    def per_second(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds

    def percentile_ms(self, pct: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]

    @property
    def median_ms(self) -> float:
        """Median latency in milliseconds."""
        return 1000 * statistics.median(self.latencies)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_load(
    host: str,
    port: int,
    next_request: Callable[[], bytes],
    *,
    clients: int,
    seconds: float,
    check_body: Callable[[bytes], bool] | None = None,
) -> LoadResult:
    """Run `clients` connections, each sending requests back to back for `seconds`."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    ok_bodies = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal ok_bodies
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                request = next_request()
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                if check_body is not None and check_body(body):
                    ok_bodies += 1
        finally:
            writer.close()
            await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), elapsed, latencies, statuses, ok_bodies)


async def trivial_baseline(host: str, port: int, *, clients: int, seconds: float) -> LoadResult:
    """`GET /healthz` load after a second's warm-up: the same server's trivial endpoint, the figure a
    benchmark divides its own throughput by."""
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    await run_load(host, port, lambda: request, clients=clients, seconds=1)
    return await run_load(host, port, lambda: request, clients=clients, seconds=seconds)
