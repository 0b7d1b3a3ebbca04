"""The stock bank's tables: a guild's conversion rules and market notifications, and every
conversion made (for the daily limits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, BigIntPK, Snowflake, UTCDateTime


class StockSettings(Base):
    """A guild's rate, daily limit and market notifications (`/stock config`); a guild without a row
    has the defaults (no notifications)."""

    __tablename__ = "stock_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    cents_per_point: Mapped[int] = mapped_column(BigInteger, default=100)
    """Game cash (in cents) one point buys, and one point costs back."""
    daily_limit_points: Mapped[int] = mapped_column(BigInteger, default=10_000)
    """Points a member may convert per guild-local day, each way."""
    notify_channel_id: Mapped[int | None] = mapped_column(Snowflake, default=None)
    """Where big moves and members' large trades are announced; None: nowhere."""
    move_alert_bp: Mapped[int] = mapped_column(Integer, default=500)
    """A move of at least this many basis points (1/100 %) within the window is announced; 0: never."""
    move_window_minutes: Mapped[int] = mapped_column(Integer, default=15)
    """The window a big move is measured over, and the least time between two announcements of a symbol."""
    trade_alert_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    """A member's trade worth at least this much is announced; 0: no trade announcements."""


class StockTransfer(Base):
    """One conversion: `points` > 0 turned points into cash, < 0 turned cash back into points."""

    __tablename__ = "stock_transfer"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(Snowflake)
    user_id: Mapped[int] = mapped_column(Snowflake)
    points: Mapped[int] = mapped_column(BigInteger)
    cash_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_stock_transfer_member_time", "guild_id", "user_id", "created_at"),)
