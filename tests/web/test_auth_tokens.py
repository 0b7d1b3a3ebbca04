"""Access tokens over real HTTP: dev login, bearer and cookie, and every way a token is refused."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from kyrios.web.auth.secret import MissingJwtSecret
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime, tokens_for

JA = {"Accept-Language": "ja"}


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Runtime]:
    async with exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET)) as rt:
        yield rt


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_dev_login_opens_an_account_and_its_token_works_as_bearer_and_cookie(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        login = await http.post("/api/v1/auth/dev-login", json={"name": "alice"})
        assert login.status_code == 200, login.text
        cookies = login.headers.get_list("set-cookie")
        access_cookie = next(c for c in cookies if c.startswith("kyrios_access="))
        assert (
            "HttpOnly" in access_cookie and "SameSite=lax" in access_cookie and "Secure" not in access_cookie
        )
        refresh_cookie = next(c for c in cookies if c.startswith("kyrios_refresh="))
        assert "HttpOnly" in refresh_cookie and "Path=/api/v1/auth" in refresh_cookie
        csrf_cookie = next(c for c in cookies if c.startswith("kyrios_csrf="))
        assert "HttpOnly" not in csrf_cookie

        by_cookie = await http.get("/api/v1/me")
        assert by_cookie.status_code == 200
        assert by_cookie.json()["name"] == "alice" and by_cookie.json()["method"] == "session"
        token = login.json()["access_token"]
        http.cookies.clear()
        by_bearer = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert by_bearer.json() == {**by_cookie.json(), "method": "jwt"}
        assert (await http.get("/api/v1/me")).status_code == 401

        again = await http.post("/api/v1/auth/dev-login", json={"name": "alice"})
        assert again.status_code == 200
    users = await runtime.exchange.users()
    alice = next(user for user in users if user.username == "alice")
    assert by_cookie.json()["account_id"] == alice.id and by_cookie.json()["user_id"] == alice.discord_id
    assert [user.username for user in users].count("alice") == 1
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["sub"] == str(alice.discord_id) and claims["typ"] == "access"
    assert {"name", "exp", "iat", "jti", "acc"} <= set(claims)


async def test_cookies_are_secure_over_https(runtime: Runtime) -> None:
    async with client(create_app(runtime), scheme="https") as http:
        login = await http.post("/api/v1/auth/dev-login", json={"name": "alice"})
    assert all("Secure" in cookie for cookie in login.headers.get_list("set-cookie"))


async def test_a_token_signed_with_another_secret_is_refused_in_the_callers_language(
    runtime: Runtime,
) -> None:
    forged = tokens_for(runtime, secret="another-secret-" + "y" * 40).issue(
        discord_id=1, name="x", account_id=1
    )
    async with client(create_app(runtime)) as http:
        answer = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}", **JA})
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json() == {
        "error": {"code": "unauthorized", "message": "サインインが無効です。もう一度サインインしてください。"}
    }


async def test_an_expired_token_is_refused(runtime: Runtime, clock: FrozenClock) -> None:
    async with client(create_app(runtime)) as http:
        token = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        clock.advance(timedelta(seconds=runtime.settings.access_token_seconds - 1))
        assert (await http.get("/api/v1/me", headers=bearer)).status_code == 200
        clock.advance(timedelta(seconds=1))
        answer = await http.get("/api/v1/me", headers=bearer)
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "Your sign-in has expired. Please sign in again."


async def test_alg_none_and_a_token_of_another_type_are_refused(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        token = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["access_token"]
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
        unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
        other_type = jwt.encode({**claims, "typ": "refresh"}, SECRET, algorithm="HS256")
        other_alg = jwt.encode(claims, SECRET, algorithm="HS512")
        for refused in (unsigned, other_type, other_alg, "not-a-jwt"):
            answer = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {refused}"})
            assert answer.status_code == 401, refused
            assert answer.json()["error"]["code"] == "unauthorized"


async def test_a_token_cannot_be_turned_into_another_users(runtime: Runtime) -> None:
    async with client(create_app(runtime)) as http:
        alice = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["access_token"]
        bob = (await http.post("/api/v1/auth/dev-login", json={"name": "bob"})).json()["access_token"]
        bob_claims = jwt.decode(bob, SECRET, algorithms=["HS256"], options={"verify_exp": False})
        header, _, signature = alice.split(".")
        as_bob = f"{header}.{_b64(bob_claims)}.{signature}"  # bob's claims under alice's signature
        assert (
            await http.get("/api/v1/me", headers={"Authorization": f"Bearer {as_bob}"})
        ).status_code == 401
        me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {alice}"})
    assert me.json()["name"] == "alice"


async def test_dev_login_is_refused_in_production_mode(settings: Settings, clock: FrozenClock) -> None:
    async with exchange_runtime(settings, clock, mode="production", jwt_secret=SecretStr(SECRET)) as runtime:
        async with client(create_app(runtime)) as http:
            answer = await http.post("/api/v1/auth/dev-login", json={"name": "alice"}, headers=JA)
        assert answer.status_code == 403
        assert answer.json()["error"] == {
            "code": "forbidden",
            "message": "開発用ログインはローカルモードでのみ使えます。",
        }
        assert [user.username for user in await runtime.exchange.users()] == []


async def test_production_mode_without_a_secret_does_not_start(
    settings: Settings, clock: FrozenClock
) -> None:
    async with exchange_runtime(settings, clock, mode="production") as runtime:
        with pytest.raises(MissingJwtSecret, match="KYRIOS_JWT_SECRET"):
            create_app(runtime)


async def test_local_mode_makes_up_a_secret_once_and_keeps_it(
    settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    secret_file = tmp_path / "state" / "jwt-secret"
    async with exchange_runtime(settings, clock, jwt_secret_file=secret_file) as runtime:
        async with client(create_app(runtime)) as http:
            token = (await http.post("/api/v1/auth/dev-login", json={"name": "alice"})).json()["access_token"]
        assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
        async with client(create_app(runtime)) as http:  # a restarted app reads the same secret
            me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        jwt.decode(
            token, secret_file.read_text().strip(), algorithms=["HS256"], options={"verify_exp": False}
        )
