"""API keys: `kyr_<key_id>_<secret>`, shown once, stored as the secret's SHA-256.

`key_id` (public, 12 hex digits) finds the row; the secret (256 random bits) is compared in
constant time against the stored hash. A key is revocable and carries scopes: a BOT account's
`read` and/or `trade`; an ADMIN account's only `admin` (the admin API, for scripts such as
`kyrios bots` funding its accounts: such a key can neither read nor trade as the admin).
A PLAYER account has no keys: people sign in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql
from kyrios.core.errors import InvalidInput, NotFound
from kyrios.exchange.models import ExchangeUser, Role
from kyrios.web.auth.messages import NO_SUCH_KEY, NOT_A_BOT, UNKNOWN_SCOPE
from kyrios.web.auth.tables import AuthApiKey

PREFIX = "kyr_"
# Read on every request an API key signs: driver-level, as a hot path.
_KEY_OWNER = (
    "SELECT k.secret_hash, k.revoked_at, k.scopes, u.id, u.discord_id, u.username"
    " FROM auth_api_key k JOIN exchange_user u ON u.id = k.account_id WHERE k.key_id = ?"
)
SCOPES = ("read", "trade")
"""A BOT's scopes: `read`: the caller's own data and the market; `trade`: place and cancel orders."""
ADMIN_SCOPE = "admin"
"""An ADMIN account's one scope: the admin API (`/api/v1/admin`, API key management)."""
SCOPES_OF_ROLE = {Role.BOT: SCOPES, Role.ADMIN: (ADMIN_SCOPE,)}
"""What a key of each role may carry, and carries when no scopes are named."""


@dataclass(frozen=True)
class KeyOwner:
    """The account a valid key acts for, and what the key allows."""

    account_id: int
    discord_id: int | None
    name: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class NewKey:
    """A key just created: `key` is shown this once and never again."""

    id: int
    key_id: str
    key: str
    account_id: int
    scopes: tuple[str, ...]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: list[str], allowed: tuple[str, ...] = SCOPES) -> tuple[str, ...]:
    """The scopes, deduplicated in the canonical order; `InvalidInput` for one not `allowed`."""
    for scope in scopes:
        if scope not in allowed:
            raise InvalidInput(UNKNOWN_SCOPE, scope=scope, scopes=", ".join(allowed))
    return tuple(scope for scope in allowed if scope in scopes)


async def create_key(
    session: AsyncSession,
    user: ExchangeUser,
    *,
    scopes: list[str] | None,
    label: str,
    created_by: int | None,
    now: datetime,
) -> NewKey:
    """A new key for a BOT or ADMIN account (`scopes` None: all its role allows)."""
    allowed = SCOPES_OF_ROLE.get(user.role)
    if allowed is None:
        raise InvalidInput(NOT_A_BOT, user=user.username)
    granted = check_scopes(list(allowed) if scopes is None else scopes, allowed)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = AuthApiKey(
        key_id=key_id,
        secret_hash=_hash(secret),
        account_id=user.id,
        label=label,
        scopes=" ".join(granted),
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return NewKey(
        id=row.id, key_id=key_id, key=f"{PREFIX}{key_id}_{secret}", account_id=user.id, scopes=granted
    )


async def revoke_key(session: AsyncSession, key_id: str, *, now: datetime) -> None:
    """Revoke a key (again is fine); `NotFound` for an unknown key."""
    row = await session.scalar(select(AuthApiKey).where(AuthApiKey.key_id == key_id))
    if row is None:
        raise NotFound(NO_SUCH_KEY, key_id=key_id)
    if row.revoked_at is None:
        row.revoked_at = now
        await session.flush()


async def key_owner(session: AsyncSession, key: str) -> KeyOwner | None:
    """Who a presented key acts for; None when it is malformed, unknown, revoked or its secret is wrong."""
    parts = key.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != PREFIX or not parts[1] or not parts[2]:
        return None
    _, key_id, secret = parts
    found = await (await Sql.of(session)).one(_KEY_OWNER, (key_id,))
    if found is None:
        return None
    secret_hash, revoked_at, scopes, account_id, discord_id, username = found
    if revoked_at is not None or not hmac.compare_digest(secret_hash, _hash(secret)):
        return None
    return KeyOwner(
        account_id=int(account_id),
        discord_id=None if discord_id is None else int(discord_id),
        name=username,
        scopes=frozenset(scopes.split()),
    )
