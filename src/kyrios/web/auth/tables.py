"""The web door's own tables: refresh-token sessions and API keys (Alembic branch `web_auth`).

They are not a slice's, so they live in their own `MetaData` (`AUTH_METADATA`), kept out of
`Base.metadata` (which is exactly the slices' tables); Alembic's autogenerate, the schema test and
the test wiper take both. Secrets are never stored: only their SHA-256 (they are 256-bit random,
so a plain hash is enough, unlike a password).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kyrios.core.models import NAMING_CONVENTION, BigIntPK, Snowflake, UTCDateTime
from kyrios.exchange.models import ExchangeUser

MIGRATION_BRANCH = "web_auth"


class AuthBase(DeclarativeBase):
    """Declarative base of the web door's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


AUTH_METADATA = AuthBase.metadata


class AuthSession(AuthBase):
    """One refresh token of a sign-in. Using it rotates it: it is marked `rotated` and a new one of the
    same `family` is issued; presenting a rotated one again revokes the whole family (token theft)."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(ForeignKey(ExchangeUser.id))
    discord_id: Mapped[int] = mapped_column(Snowflake)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    """`rotated`, `logout` or `reuse`."""

    __table_args__ = (Index("ix_auth_session_family", "family"),)


class AuthApiKey(AuthBase):
    """An API key of a BOT account: `kyr_<key_id>_<secret>`, shown once; the secret's hash is kept."""

    __tablename__ = "auth_api_key"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey(ExchangeUser.id))
    label: Mapped[str] = mapped_column(String(64), default="")
    scopes: Mapped[str] = mapped_column(String(128))
    """Space-separated (`read trade`)."""
    created_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The admin's exchange account."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
