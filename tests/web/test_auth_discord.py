"""Sign in with Discord over real HTTP against a local provider that speaks Discord's OAuth2."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kyrios.core.clock import FrozenClock
from kyrios.exchange.models import Role
from kyrios.runtime import Runtime
from kyrios.settings import Settings
from tests.web.auth_helpers import SECRET, SecretStr, client, create_app, exchange_runtime
from tests.web.oauth_provider import CLIENT_SECRET, DiscordOAuthProvider


@pytest.fixture
async def provider() -> AsyncIterator[DiscordOAuthProvider]:
    async with DiscordOAuthProvider() as running:
        yield running


@pytest.fixture
async def runtime(
    settings: Settings, clock: FrozenClock, provider: DiscordOAuthProvider
) -> AsyncIterator[Runtime]:
    async with exchange_runtime(
        settings,
        clock,
        jwt_secret=SecretStr(SECRET),
        discord_client_secret=SecretStr(CLIENT_SECRET),
        discord_api_base=f"{provider.url}/api/v10",
        discord_authorize_url=f"{provider.url}/oauth2/authorize",
    ) as rt:
        yield rt


async def approve_at_discord(http: httpx.AsyncClient) -> httpx.URL:
    """Start the sign-in and let the provider approve it: where the browser is sent back to."""
    start = await http.get("/api/v1/auth/discord/login")
    assert start.status_code == 302
    async with httpx.AsyncClient() as browser:
        approved = await browser.get(start.headers["location"])
    assert approved.status_code == 302
    return httpx.URL(approved.headers["location"])


async def test_signing_in_with_discord_opens_the_account_of_that_discord_user(
    runtime: Runtime, provider: DiscordOAuthProvider
) -> None:
    async with client(create_app(runtime)) as http:
        back = await approve_at_discord(http)
        assert back.path == "/api/v1/auth/discord/callback"
        signed_in = await http.get(back.path, params=back.params)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        me = (await http.get("/api/v1/me")).json()
        assert me["user_id"] == 80351110224678912 and me["name"] == "nelly" and me["method"] == "session"

        http.cookies.clear()
        back = await approve_at_discord(http)
        assert (await http.get(back.path, params=back.params)).status_code == 303
        assert (await http.get("/api/v1/me")).json()["account_id"] == me["account_id"]
    [user] = await runtime.exchange.users()
    assert (user.discord_id, user.username, user.role) == (80351110224678912, "nelly", Role.PLAYER)
    assert provider.token_requests[0]["redirect_uri"] == "http://testserver/api/v1/auth/discord/callback"


async def test_a_state_that_did_not_start_in_this_browser_is_refused(
    runtime: Runtime, provider: DiscordOAuthProvider
) -> None:
    async with client(create_app(runtime)) as http:
        back = await approve_at_discord(http)
        forged = await http.get(back.path, params={**dict(back.params), "state": "attackers-state"})
        assert forged.status_code == 403
        assert forged.json()["error"]["message"] == (
            "The sign-in with Discord did not start in this browser. Please try again."
        )
        http.cookies.clear()  # the victim's browser never started a sign-in
        assert (await http.get(back.path, params=back.params)).status_code == 403
        assert (await http.get("/api/v1/me")).status_code == 401
    assert provider.token_requests == []  # the code was never redeemed
    assert await runtime.exchange.users() == []


async def test_a_code_discord_does_not_confirm_is_refused(
    runtime: Runtime, provider: DiscordOAuthProvider
) -> None:
    async with client(create_app(runtime)) as http:
        back = await approve_at_discord(http)
        params = {**dict(back.params), "code": "made-up"}
        refused = await http.get(back.path, params=params)
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == "Discord did not confirm the sign-in. Please try again."
        declined = await http.get(back.path, params={"state": back.params["state"], "error": "access_denied"})
        assert declined.status_code == 401


async def test_a_taken_name_gets_the_discord_id_appended(runtime: Runtime) -> None:
    await runtime.exchange.create_user("nelly", role=Role.PLAYER)
    async with client(create_app(runtime)) as http:
        back = await approve_at_discord(http)
        await http.get(back.path, params=back.params)
        assert (await http.get("/api/v1/me")).json()["name"] == "nelly-80351110224678912"


async def test_without_a_client_secret_discord_sign_in_is_unavailable(
    settings: Settings, clock: FrozenClock
) -> None:
    runtime_without_secret = exchange_runtime(settings, clock, jwt_secret=SecretStr(SECRET))
    async with runtime_without_secret as runtime, client(create_app(runtime)) as http:
        answer = await http.get("/api/v1/auth/discord/login")
    assert answer.status_code == 503
    assert answer.json()["error"]["message"] == "Sign-in with Discord is not configured on this server."
