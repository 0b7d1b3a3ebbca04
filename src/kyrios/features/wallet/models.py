"""The wallet tables: a guild's rules, the one-time challenges, the verified links, the roles given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime
from kyrios.features.wallet.chains import Chain


class WalletSettings(Base):
    """Whether a guild's members must link a wallet, on which chains (comma-separated), the role
    a verified member gets, and which features need a wallet (comma-separated; empty: all)."""

    __tablename__ = "wallet_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_chains: Mapped[str] = mapped_column(String(64), default="ETH,SOL")
    role_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    gated_features: Mapped[str] = mapped_column(String(255), default="")


class WalletChallenge(Base):
    """A sign-in message issued to one user for one address; usable once, until `expires_at`."""

    __tablename__ = "wallet_challenge"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    """Where it was asked for: the guild whose role a verification gives."""
    user_id: Mapped[int] = mapped_column(Snowflake)
    chain: Mapped[Chain] = mapped_column(StrEnumColumn(Chain, length=8))
    address: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    """The exact text to sign; the signature is checked over these bytes."""
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (Index("ix_wallet_challenge_user_issued", "user_id", "issued_at"),)


class WalletLink(Base):
    """A verified wallet: one user's, in every guild (one wallet, one user: unique on its key)."""

    __tablename__ = "wallet_link"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    chain: Mapped[Chain] = mapped_column(StrEnumColumn(Chain, length=8))
    key_hex: Mapped[str] = mapped_column(String(64))
    """The address's raw bytes in lower-case hex: what uniqueness is decided on."""
    address: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(Snowflake, index=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("chain", "key_hex"),)


class WalletRoleGrant(Base):
    """A guild's wallet role given to a member for a verified wallet (taken back at unlink)."""

    __tablename__ = "wallet_role_grant"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False, index=True)
    role_id: Mapped[int] = mapped_column(BigInteger)
