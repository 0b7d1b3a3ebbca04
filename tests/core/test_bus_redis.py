"""The Redis bus carries messages between processes (two buses stand in for two workers)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from kyrios.core.bus import OVERFLOW
from kyrios.core.bus_redis import RedisBus
from kyrios.runtime import build_runtime
from kyrios.settings import Settings


async def test_messages_cross_between_buses_in_order(redis_url: str) -> None:
    prefix = f"kyrios-test-{uuid.uuid4().hex}:"
    worker_a, worker_b = RedisBus(redis_url, prefix=prefix), RedisBus(redis_url, prefix=prefix)
    await worker_a.start()
    await worker_b.start()
    try:
        with worker_b.subscribe("trades:ACME") as trades, worker_a.subscribe("trades:ACME") as local:
            worker_a.publish_many(("trades:ACME", {"seq": n}) for n in range(200))
            worker_a.publish("book:ACME", {"ignored": True})
            async with asyncio.timeout(5):
                received = [await trades.get() for _ in range(200)]
                echoed = [await local.get() for _ in range(200)]
        assert [m["seq"] for _, m in received] == list(range(200))
        assert {c for c, _ in received} == {"trades:ACME"}
        assert [m["seq"] for _, m in echoed] == list(range(200))
    finally:
        await worker_a.aclose()
        await worker_b.aclose()


async def test_slow_subscriber_gets_an_overflow_marker(redis_url: str) -> None:
    prefix = f"kyrios-test-{uuid.uuid4().hex}:"
    bus = RedisBus(redis_url, prefix=prefix)
    await bus.start()
    try:
        with bus.subscribe("candles:ACME", max_queue=10) as slow, bus.subscribe("candles:ACME") as fast:
            bus.publish_many(("candles:ACME", {"n": n}) for n in range(50))
            async with asyncio.timeout(5):
                for _ in range(50):
                    await fast.get()
            messages = []
            while not slow.queue.empty():
                messages.append(slow.queue.get_nowait()[1])
        assert OVERFLOW in messages
        assert messages[-1] == {"n": 49}
    finally:
        await bus.aclose()


async def test_publishing_before_start_is_refused(redis_url: str) -> None:
    bus = RedisBus(redis_url)
    with pytest.raises(RuntimeError, match=r"start\(\) must run"):
        bus.publish("x", {})


async def test_runtime_uses_redis_when_configured(redis_url: str, settings: Settings) -> None:
    settings.redis_url = redis_url
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        assert isinstance(runtime.bus, RedisBus)
        with runtime.bus.subscribe("ping") as subscription:
            runtime.bus.publish("ping", {"n": 1})
            async with asyncio.timeout(5):
                assert await subscription.get() == ("ping", {"n": 1})
    finally:
        await runtime.aclose()
