"""`/api/v1/me` and `/api/v1/auth/…`: dev login, refresh, logout, API keys (admin)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import Forbidden
from kyrios.exchange import accounts
from kyrios.exchange.models import Role
from kyrios.web.auth import api_keys, discord_oauth, sessions
from kyrios.web.auth.cookies import REFRESH_COOKIE, clear_session_cookies, set_session_cookies
from kyrios.web.auth.kit import AuthKit, check_csrf
from kyrios.web.auth.messages import ADMIN_ONLY, DISCORD_STATE_MISMATCH, REFRESH_INVALID, SCOPE_MISSING
from kyrios.web.deps import ApiUser, CurrentUser, RuntimeDep
from kyrios.web.errors import NotAuthenticated, error_responses


class Me(BaseModel):
    """The caller, as the API sees them."""

    user_id: int
    name: str
    method: str
    scopes: list[str]
    account_id: int | None


class DevLogin(BaseModel):
    """Sign in locally under a name (local mode only)."""

    name: str = Field(max_length=64)


class RefreshRequest(BaseModel):
    """An API client's refresh token (a browser's comes in its cookie)."""

    refresh_token: str | None = None


class Session(BaseModel):
    """A new session: the bearer access token and the refresh token that renews it."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int
    refresh_token: str


class NewApiKey(BaseModel):
    """Create an API key for a BOT account (`read`, `trade`) or an ADMIN account (`admin`); `user`:
    its username or id; `scopes` left out: all its role allows."""

    user: str
    scopes: list[str] | None = None
    label: str = Field(default="", max_length=64)


class ApiKeyCreated(BaseModel):
    """The key, shown this once."""

    id: int
    key_id: str
    key: str
    account_id: int
    scopes: list[str]


def require_scope(scope: str) -> Callable[[ApiUser], Awaitable[ApiUser]]:
    """A dependency: the caller, if their credential allows `scope` (403 otherwise)."""

    async def caller(user: CurrentUser) -> ApiUser:
        if not user.may(scope):
            raise Forbidden(SCOPE_MISSING, scope=scope)
        return user

    return caller


async def exchange_admin(user: CurrentUser, runtime: RuntimeDep) -> ApiUser:
    """The caller, if they are an ADMIN exchange account: signed in, or by an API key with the
    `admin` scope (only an ADMIN account's keys have it); 403 otherwise."""
    async with runtime.db.read() as session:
        account = (
            None if user.account_id is None else await accounts.find_user(session, user_id=user.account_id)
        )
    by_key = user.method == "api_key"
    if account is None or account.role != Role.ADMIN or (by_key and api_keys.ADMIN_SCOPE not in user.scopes):
        raise Forbidden(ADMIN_ONLY)
    return user


ExchangeAdmin = Annotated[ApiUser, Depends(exchange_admin)]


def build_router(kit: AuthKit) -> APIRouter:
    """The auth routes of one runtime."""
    router = APIRouter(tags=["auth"], responses=error_responses(400, 401, 403, 404, 409, 422, 503))
    runtime = kit.runtime

    def start_session(request: Request, response: Response, access: str, refresh: str) -> Session:
        set_session_cookies(
            request,
            response,
            access_token=access,
            access_seconds=int(kit.access_lifetime.total_seconds()),
            refresh_token=refresh,
            refresh_seconds=int(kit.refresh_lifetime.total_seconds()),
            csrf_token=kit.new_csrf_token(),
        )
        return Session(
            access_token=access, expires_in=int(kit.access_lifetime.total_seconds()), refresh_token=refresh
        )

    def presented_refresh_token(request: Request, body: RefreshRequest | None) -> str:
        if body is not None and body.refresh_token:
            return body.refresh_token
        cookie = request.cookies.get(REFRESH_COOKIE)
        if not cookie:
            raise NotAuthenticated(REFRESH_INVALID)
        check_csrf(request)  # a browser's cookie: the page must prove it made the request
        return cookie

    @router.get("/api/v1/me")
    async def me(user: CurrentUser) -> Me:
        """Who the credentials of this request belong to."""
        return Me(
            user_id=user.user_id,
            name=user.name,
            method=user.method,
            scopes=sorted(user.scopes),
            account_id=user.account_id,
        )

    @router.post("/api/v1/auth/dev-login")
    async def dev_login(body: DevLogin, request: Request, response: Response) -> Session:
        """Sign in without Discord (local mode only): opens the name's local account on first use."""
        account = await kit.dev_account(body.name)
        access, refresh = await kit.sign_in(account)
        return start_session(request, response, access, refresh)

    discord = discord_oauth.DiscordOAuth(runtime.settings)

    def redirect_uri(request: Request) -> str:
        configured = runtime.settings.discord_redirect_uri
        return configured or str(request.url.replace(path=discord_oauth.CALLBACK_PATH, query=""))

    @router.get("/api/v1/auth/discord/login", status_code=302, response_class=RedirectResponse)
    async def discord_login(request: Request) -> RedirectResponse:
        """Send the browser to Discord to sign in (`identify`), bound to this browser by a state cookie."""
        state = discord_oauth.new_state()
        response = RedirectResponse(discord.authorize_url(state, redirect_uri(request)), status_code=302)
        response.set_cookie(
            discord_oauth.STATE_COOKIE,
            state,
            max_age=discord_oauth.STATE_SECONDS,
            path=discord_oauth.CALLBACK_PATH,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    @router.get(discord_oauth.CALLBACK_PATH, status_code=303, response_class=RedirectResponse)
    async def discord_callback(
        request: Request, code: str | None = None, state: str | None = None
    ) -> RedirectResponse:
        """Where Discord sends the browser back: check the state, ask Discord who it is, sign them in."""
        expected = request.cookies.get(discord_oauth.STATE_COOKIE, "")
        if not state or not expected or not hmac.compare_digest(state.encode(), expected.encode()):
            raise Forbidden(DISCORD_STATE_MISMATCH)
        identity = await discord.identify(code or "", redirect_uri(request))
        account = await kit.discord_account(identity.id, identity.username)
        access, refresh = await kit.sign_in(account)
        response = RedirectResponse("/", status_code=303)
        start_session(request, response, access, refresh)
        response.delete_cookie(discord_oauth.STATE_COOKIE, path=discord_oauth.CALLBACK_PATH)
        return response

    @router.post("/api/v1/auth/refresh")
    async def refresh(request: Request, response: Response, body: RefreshRequest | None = None) -> Session:
        """Exchange the refresh token for a new pair; the old one is spent (shown again, it revokes the
        session)."""
        outcome = await kit.refresh_store.rotate(presented_refresh_token(request, body))
        if isinstance(outcome, sessions.Refusal):
            raise NotAuthenticated(REFRESH_INVALID)  # after the family's revocation committed
        account, new_refresh = outcome
        return start_session(request, response, kit.access_token(account), new_refresh)

    @router.post("/api/v1/auth/logout", status_code=204)
    async def logout(request: Request, body: RefreshRequest | None = None) -> Response:
        """Revoke the session's refresh tokens and clear the browser's cookies."""
        await kit.refresh_store.revoke(presented_refresh_token(request, body))
        response = Response(status_code=204)
        clear_session_cookies(request, response)
        return response

    @router.post("/api/v1/auth/api-keys", status_code=201)
    async def create_api_key(body: NewApiKey, caller: ExchangeAdmin) -> ApiKeyCreated:
        """Create a key for a BOT or ADMIN account (exchange admins only); the key is in this answer only."""
        now = runtime.clock.now()

        async def work(session: AsyncSession) -> api_keys.NewKey:
            bot = await accounts.resolve_user(session, body.user)
            return await api_keys.create_key(
                session, bot, scopes=body.scopes, label=body.label, created_by=caller.account_id, now=now
            )

        new = await runtime.db.run(work)
        return ApiKeyCreated(
            id=new.id, key_id=new.key_id, key=new.key, account_id=new.account_id, scopes=list(new.scopes)
        )

    @router.delete("/api/v1/auth/api-keys/{key_id}", status_code=204)
    async def revoke_api_key(key_id: str, _caller: ExchangeAdmin) -> Response:
        """Revoke a key at once (exchange admins only)."""
        now = runtime.clock.now()
        await runtime.db.run(lambda session: api_keys.revoke_key(session, key_id, now=now))
        return Response(status_code=204)

    return router
