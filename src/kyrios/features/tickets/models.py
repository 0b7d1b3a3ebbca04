"""The tickets settings table: where a guild's tickets open and where closed ones are archived."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, Snowflake


class TicketsSettings(Base):
    """A guild's ticket categories (`/settings set ticket_category: archive_category:`)."""

    __tablename__ = "tickets_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    category_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    archive_category_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
