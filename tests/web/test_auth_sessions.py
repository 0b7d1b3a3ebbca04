"""Refresh sessions and CSRF over real HTTP: rotation, reuse detection, logout, the double submit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import APIRouter
from sqlalchemy import select

from kyrios.core.clock import FrozenClock
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth.sessions import token_hash
from kyrios.web.auth.tables import AuthSession
from kyrios.web.deps import CurrentUser
from kyrios.web.main import KyriosApp
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, csrf, exchange_runtime


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        yield rt


def app_with_a_write_route(runtime: Runtime) -> KyriosApp:
    """The app plus a test-only POST route that needs a caller."""
    app = create_app(runtime)
    router = APIRouter()

    @router.post("/test/write")
    async def write(user: CurrentUser) -> dict[str, str]:
        return {"name": user.name, "method": user.method}

    app.include_router(router)
    return app


async def test_a_refresh_token_is_rotated_and_a_reused_one_revokes_the_session(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        first = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()
        http.cookies.clear()
        renewed = await http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert renewed.status_code == 200, renewed.text
        second = renewed.json()
        assert second["refresh_token"] != first["refresh_token"]
        me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"})
        assert me.json()["name"] == "alice"

        stolen = await http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert stolen.status_code == 401 and stolen.json()["error"]["code"] == "unauthorized"
        # the reuse revoked the whole sign-in: the legitimate newest token is refused too
        newest = await http.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert newest.status_code == 401
        unknown = await http.post("/api/v1/auth/refresh", json={"refresh_token": "never-issued"})
        assert unknown.status_code == 401
    async with runtime.db.read() as session:
        rows = (await session.scalars(select(AuthSession).order_by(AuthSession.id))).all()
    assert [(row.revoked_reason, row.family) for row in rows] == [
        ("rotated", rows[0].family),
        ("reuse", rows[0].family),
    ]
    assert rows[0].token_hash == token_hash(first["refresh_token"])
    assert all(first["refresh_token"] not in (row.token_hash, row.family) for row in rows)


async def test_a_browser_refreshes_with_its_cookie_and_the_csrf_token(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        await http.post("/api/v1/auth/dev-login", json={"name": "alice"})
        old_access = http.cookies["kyrios_access"]
        refused = await http.post("/api/v1/auth/refresh")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        renewed = await http.post("/api/v1/auth/refresh", headers=csrf(http))
        assert renewed.status_code == 200
        assert http.cookies["kyrios_access"] == renewed.json()["access_token"] != old_access
        assert (await http.get("/api/v1/me")).json()["name"] == "alice"


async def test_logout_revokes_the_session_and_clears_the_cookies(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        login = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()
        out = await http.post("/api/v1/auth/logout", headers=csrf(http))
        assert out.status_code == 204
        cleared = out.headers.get_list("set-cookie")
        assert {cookie.split("=")[0] for cookie in cleared} == {
            "kyrios_access",
            "kyrios_refresh",
            "kyrios_csrf",
        }
        assert all("Max-Age=0" in cookie for cookie in cleared)
        assert (await http.get("/api/v1/me")).status_code == 401
        again = await http.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
        assert again.status_code == 401
    async with runtime.db.read() as session:
        reasons = (await session.scalars(select(AuthSession.revoked_reason))).all()
    assert reasons == ["logout"]


async def test_a_cookie_write_needs_the_matching_csrf_token_and_a_bearer_does_not(runtime: Runtime) -> None:
    async with client(app_with_a_write_route(runtime)) as http:
        token = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["access_token"]
        missing = await http.post("/test/write", headers={"Accept-Language": "ja"})
        assert missing.status_code == 403
        assert missing.json()["error"] == {
            "code": "forbidden",
            "message": "リクエストに CSRF トークンがないか、トークンが一致しません。",
        }
        mismatched = await http.post("/test/write", headers={"X-CSRF-Token": "guessed"})
        assert mismatched.status_code == 403
        matching = await http.post("/test/write", headers=csrf(http))
        assert matching.json() == {"name": "alice", "method": "session"}
        assert (await http.get("/api/v1/me")).status_code == 200  # reads need no token
        http.cookies.clear()
        bearer = await http.post("/test/write", headers={"Authorization": f"Bearer {token}"})
        assert bearer.json() == {"name": "alice", "method": "jwt"}


async def test_of_two_refreshes_racing_with_one_token_exactly_one_wins(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        token = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["refresh_token"]
        http.cookies.clear()
        answers = await asyncio.gather(
            *(http.post("/api/v1/auth/refresh", json={"refresh_token": token}) for _ in range(4))
        )
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401]
    async with runtime.db.read() as session:
        rows = (await session.scalars(select(AuthSession))).all()
    assert len(rows) == 2 and all(
        row.revoked_at is not None for row in rows
    )  # the reuse revoked the winner's
