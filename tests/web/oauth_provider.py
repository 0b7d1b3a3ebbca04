"""A local OAuth2 provider speaking Discord's endpoints and JSON, for the sign-in tests.

`/oauth2/authorize` approves at once as `provider.user` and sends the browser back with a code;
`/api/v10/oauth2/token` checks the client's credentials, the code (once) and the redirect URI;
`/api/v10/users/@me` answers for the token it issued. What the app sent is kept for asserting.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlencode

from aiohttp import web

CLIENT_ID = "999"
CLIENT_SECRET = "client-secret-of-the-test-app"


@dataclass
class Grant:
    """A code given to the browser: for whom, and for which redirect URI."""

    user: dict[str, object]
    redirect_uri: str


@dataclass
class DiscordOAuthProvider:
    """The provider; `async with DiscordOAuthProvider() as provider:` serves it on a free port."""

    user: dict[str, object] = field(
        default_factory=lambda: {
            "id": "80351110224678912",
            "username": "nelly",
            "global_name": "Nelly",
            "discriminator": "0",
            "avatar": None,
        }
    )
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _grants: dict[str, Grant] = field(default_factory=dict)
    _tokens: dict[str, dict[str, object]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or query.get("scope") != "identify":
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_hex(8)
        self._grants[code] = Grant(dict(self.user), query["redirect_uri"])
        back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        raise web.HTTPFound(back)

    async def token(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self._grants.pop(form.get("code", ""), None)
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        access = secrets.token_hex(16)
        self._tokens[access] = grant.user
        return web.json_response(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 604800,
                "refresh_token": secrets.token_hex(16),
                "scope": "identify",
            }
        )

    async def me(self, request: web.Request) -> web.Response:
        user = self._tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if user is None:
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response(user)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/oauth2/authorize", self.authorize)
        app.router.add_post("/api/v10/oauth2/token", self.token)
        app.router.add_get("/api/v10/users/@me", self.me)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
