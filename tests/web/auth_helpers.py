"""Shared set-up of the auth tests: a runtime that runs the exchange, its app, an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from pydantic import SecretStr

from kyrios.core.clock import FrozenClock
from kyrios.core.rng import RandomSource
from kyrios.exchange.owner import ExchangeLease
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.database import wipe
from kyrios.web.auth.cookies import CSRF_COOKIE, CSRF_HEADER
from kyrios.web.auth.tokens import AccessTokens
from kyrios.web.main import KyriosApp, create_app

SECRET = "test-secret-" + "x" * 60  # 72 bytes: long enough for the HS512 forgery too


@asynccontextmanager
async def exchange_runtime(
    settings: Settings, clock: FrozenClock, **changes: object
) -> AsyncIterator[Runtime]:
    """A runtime on a clean database that runs the exchange (so sign-in can open accounts)."""
    runtime = build_runtime(settings.model_copy(update=changes), clock=clock, rng=RandomSource(7))
    await wipe(runtime.db)
    try:
        await runtime.start()  # the Redis bus, when the settings name Redis
        lease = ExchangeLease(runtime.db, program="auth tests")
        await lease.acquire()
        await runtime.run_exchange(lease)
        yield runtime
    finally:
        await runtime.aclose()


def client(app: KyriosApp, scheme: str = "http") -> httpx.AsyncClient:
    """An HTTP client for the app (cookies kept like a browser's)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"{scheme}://testserver")


def tokens_for(runtime: Runtime, secret: str = SECRET) -> AccessTokens:
    """A signer with the app's secret (or another one), on the runtime's clock."""
    return AccessTokens(
        secret.encode(), runtime.clock, timedelta(seconds=runtime.settings.access_token_seconds)
    )


def csrf(http: httpx.AsyncClient) -> dict[str, str]:
    """The header a page sends with a cookie-authenticated write: the CSRF cookie echoed."""
    return {CSRF_HEADER: http.cookies[CSRF_COOKIE]}


__all__ = ["SECRET", "SecretStr", "client", "create_app", "csrf", "exchange_runtime", "tokens_for"]
