"""Refresh sessions in Redis (when the deployment configures it): the same rules as in the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth.sessions import token_hash
from kyrios.web.auth.stores import RedisStore
from kyrios.web.auth.tables import AuthSession
from kyrios.web.main import KyriosApp
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock, redis_url: str) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET), redis_url=redis_url) as rt:
        yield rt


@pytest.fixture
async def app(runtime: Runtime, redis_url: str) -> AsyncIterator[KyriosApp]:
    built = create_app(runtime)
    store = built.state.auth.refresh_store
    assert isinstance(store, RedisStore)
    yield built
    await store.aclose()
    redis = Redis.from_url(redis_url)
    try:  # leave no sessions behind in the shared Redis
        keys = [key async for key in redis.scan_iter(match=f"{store.prefix}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def test_rotation_and_reuse_detection_in_redis(
    app: KyriosApp, runtime: Runtime, redis_url: str
) -> None:
    async with client(app) as http:
        first = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()
        second = (
            await http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()
        me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"})
        assert me.json()["name"] == "alice"
        stolen = await http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert stolen.status_code == 401
        newest = await http.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert newest.status_code == 401
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        stored = await redis.hgetall(f"kyrios:auth:token:{token_hash(second['refresh_token'])}")
        assert not await redis.exists(f"kyrios:auth:token:{second['refresh_token']}")
    finally:
        await redis.aclose()
    assert stored["state"] == "revoked" and stored["name"] == "alice"
    async with runtime.db.read() as session:
        assert (await session.scalars(select(AuthSession))).all() == []  # nothing in the database


async def test_logout_and_expiry_in_redis(app: KyriosApp, clock: FrozenClock) -> None:
    async with client(app) as http:
        first = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()
        assert (
            await http.post("/api/v1/auth/logout", json={"refresh_token": first["refresh_token"]})
        ).status_code == 204
        again = await http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert again.status_code == 401
        token = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["refresh_token"]
        clock.advance(timedelta(days=30))
        assert (await http.post("/api/v1/auth/refresh", json={"refresh_token": token})).status_code == 401


async def test_of_two_refreshes_racing_in_redis_exactly_one_wins(app: KyriosApp) -> None:
    async with client(app) as http:
        token = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["refresh_token"]
        http.cookies.clear()
        answers = await asyncio.gather(
            *(http.post("/api/v1/auth/refresh", json={"refresh_token": token}) for _ in range(4))
        )
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401]
