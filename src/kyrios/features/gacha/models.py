"""Gacha tables: the guild's rules, items per guild, daily claims, pulls, per-member pity counters
and owned items."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, StrEnumColumn, UTCDateTime


class Rarity(StrEnum):
    """Rarities from common to legendary."""

    N = "N"
    R = "R"
    SR = "SR"
    SSR = "SSR"

    @property
    def rank(self) -> int:
        """0 for N … 3 for SSR."""
        return _RANKS[self]

    @property
    def stars(self) -> str:
        """A star rating for display."""
        return "★" * (self.rank + 1)


_RANKS = {rarity: rank for rank, rarity in enumerate(Rarity)}


class GachaSettings(Base):
    """A guild's gacha rules (`/gacha config`); a guild without a row has the defaults."""

    __tablename__ = "gacha_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    pull_cost: Mapped[int] = mapped_column(BigInteger, default=100)
    pity_threshold: Mapped[int] = mapped_column(Integer, default=50)  # 0: no pity
    daily_free: Mapped[bool] = mapped_column(Boolean, default=True)


class GachaItem(Base):
    """An item in a guild's gacha table. Removed items stay (inactive) so history keeps its names."""

    __tablename__ = "gacha_item"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake, index=True)
    name: Mapped[str] = mapped_column(String(64))
    rarity: Mapped[Rarity] = mapped_column(StrEnumColumn(Rarity, length=8))
    weight: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("guild_id", "name"),)


class GachaDailyClaim(Base):
    """The free pull of one guild-local day; the primary key makes it one per member and day."""

    __tablename__ = "gacha_daily_claim"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GachaPull(Base):
    """One pull and what it gave; `seed` and `seq` replay the draw."""

    __tablename__ = "gacha_pull"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    item_id: Mapped[int] = mapped_column(ForeignKey("gacha_item.id"))
    item_name: Mapped[str] = mapped_column(String(64))
    rarity: Mapped[Rarity] = mapped_column(StrEnumColumn(Rarity, length=8))
    cost_points: Mapped[int] = mapped_column(BigInteger, default=0)
    free: Mapped[bool] = mapped_column(Boolean, default=False)
    pity: Mapped[bool] = mapped_column(Boolean, default=False)
    seed: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_gacha_pull_member", "guild_id", "user_id", "id"),)


class GachaStats(Base):
    """Per-member counters: total pulls and pulls since the last top-rarity item (pity)."""

    __tablename__ = "gacha_stats"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    total_pulls: Mapped[int] = mapped_column(Integer, default=0)
    pulls_since_top: Mapped[int] = mapped_column(Integer, default=0)
    top_pulls: Mapped[int] = mapped_column(Integer, default=0)
    # Hints that save a pull two statements; the daily claims and achievement unlocks stay the
    # record. The guild-local day of the last free pull taken, and one bit per gacha achievement
    # known to be unlocked (set in the same transaction as the unlock, or when it was seen).
    last_free_day: Mapped[date | None] = mapped_column(Date, default=None)
    unlocked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class GachaOwnedItem(Base):
    """How many copies of an item a member owns, kept by each pull in its transaction: counting a
    member's different items reads these rows, never the pull history."""

    __tablename__ = "gacha_owned_item"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("gacha_item.id"), primary_key=True, autoincrement=False)
    copies: Mapped[int] = mapped_column(Integer)
    first_obtained_at: Mapped[datetime] = mapped_column(UTCDateTime)
