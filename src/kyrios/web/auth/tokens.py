"""Short-lived access tokens: HS256 JWTs (PyJWT) naming the Discord user and the exchange account.

Claims: `sub` (the Discord user id, as a string), `name`, `acc` (the exchange account id), `iat`,
`exp`, `jti`, `typ` ("access"). Only HS256 is accepted (so `alg: none` and any other algorithm
fail), every claim is required, and expiry is judged on the runtime's clock, not the host's
(tests freeze and advance it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from kyrios.core.clock import Clock
from kyrios.web.auth.messages import SESSION_EXPIRED, SESSION_INVALID
from kyrios.web.errors import NotAuthenticated

ALGORITHM = "HS256"
ACCESS = "access"
REQUIRED_CLAIMS = ("sub", "name", "acc", "iat", "exp", "jti", "typ")


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token says."""

    discord_id: int
    name: str
    account_id: int
    token_id: str


class AccessTokens:
    """Issues and checks access tokens with one secret."""

    def __init__(self, secret: bytes, clock: Clock, lifetime: timedelta) -> None:
        self._secret = secret
        self._clock = clock
        self.lifetime = lifetime

    def issue(self, *, discord_id: int, name: str, account_id: int) -> str:
        """A signed access token for this user, valid for `lifetime` from now."""
        now = self._clock.now()
        claims: dict[str, Any] = {
            "sub": str(discord_id),
            "name": name,
            "acc": account_id,
            "iat": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": ACCESS,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The token's claims; `NotAuthenticated` if it is forged, malformed, of another type or expired."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(SESSION_INVALID) from exc
        if claims.get("typ") != ACCESS:
            raise NotAuthenticated(SESSION_INVALID)
        try:
            discord_id, expires = int(claims["sub"]), int(claims["exp"])
            name, account_id, token_id = str(claims["name"]), int(claims["acc"]), str(claims["jti"])
        except (TypeError, ValueError) as exc:
            raise NotAuthenticated(SESSION_INVALID) from exc
        if expires <= self._clock.now().timestamp():
            raise NotAuthenticated(SESSION_EXPIRED)
        return AccessClaims(discord_id=discord_id, name=name, account_id=account_id, token_id=token_id)
