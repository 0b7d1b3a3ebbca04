"""API keys of BOT accounts over real HTTP: created by an admin, shown once, hashed, scoped, revocable."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.exchange.models import Role
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth.routes import require_scope
from kyrios.web.auth.tables import AuthApiKey
from kyrios.web.deps import ApiUser
from kyrios.web.main import KyriosApp
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime, tokens_for

ADMIN_DISCORD_ID = 4242424242424242


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        yield rt


def app_with_a_trading_route(runtime: Runtime) -> KyriosApp:
    """The app plus a test-only route that needs the `trade` scope."""
    app = create_app(runtime)
    router = APIRouter()

    @router.post("/test/trade")
    async def trade(user: Annotated[ApiUser, Depends(require_scope("trade"))]) -> dict[str, str]:
        return {"name": user.name}

    app.include_router(router)
    return app


async def admin_headers(runtime: Runtime) -> dict[str, str]:
    """A bearer token of a new ADMIN account."""
    admin = await runtime.exchange.create_user("root", role=Role.ADMIN, discord_id=ADMIN_DISCORD_ID)
    token = tokens_for(runtime).issue(discord_id=ADMIN_DISCORD_ID, name="root", account_id=admin.id)
    return {"Authorization": f"Bearer {token}"}


async def test_a_key_is_shown_once_stored_hashed_and_acts_for_its_bot(runtime: Runtime) -> None:
    bot = await runtime.exchange.create_user("maker-1", role=Role.BOT)
    async with client(create_app(runtime)) as http:
        created = await http.post(
            "/api/v1/auth/api-keys",
            json={"user": "maker-1", "scopes": ["trade", "read"], "label": "market maker"},
            headers=await admin_headers(runtime),
        )
        assert created.status_code == 201, created.text
        body = created.json()
        key = body["key"]
        assert key.startswith("kyr_") and body["scopes"] == ["read", "trade"] and body["account_id"] == bot.id
        for header in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
            me = await http.get("/api/v1/me", headers=header)
            assert me.json() == {
                "user_id": 0,
                "name": "maker-1",
                "method": "api_key",
                "scopes": ["read", "trade"],
                "account_id": bot.id,
            }
    async with runtime.db.read() as session:
        row = await session.scalar(select(AuthApiKey))
    assert row is not None
    secret = key.split("_", 2)[2]
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = (row.key_id, row.secret_hash, row.label, row.scopes)
    assert all(secret not in value and key not in value for value in stored)


async def test_a_scope_is_enforced_and_a_revoked_key_is_refused(runtime: Runtime) -> None:
    await runtime.exchange.create_user("noise-1", role=Role.BOT)
    async with client(app_with_a_trading_route(runtime)) as http:
        admin = await admin_headers(runtime)
        read_only = await http.post(
            "/api/v1/auth/api-keys", json={"user": "noise-1", "scopes": ["read"]}, headers=admin
        )
        trader = await http.post("/api/v1/auth/api-keys", json={"user": "noise-1"}, headers=admin)
        read_key, trade_key = read_only.json()["key"], trader.json()["key"]

        refused = await http.post("/test/trade", headers={"X-API-Key": read_key})
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == "This credential does not allow 'trade'."
        assert (await http.post("/test/trade", headers={"X-API-Key": trade_key})).json() == {
            "name": "noise-1"
        }
        assert (await http.get("/api/v1/me", headers={"X-API-Key": read_key})).status_code == 200

        revoked = await http.delete(f"/api/v1/auth/api-keys/{trader.json()['key_id']}", headers=admin)
        assert revoked.status_code == 204
        after = await http.post("/test/trade", headers={"X-API-Key": trade_key})
        assert after.status_code == 401
        assert after.json()["error"]["message"] == "This API key is not valid or has been revoked."
        wrong_secret = trade_key[:-4] + "AAAA"
        assert (await http.get("/api/v1/me", headers={"X-API-Key": wrong_secret})).status_code == 401
        assert (await http.get("/api/v1/me", headers={"X-API-Key": "kyr_nonsense"})).status_code == 401


async def test_only_an_admin_creates_keys_and_only_for_bots(runtime: Runtime) -> None:
    await runtime.exchange.create_user("maker-1", role=Role.BOT)
    async with client(create_app(runtime)) as http:
        player = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["access_token"]
        as_player = await http.post(
            "/api/v1/auth/api-keys", json={"user": "maker-1"}, headers={"Authorization": f"Bearer {player}"}
        )
        assert as_player.status_code == 403
        assert as_player.json()["error"]["message"] == "Only an exchange administrator may do this."
        admin = await admin_headers(runtime)
        for_a_player = await http.post("/api/v1/auth/api-keys", json={"user": "alice"}, headers=admin)
        assert for_a_player.status_code == 422
        bad_scope = await http.post(
            "/api/v1/auth/api-keys", json={"user": "maker-1", "scopes": ["admin"]}, headers=admin
        )
        assert bad_scope.status_code == 422
        key = (await http.post("/api/v1/auth/api-keys", json={"user": "maker-1"}, headers=admin)).json()[
            "key"
        ]
        by_key = await http.post(
            "/api/v1/auth/api-keys", json={"user": "maker-1"}, headers={"X-API-Key": key}
        )
        assert by_key.status_code == 403
        unknown = await http.delete("/api/v1/auth/api-keys/000000000000", headers=admin)
        assert unknown.status_code == 404
    async with runtime.db.read() as session:
        assert len((await session.scalars(select(AuthApiKey))).all()) == 1
