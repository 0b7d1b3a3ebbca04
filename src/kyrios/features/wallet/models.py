"""The wallet settings table (the slice has no commands yet)."""

from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from kyrios.core.models import Base, Snowflake


class WalletSettings(Base):
    """Whether a guild's members must link a wallet, and on which chains (comma-separated)."""

    __tablename__ = "wallet_settings"

    guild_id: Mapped[int] = mapped_column(Snowflake, primary_key=True, autoincrement=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_chains: Mapped[str] = mapped_column(String(64), default="ETH,SOL")
