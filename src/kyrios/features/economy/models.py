"""Points accounts per guild member and their ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime


class Reason(StrEnum):
    """Why points moved; shown in `/points history`."""

    GRANT = "grant"
    REVOKE = "revoke"
    GACHA_PULL = "gacha_pull"
    RUMBLE_WIN = "rumble_win"
    RUMBLE_LOSS = "rumble_loss"
    RUMBLE_STAKE = "rumble_stake"
    EXCHANGE = "exchange"


class EconomyAccount(Base):
    """A member's points in one guild."""

    __tablename__ = "economy_account"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_economy_account_guild_points", "guild_id", "points"),)


class EconomyLedger(Base):
    """One change of points, written in the same transaction as the change."""

    __tablename__ = "economy_ledger"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    delta: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[Reason] = mapped_column(StrEnumColumn(Reason, length=32))
    detail: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_economy_ledger_member", "guild_id", "user_id", "id"),)
