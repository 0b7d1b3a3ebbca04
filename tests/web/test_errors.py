"""The web layer's one error table and shape, its dependencies, and the request's language,
through the real app with a small test-only router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, HTTPException, Request

from kyrios.core.errors import (
    Conflict,
    DomainError,
    FeatureDisabled,
    Forbidden,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    OnCooldown,
)
from kyrios.exchange.owner import ExchangeUnavailable
from kyrios.runtime import Runtime
from kyrios.web.deps import ApiUser, CurrentUser, LocaleDep, RuntimeDep
from kyrios.web.errors import STATUS_OF_KIND, NotAuthenticated
from kyrios.web.locale import accepted_locale
from kyrios.web.main import create_app

RAISED: dict[str, DomainError] = {
    "not_found": NotFound("There is no such button."),
    "forbidden": Forbidden("This command only works inside a server."),
    "conflict": Conflict("This button is no longer active."),
    "invalid": InvalidInput("Unknown command `/{command}`.", command="launch"),
    "insufficient_funds": InsufficientFunds("You need {cost} points but have {points}.", cost=1500, points=5),
    "cooldown": OnCooldown("Slow down.", retry_after=timedelta(seconds=2, milliseconds=100)),
    "unavailable": ExchangeUnavailable("This process does not run the exchange, so nothing was changed."),
    "feature_disabled": FeatureDisabled(
        "The {feature} feature is disabled on this server. An admin can enable it.", feature="gacha"
    ),
}
SECRET = "postgresql://kyrios:hunter2@db.internal/kyrios"


def probe_router() -> APIRouter:
    """Routes that fail in each way the app must answer, and one that echoes its dependencies."""
    router = APIRouter(prefix="/test")

    @router.get("/refuse/{kind}")
    async def refuse(kind: str) -> None:
        raise RAISED[kind]

    @router.get("/count")
    async def count(n: int) -> dict[str, int]:
        return {"n": n}

    @router.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "I only make tea.")

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError(f"could not reach {SECRET}")

    @router.get("/me")
    async def me(user: CurrentUser, locale: LocaleDep, runtime: RuntimeDep) -> dict[str, Any]:
        return {"user_id": user.user_id, "locale": locale, "runtime": id(runtime)}

    return router


async def bearer_tokens(request: Request) -> ApiUser | None:
    """A stand-in for the exchange API's authenticator: one good token, one revoked."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    if header == "Bearer good":
        return ApiUser(user_id=42, name="tester", method="api_key", scopes=frozenset({"read"}))
    raise NotAuthenticated("This key was revoked.")


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime, authenticator=bearer_tokens)
    app.include_router(probe_router())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a server answers the 500
    async with httpx.AsyncClient(transport=transport, base_url="http://kyrios.test") as http:
        yield http


@pytest.mark.parametrize("kind", sorted(RAISED))
async def test_each_domain_error_kind_has_its_status_and_the_one_shape(
    client: httpx.AsyncClient, kind: str
) -> None:
    response = await client.get(f"/test/refuse/{kind}")
    assert response.status_code == STATUS_OF_KIND[kind]
    assert response.json() == {"error": {"code": kind, "message": RAISED[kind].message}}


async def test_the_table_says_what_the_api_promises() -> None:
    assert dict(STATUS_OF_KIND) == {
        "not_found": 404,
        "forbidden": 403,
        "conflict": 409,
        "invalid": 422,
        "insufficient_funds": 409,
        "cooldown": 429,
        "feature_disabled": 403,
        "unauthorized": 401,
        "unavailable": 503,
    }


async def test_messages_are_in_the_requests_language(client: httpx.AsyncClient) -> None:
    japanese = {"Accept-Language": "fr-FR, ja;q=0.8, en;q=0.5"}
    funds = (await client.get("/test/refuse/insufficient_funds", headers=japanese)).json()
    assert funds["error"]["message"] == "1,500 ポイント必要ですが、5 ポイントしかありません。"
    assert funds["error"]["code"] == "insufficient_funds"  # the machine code never changes
    english = (
        await client.get("/test/refuse/insufficient_funds", headers={"Accept-Language": "ja;q=0"})
    ).json()
    assert english["error"]["message"] == "You need 1,500 points but have 5."


async def test_a_cooldown_says_when_to_retry(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/refuse/cooldown")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"


async def test_fastapis_validation_errors_are_422_in_the_same_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/count", params={"n": "many"}, headers={"Accept-Language": "ja"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"].startswith("リクエストが正しくありません: query.n: ")


async def test_a_body_that_is_not_text_is_a_400_in_the_requests_language(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/dev-login",
        content=b"\xff\xfe{",
        headers={"Content-Type": "application/json", "Accept-Language": "ja"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "bad_request",
            "message": "リクエスト本文を読み取れませんでした。UTF-8 の JSON を送ってください。",
        }
    }


async def test_http_exceptions_keep_their_status(client: httpx.AsyncClient) -> None:
    teapot = await client.get("/test/teapot")
    assert teapot.status_code == 418
    assert teapot.json() == {"error": {"code": "i_m_a_teapot", "message": "I only make tea."}}
    missing = await client.get("/nowhere", headers={"Accept-Language": "ja"})
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "ここには何もありません。"}}
    wrong = await client.post("/healthz")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert wrong.json()["error"]["code"] == "method_not_allowed"


async def test_an_unexpected_error_is_a_500_that_leaks_nothing(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/test/crash")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal",
            "message": "Something went wrong on our side; nothing was changed. Please try again.",
        }
    }
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert SECRET in caplog.text  # the details are in the log, for us


async def test_the_current_user_comes_from_the_apps_authenticator(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    anonymous = await client.get("/test/me", headers={"Accept-Language": "ja"})
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert anonymous.json() == {
        "error": {"code": "unauthorized", "message": "利用するにはサインインしてください。"}
    }
    revoked = await client.get("/test/me", headers={"Authorization": "Bearer revoked"})
    assert revoked.status_code == 401 and revoked.json()["error"]["message"] == "This key was revoked."
    me = await client.get("/test/me", headers={"Authorization": "Bearer good", "Accept-Language": "ja-JP"})
    assert me.json() == {"user_id": 42, "locale": "ja", "runtime": id(runtime)}


async def test_the_default_authenticator_refuses_a_token_it_did_not_sign(runtime: Runtime) -> None:
    app = create_app(runtime)
    app.include_router(probe_router())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kyrios.test"
    ) as http:
        response = await http.get("/test/me", headers={"Authorization": "Bearer good"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("ja", "ja"),
        ("ja-JP,ja;q=0.9,en-US;q=0.8", "ja"),
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("fr, de;q=0.9, ja;q=0.1", "ja"),
        ("ja;q=0.2, en;q=0.5", "en"),
        ("ja;q=0, fr", "en"),
        ("*", "en"),
        ("ja;q=oops, en;q=0.3", "en"),
    ],
)
def test_accept_language_picks_the_preferred_supported_language(header: str | None, locale: str) -> None:
    assert accepted_locale(header) == locale
