"""The auto-role table: the role a guild gives every member who joins."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, Snowflake


class AutoRoleSettings(Base):
    """A guild's auto role; a guild without a row (or with no role) gives none."""

    __tablename__ = "auto_role_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    role_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
