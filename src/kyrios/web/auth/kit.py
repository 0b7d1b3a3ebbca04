"""`AuthKit`: one runtime's authentication — the access-token signer, the authenticator, sign-in.

The signer's secret is read (or, in local mode, made up) at first use, so building an app that
never signs anybody in touches no file; production mode without a secret is refused at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from kyrios.core.errors import Conflict, Forbidden, InvalidInput
from kyrios.exchange import accounts
from kyrios.exchange.models import Role
from kyrios.runtime import Runtime
from kyrios.web.auth import api_keys, sessions
from kyrios.web.auth.cookies import ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER
from kyrios.web.auth.messages import (
    API_KEY_INVALID,
    CSRF_FAILED,
    DEV_LOGIN_REFUSED,
    NAME_LENGTH,
    NAME_TAKEN,
)
from kyrios.web.auth.secret import check_secret_configured, resolve_secret
from kyrios.web.auth.stores import RefreshStore, store_for
from kyrios.web.auth.tokens import AccessTokens
from kyrios.web.deps import ApiUser
from kyrios.web.errors import NotAuthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEV_ID_LIMIT = 2**31
"""Dev-login accounts get a made-up Discord id below this; real snowflakes are far larger."""


def dev_discord_id(name: str) -> int:
    """The stable stand-in Discord id of a dev-login name (1 … 2³¹-1)."""
    digest = int.from_bytes(hashlib.sha256(f"kyrios-dev:{name}".encode()).digest()[:8], "big")
    return 1 + digest % (DEV_ID_LIMIT - 1)


def check_csrf(request: Request) -> None:
    """Double submit: the `kyrios_csrf` cookie and the `X-CSRF-Token` header must be present and equal."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise Forbidden(CSRF_FAILED)


class AuthKit:
    """Authentication for one runtime's web app."""

    def __init__(self, runtime: Runtime) -> None:
        check_secret_configured(runtime.settings)
        self.runtime = runtime
        self.access_lifetime = timedelta(seconds=runtime.settings.access_token_seconds)
        self.refresh_lifetime = timedelta(days=runtime.settings.refresh_token_days)
        self.refresh_store: RefreshStore = store_for(
            runtime.db, runtime.clock, self.refresh_lifetime, runtime.settings.redis_url
        )

    async def aclose(self) -> None:
        """Release the session store's connections (the app's shutdown)."""
        await self.refresh_store.aclose()

    @cached_property
    def tokens(self) -> AccessTokens:
        """The access-token signer (its secret resolved on first use)."""
        return AccessTokens(resolve_secret(self.runtime.settings), self.runtime.clock, self.access_lifetime)

    async def authenticate(self, request: Request) -> ApiUser | None:
        """The `Authenticator`: an API key (`X-API-Key` or `Bearer kyr_…`), a bearer JWT, or the access
        cookie (then an unsafe method also needs the CSRF token); None without any of them."""
        key = request.headers.get("x-api-key")
        if key:
            return await self._api_key_user(key.strip())
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and credential:
            if credential.startswith(api_keys.PREFIX):
                return await self._api_key_user(credential)
            return self._token_user(credential, "jwt")
        cookie = request.cookies.get(ACCESS_COOKIE)
        if cookie:
            user = self._token_user(cookie, "session")
            if request.method not in SAFE_METHODS:
                check_csrf(request)
            return user
        return None

    def _token_user(self, token: str, method: str) -> ApiUser:
        claims = self.tokens.verify(token)
        return ApiUser(claims.discord_id, claims.name, method, account_id=claims.account_id)

    async def _api_key_user(self, key: str) -> ApiUser:
        async with self.runtime.db.read() as session:
            owner = await api_keys.key_owner(session, key)
        if owner is None:
            raise NotAuthenticated(API_KEY_INVALID)
        return ApiUser(
            owner.discord_id or 0, owner.name, "api_key", owner.scopes, account_id=owner.account_id
        )

    async def sign_in(self, account: sessions.Account) -> tuple[str, str]:
        """A new session for `account`: (access token, refresh token)."""
        return self.access_token(account), await self.refresh_store.open(account)

    def access_token(self, account: sessions.Account) -> str:
        """A fresh access token for `account`."""
        return self.tokens.issue(
            discord_id=account.discord_id, name=account.name, account_id=account.account_id
        )

    async def dev_account(self, name: str) -> sessions.Account:
        """The local account of a dev-login name, opened on first use; refused in production mode."""
        if self.runtime.settings.mode != "local":
            raise Forbidden(DEV_LOGIN_REFUSED)
        name = name.strip()
        if not 1 <= len(name) <= 32:
            raise InvalidInput(NAME_LENGTH)
        discord_id = dev_discord_id(name)

        async def find(session: AsyncSession) -> sessions.Account | None:
            user = await accounts.find_user(session, username=name)
            if user is None:
                return None
            if user.discord_id != discord_id:
                raise Conflict(NAME_TAKEN, name=name)
            return sessions.Account(user.id, discord_id, user.username)

        async with self.runtime.db.read() as session:
            found = await find(session)
        if found is not None:
            return found
        view = await self.runtime.exchange.create_user(name, role=Role.PLAYER, discord_id=discord_id)
        return sessions.Account(view.id, discord_id, view.username)

    async def discord_account(self, discord_id: int, username: str) -> sessions.Account:
        """The exchange account of a Discord user, opened (as a PLAYER) at their first sign-in; the
        name is their Discord username, with their id appended if another account has it."""
        async with self.runtime.db.read() as session:
            user = await accounts.find_user(session, discord_id=discord_id)
            taken = user is None and await accounts.find_user(session, username=username) is not None
        if user is not None:
            return sessions.Account(user.id, discord_id, user.username)
        name = f"{username[:40]}-{discord_id}" if taken else username[:64]
        view = await self.runtime.exchange.create_user(name, role=Role.PLAYER, discord_id=discord_id)
        return sessions.Account(view.id, discord_id, view.username)

    @staticmethod
    def new_csrf_token() -> str:
        """A fresh double-submit token."""
        return secrets.token_urlsafe(24)
