"""The rumble settings table (the slice has no commands yet)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, Snowflake


class RumbleSettings(Base):
    """A guild's rumble rules: points per win and per loss, and the cooldown between battles."""

    __tablename__ = "rumble_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    points_per_win: Mapped[int] = mapped_column(BigInteger, default=50)
    points_per_loss: Mapped[int] = mapped_column(BigInteger, default=10)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=30)
