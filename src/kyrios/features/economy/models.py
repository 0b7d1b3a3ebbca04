"""Points accounts per guild member and their ledger."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, Index, Integer, String
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
    DAILY = "daily"
    PAY_SENT = "pay_sent"
    PAY_RECEIVED = "pay_received"
    MESSAGE_ACTIVITY = "message_activity"
    VOICE_ACTIVITY = "voice_activity"


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

    __table_args__ = (
        Index("ix_economy_ledger_member", "guild_id", "user_id", "id"),
        # Weekly and monthly leaderboards read one guild's rows since a moment, nothing older.
        Index("ix_economy_ledger_guild_created", "guild_id", "created_at"),
    )


class EconomySettings(Base):
    """A guild's earning rules (`/earn config`); a guild without a row has the defaults."""

    __tablename__ = "economy_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    daily_amount: Mapped[int] = mapped_column(BigInteger, default=100)  # 0: no /daily
    streak_bonus: Mapped[int] = mapped_column(BigInteger, default=10)  # per consecutive day after the first
    streak_cap: Mapped[int] = mapped_column(Integer, default=7)  # days of bonus at most
    message_points: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: messages earn nothing
    message_cooldown_seconds: Mapped[int] = mapped_column(Integer, default=60)
    voice_points_per_minute: Mapped[int] = mapped_column(BigInteger, default=0)
    pay_daily_limit: Mapped[int] = mapped_column(BigInteger, default=10_000)  # 0: no limit


class EconomyRoleMultiplier(Base):
    """A role's earning multiplier in percent (150 = ×1.5); a member gets the highest of theirs."""

    __tablename__ = "economy_role_multiplier"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    role_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    percent: Mapped[int] = mapped_column(Integer)


class EconomyMember(Base):
    """A member's earning state: the daily streak, today's payments, the activity clocks.

    One row per member, changed only by conditional UPDATEs, so racing commands serialise on it.
    """

    __tablename__ = "economy_member"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    daily_day: Mapped[date | None] = mapped_column(Date, default=None)  # guild-local day of the last /daily
    daily_streak: Mapped[int] = mapped_column(Integer, default=0)
    pay_day: Mapped[date | None] = mapped_column(Date, default=None)
    pay_sent: Mapped[int] = mapped_column(BigInteger, default=0)  # sent on `pay_day`
    message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # last paid message
    voice_since: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # in voice since
