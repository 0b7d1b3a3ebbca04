"""The rumble tables: the guild's rules, each battle (with its seed and log), and each player's record."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime


class RumbleSettings(Base):
    """A guild's rumble rules: points per win and per loss, the cooldown between battles, how long a
    challenge waits for an answer and the largest stake."""

    __tablename__ = "rumble_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    points_per_win: Mapped[int] = mapped_column(BigInteger, default=50)
    points_per_loss: Mapped[int] = mapped_column(BigInteger, default=10)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=30)
    challenge_timeout_seconds: Mapped[int] = mapped_column(Integer, default=60)
    max_stake: Mapped[int] = mapped_column(BigInteger, default=10_000)


class BattleStatus(StrEnum):
    """A challenge's life: pending until the opponent answers or it expires."""

    PENDING = "pending"
    FOUGHT = "fought"
    DECLINED = "declined"
    EXPIRED = "expired"


class RumbleBattle(Base):
    """One challenge and, once accepted, its battle: the seed and the players' bonuses recompute the log."""

    __tablename__ = "rumble_battle"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    challenger_id: Mapped[int] = mapped_column(Snowflake)
    opponent_id: Mapped[int] = mapped_column(Snowflake)
    stake: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[BattleStatus] = mapped_column(StrEnumColumn(BattleStatus, length=16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    seed: Mapped[int | None] = mapped_column(BigInteger, default=None)
    challenger_bonus: Mapped[int] = mapped_column(Integer, default=0)
    opponent_bonus: Mapped[int] = mapped_column(Integer, default=0)
    winner_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    loser_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    winner_points: Mapped[int] = mapped_column(BigInteger, default=0)
    loser_points: Mapped[int] = mapped_column(BigInteger, default=0)
    log: Mapped[str] = mapped_column(Text, default="")
    """The rounds as compact text (`battle.encode`); `/rumble replay` recomputes and compares them."""

    __table_args__ = (
        # seed 000's ServerTimeIndex: a guild's battles by time
        Index("ix_rumble_battle_guild_time", "guild_id", "resolved_at"),
        Index("ix_rumble_battle_challenger", "guild_id", "challenger_id", "resolved_at"),
        Index("ix_rumble_battle_opponent", "guild_id", "opponent_id", "resolved_at"),
        Index("ix_rumble_battle_winner", "guild_id", "winner_id", "resolved_at"),
    )


class RumblePlayer(Base):
    """A member's rumble record in one guild, and the lock that keeps them in one challenge at a time."""

    __tablename__ = "rumble_player"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    wins: Mapped[int] = mapped_column(Integer, default=0)
    losses: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int] = mapped_column(Integer, default=1000)
    points_won: Mapped[int] = mapped_column(BigInteger, default=0)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    pending_battle_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    pending_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_battle_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (Index("ix_rumble_player_guild_wins", "guild_id", "wins"),)
