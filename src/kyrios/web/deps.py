"""FastAPI dependencies every route may ask for: the runtime, the caller, the request's language.

    @router.get("/api/v1/portfolio")
    async def portfolio(runtime: RuntimeDep, user: CurrentUser, locale: LocaleDep) -> Portfolio: ...

The caller is found by the `Authenticator` the app was built with (`create_app(runtime,
authenticator=…)`); without one every route that needs a caller answers 401.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Protocol

from fastapi import Depends, Request

from kyrios.runtime import Runtime
from kyrios.web.errors import NOT_SIGNED_IN, NotAuthenticated
from kyrios.web.locale import request_locale


@dataclass(frozen=True)
class ApiUser:
    """Who is calling: a Discord user, how they proved it, and what they may do."""

    user_id: int
    """Their Discord user id (the same account a slash command acts for); 0 for an account without
    one (a BOT's API key)."""
    name: str
    method: str
    """How the request was authenticated, e.g. "session", "jwt", "api_key"."""
    scopes: frozenset[str] = field(default_factory=frozenset)
    """What the credential allows (an API key may be read-only); empty means everything."""
    account_id: int | None = None
    """Their exchange account (`exchange_user.id`), when the authenticator knows it."""

    def may(self, scope: str) -> bool:
        """True when the credential allows `scope`."""
        return not self.scopes or scope in self.scopes


class Authenticator(Protocol):
    """Finds the caller of a request (OAuth2 session, JWT bearer token, API key …).

    Returns None when the request carries no credentials this authenticator knows, and raises
    `NotAuthenticated` for credentials it knows but rejects (expired, revoked, forged).
    """

    async def __call__(self, request: Request) -> ApiUser | None: ...


def runtime(request: Request) -> Runtime:
    """The runtime the app was built on."""
    value: Runtime = request.app.state.runtime
    return value


async def current_user(request: Request) -> ApiUser:
    """The authenticated caller; 401 (`unauthorized`) without valid credentials."""
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    user = await authenticator(request) if authenticator is not None else None
    if user is None:
        raise NotAuthenticated(NOT_SIGNED_IN)
    return user


RuntimeDep = Annotated[Runtime, Depends(runtime)]
CurrentUser = Annotated[ApiUser, Depends(current_user)]
LocaleDep = Annotated[str, Depends(request_locale)]
"""The request's language ("en", "ja") from `Accept-Language`."""
