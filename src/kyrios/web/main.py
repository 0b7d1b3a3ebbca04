"""`create_app(runtime)`: the FastAPI application of one runtime."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from kyrios import __version__
from kyrios.features.avatars import routes as avatar_routes
from kyrios.ops import logs
from kyrios.runtime import Runtime
from kyrios.settings import require_production_ready
from kyrios.slash.respond import DEFAULT_BUDGET_SECONDS
from kyrios.web import interactions, ops, pages, wallet
from kyrios.web.api import admin as admin_api
from kyrios.web.api import market, net_worth
from kyrios.web.api import trading as trading_api
from kyrios.web.auth.kit import AuthKit
from kyrios.web.auth.routes import build_router as build_auth_router
from kyrios.web.deps import Authenticator
from kyrios.web.errors import install_error_handlers
from kyrios.web.ws import install as install_websocket


class KyriosApp(FastAPI):
    """FastAPI with `/interactions` answered by a bare ASGI endpoint ahead of the framework's layers.

    Why not a `Route`: mounted as a Starlette route (same endpoint, first in the router), each
    interaction also crosses FastAPI's middleware stack and router. `bench/interactions.py
    --seconds 8`, alternating the two ways on this 2-core host, measured the server's CPU per
    `/gacha pull` at 938 µs here against 1,054 µs as a route (means of 8 runs each: +12 %;
    throughputs too noisy on a shared host to tell apart), and in process a signed PING took
    about 100 µs more as a route. A route costs far more than 3 % on the path Discord times.
    """

    interactions: interactions.InteractionsEndpoint | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Route `/interactions` straight to its endpoint, everything else through FastAPI; each
        HTTP request's log lines carry its `request_id` (the caller's `X-Request-ID`, else a new one)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        with logs.bound(request_id=_request_id(scope)):
            endpoint = self.interactions
            if endpoint is not None and _route_path(scope) == "/interactions":
                await endpoint(scope, receive, send)
                return
            await super().__call__(scope, receive, send)


def _request_id(scope: Any) -> str:
    for name, value in scope["headers"]:
        if name == logs.REQUEST_ID_HEADER:
            given = str(value.decode("latin-1"))
            if 0 < len(given) <= 64 and given.isprintable():
                return given
    return secrets.token_hex(8)


def _route_path(scope: Any) -> str:
    """The path below the app's mount point (`root_path`, e.g. an API Gateway stage), as routers see it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path


def create_app(
    runtime: Runtime,
    *,
    owns_runtime: bool = False,
    authenticator: Authenticator | None = None,
    reply_budget: float = DEFAULT_BUDGET_SECONDS,
    inline_replies: bool = False,
) -> KyriosApp:
    """Build the web app: interactions endpoint, operations routes, the error table.

    `authenticator` finds API callers (`deps.current_user`; default: `web.auth`'s JWTs, sessions and
    API keys, whose routes are mounted either way); `reply_budget` is how long
    an interaction's command may run before its answer is deferred; `inline_replies` runs each
    interaction's reply path in its request's task, for servers that let the app run on after the
    response (uvicorn; see `interactions.InteractionsEndpoint`). The app closes the runtime
    at shutdown if it `owns_runtime`.
    """
    verifier = interactions.SignatureVerifier(
        runtime.settings.discord_public_key, runtime.settings.interaction_max_age_seconds
    )
    endpoint = interactions.InteractionsEndpoint(
        runtime, verifier, reply_budget=reply_budget, inline=inline_replies
    )
    auth_kit = AuthKit(runtime)  # refuses production mode without a JWT secret

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owns_runtime:
            await runtime.start()  # e.g. connects the Redis bus the commands publish on
        yield
        await endpoint.aclose()  # late interaction replies are delivered before the runtime closes
        await auth_kit.aclose()
        if owns_runtime:
            await runtime.aclose()

    app = KyriosApp(title="Kyrios", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.authenticator = authenticator or auth_kit.authenticate
    app.state.auth = auth_kit
    app.state.interactions = endpoint
    app.interactions = endpoint
    install_error_handlers(app)
    app.include_router(ops.build_router(runtime))
    app.include_router(build_auth_router(auth_kit))
    app.include_router(market.router)
    app.include_router(net_worth.router)
    app.include_router(trading_api.build_router(runtime))
    app.include_router(wallet.build_router(runtime))
    app.include_router(avatar_routes.build_router(runtime.db))
    app.include_router(admin_api.router)
    install_websocket(app, runtime, auth_kit)
    pages.install_pages(app)
    return app


def app_from_environment(*, inline_replies: bool = True) -> KyriosApp:
    """Factory for `uvicorn --factory kyrios.web.main:app_from_environment` (settings from KYRIOS_*).

    Interactions run inline (uvicorn sends a response while the app runs on); Lambda's handler
    turns that off.
    """
    from kyrios.runtime import build_runtime

    runtime = build_runtime()
    logs.configure_from(runtime.settings)
    require_production_ready(runtime.settings)  # Lambda: the cold start fails, naming each problem
    return create_app(runtime, owns_runtime=True, inline_replies=inline_replies)
