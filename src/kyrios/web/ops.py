"""Health, readiness and Prometheus metrics.

`/healthz` answers while the process serves requests. `/readyz` answers 200 only when every part
this process depends on works: the database, Redis when the bus uses it, the gateway bot when this
process runs one, and the exchange lease when this process runs the exchange; otherwise 503 with
each failed check and why (`{"status": "unavailable", "failed": {"database": "..."}}`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy import text

from kyrios.core.bus_redis import RedisBus
from kyrios.runtime import Runtime

CHECK_TIMEOUT = 2.0
"""Seconds a readiness check may take before it counts as failed."""
DEPTH_LEVELS = 1000
"""Price levels per side the book-depth gauges look at."""


async def readiness(runtime: Runtime) -> dict[str, str]:
    """The failed checks of `runtime`, each with what went wrong (empty when ready)."""
    failed: dict[str, str] = {}

    async def database() -> None:
        async with runtime.db.read() as session:
            await session.execute(text("SELECT 1"))

    checks: dict[str, Any] = {"database": database}
    if isinstance(runtime.bus, RedisBus):
        checks["redis"] = runtime.bus.ping
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT)
        except TimeoutError:
            failed[name] = f"no answer within {CHECK_TIMEOUT:g} s"
        except Exception as exc:  # what failed is the answer, not an error of this endpoint
            failed[name] = f"{exc.__class__.__name__}: {str(exc)[:200]}".rstrip(": ")
    if runtime.gateway_expected:
        gateway = runtime.gateway
        if gateway is None or not gateway.is_ready():
            failed["gateway"] = "the gateway bot is not connected"
    lease = runtime.lease
    if lease is not None and (lease.lost or not lease.held):
        failed["exchange_lease"] = f"lost: {lease.lost_reason}" if lease.lost else "not held"
    return failed


def runtime_collector(runtime: Runtime) -> Iterator[Any]:
    """The runtime's state at scrape time: pool, gateway, exchange lease, retries, book depth."""
    pool = runtime.db.engine.pool
    checked_out = getattr(pool, "checkedout", None)
    if callable(checked_out):
        yield GaugeMetricFamily(
            "kyrios_db_pool_in_use", "Database connections checked out of the pool.", value=checked_out()
        )
    gateway = runtime.gateway
    connected = GaugeMetricFamily(
        "kyrios_gateway_connected", "1 while the gateway bot is connected and ready."
    )
    connected.add_metric([], 1.0 if gateway is not None and gateway.is_ready() else 0.0)
    if runtime.gateway_expected or gateway is not None:
        yield connected
    if gateway is not None and not math.isnan(gateway.latency) and not math.isinf(gateway.latency):
        yield GaugeMetricFamily(
            "kyrios_gateway_latency_seconds", "Gateway heartbeat round trip.", value=gateway.latency
        )
    lease = runtime.lease
    held = lease is not None and lease.held and not lease.lost
    yield GaugeMetricFamily(
        "kyrios_exchange_lease_held",
        "1 while this process holds the exchange lease.",
        value=1.0 if held else 0.0,
    )
    yield GaugeMetricFamily(
        "kyrios_exchange_owner",
        "1 when this process is meant to run the exchange.",
        value=1.0 if lease else 0.0,
    )
    exchange = runtime.running_exchange
    if exchange is None:
        return
    yield CounterMetricFamily(
        "kyrios_exchange_retries",
        "Sequencer batch transactions run again (deadlocks, duplicates, moved cash).",
        value=exchange.retries,
    )
    levels = GaugeMetricFamily(
        "kyrios_exchange_book_levels",
        "Price levels in the book, by symbol and side.",
        labels=("symbol", "side"),
    )
    quantity = GaugeMetricFamily(
        "kyrios_exchange_book_quantity",
        "Quantity resting in the book, by symbol and side.",
        labels=("symbol", "side"),
    )
    orders = GaugeMetricFamily("kyrios_exchange_book_orders", "Open orders in the book.", labels=("symbol",))
    for symbol, sequencer in sorted(exchange.sequencers.items()):
        book = sequencer.book
        depth = book.depth(DEPTH_LEVELS)
        for side, rows in (("bid", depth.bids), ("ask", depth.asks)):
            levels.add_metric([symbol, side], len(rows))
            quantity.add_metric([symbol, side], sum(row[1] for row in rows))
        orders.add_metric([symbol], len(book))
    yield levels
    yield quantity
    yield orders


def build_router(runtime: Runtime) -> APIRouter:
    """Operations routes bound to one runtime."""
    router = APIRouter(tags=["operations"])
    runtime.metrics.attach("runtime", lambda: runtime_collector(runtime))

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive and serving requests."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready to take traffic: 503 with every failed check and why otherwise."""
        failed = await readiness(runtime)
        if failed:
            return JSONResponse({"status": "unavailable", "failed": failed}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format (0.0.4: what every Prometheus 2.x parses)."""
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return router
