"""The REST rate limit in Redis (when configured): one bucket per caller, shared by every process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from kyrios.core.clock import FrozenClock
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime

PREFIXES = ("kyrios:rate:", "kyrios:auth:")


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock, redis_url: str) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET), redis_url=redis_url) as rt:
        yield rt
    redis = Redis.from_url(redis_url)
    try:  # leave no buckets or sessions behind in the shared Redis
        for prefix in PREFIXES:
            keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()


async def test_two_web_processes_share_one_bucket_per_caller(runtime: Runtime, redis_url: str) -> None:
    first, second = create_app(runtime), create_app(runtime)  # two processes' apps, one Redis
    async with (
        first.router.lifespan_context(first),
        second.router.lifespan_context(second),
        client(first) as one,
        client(second) as other,
    ):
        token = (await one.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        one.cookies.clear()
        for http in (one, other):
            for _ in range(30):
                assert (await http.get("/api/v1/orders", headers=bearer)).status_code == 200
        for http in (one, other):
            limited = await http.get("/api/v1/orders", headers=bearer)
            assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        redis = Redis.from_url(redis_url, decode_responses=True)
        try:
            assert [key async for key in redis.scan_iter(match="kyrios:rate:*")] == [
                f"kyrios:rate:account:{(await one.get('/api/v1/me', headers=bearer)).json()['account_id']}"
            ]
        finally:
            await redis.aclose()
