"""Refresh tokens: opened at sign-in, rotated on every use, revoked at logout or when one is reused.

Invariants: a token is stored only as its SHA-256; a family (one sign-in) has at most one live
token; rotation marks the old token with a conditional update (`WHERE revoked_at IS NULL`), so of
two requests presenting the same token exactly one gets a new token; the other, and anyone who
presents a rotated token later, revokes the whole family. Functions take the session first and
never commit (the caller's `Database.run` does).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.exchange.models import ExchangeUser
from kyrios.web.auth.tables import AuthSession

ROTATED = "rotated"
LOGOUT = "logout"
REUSE = "reuse"


def token_hash(token: str) -> str:
    """What is stored for a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    """Who a session belongs to."""

    account_id: int
    discord_id: int
    name: str


class Refusal(Enum):
    """Why a refresh token was not accepted."""

    UNKNOWN = "unknown"
    """Never issued, expired, logged out, or revoked with its family earlier."""
    REUSED = "reused"
    """A rotated token presented again: its family has just been revoked."""


async def open_session(
    session: AsyncSession, account: Account, *, now: datetime, lifetime: timedelta, family: str | None = None
) -> str:
    """Store a new refresh token for `account` (a new family unless given) and return it."""
    token = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            family=family or uuid.uuid4().hex,
            account_id=account.account_id,
            discord_id=account.discord_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    await session.flush()
    return token


async def rotate(
    session: AsyncSession, token: str, *, now: datetime, lifetime: timedelta
) -> tuple[Account, str] | Refusal:
    """Exchange a live refresh token for a new one of its family; a rotated one revokes the family."""
    row = await session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))
    if row is None or row.expires_at <= now:
        return Refusal.UNKNOWN
    if row.revoked_at is not None:
        if row.revoked_reason != ROTATED:
            return Refusal.UNKNOWN
        await _revoke_family(session, row.family, now)
        return Refusal.REUSED
    taken = await session.execute(
        update(AuthSession)
        .where(AuthSession.id == row.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=ROTATED)
    )
    assert isinstance(taken, CursorResult)  # an UPDATE's result
    if taken.rowcount != 1:  # another request rotated it first: the same token twice
        await _revoke_family(session, row.family, now)
        return Refusal.REUSED
    user = await session.get(ExchangeUser, row.account_id)
    if user is None:
        return Refusal.UNKNOWN
    account = Account(account_id=user.id, discord_id=row.discord_id, name=user.username)
    return account, await open_session(session, account, now=now, lifetime=lifetime, family=row.family)


async def revoke(session: AsyncSession, token: str, *, now: datetime) -> bool:
    """Log out: revoke the token's whole family; False when the token is unknown."""
    row = await session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(token)))
    if row is None:
        return False
    await _revoke_family(session, row.family, now, reason=LOGOUT)
    return True


async def _revoke_family(session: AsyncSession, family: str, now: datetime, *, reason: str = REUSE) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.family == family, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
