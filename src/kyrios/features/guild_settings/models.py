"""Per-guild settings: one row per guild, created on first change (defaults otherwise)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, Snowflake, UTCDateTime

DEFAULT_TIMEZONE = "Asia/Tokyo"


class GuildSettings(Base):
    """What every slice of a guild shares; a slice's own settings live in its own table, versioned
    by this row's `config_version` (see `service.change_slice_settings`)."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    # None: the deployment default (KYRIOS_DEFAULT_TIMEZONE).
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    # None: each member's own Discord language, else Discord's guild locale, else English.
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    prefix: Mapped[str | None] = mapped_column(String(25), default=None)
    disabled_features: Mapped[str] = mapped_column(String(255), default="")
    log_channel_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # A fresh random token on every change of the guild's configuration (these settings, a slice's
    # settings, the gacha table), so caches in any process can tell in one small read that what they
    # hold is current. Random, not a counter: a rolled-back change must not hand its number to a
    # later, different change.
    config_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @property
    def disabled(self) -> set[str]:
        """The set of features switched off."""
        return {name for name in self.disabled_features.split(",") if name}


class AdminNotice(Base):
    """When a guild's admins were last told about a problem the bot cannot fix itself."""

    __tablename__ = "admin_notice"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    problem: Mapped[str] = mapped_column(String(100), primary_key=True)
    told_at: Mapped[datetime] = mapped_column(UTCDateTime)
