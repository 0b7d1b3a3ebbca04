"""Guild settings.

Invariants: a guild without a row behaves exactly like one with the defaults; features are
enabled unless listed in `disabled_features`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import insert_ignore
from kyrios.core.errors import InvalidInput
from kyrios.features.guild_settings.models import DEFAULT_TIMEZONE, GuildSettings

FEATURES = (
    "economy",
    "gacha",
    "achievements",
    "rumble",
    "wallet",
    "tickets",
    "modlog",
    "avatars",
    "music",
    "exchange",
)


def defaults(guild_id: int) -> GuildSettings:
    """An unsaved row holding every default."""
    settings = GuildSettings(guild_id=guild_id)
    for column in GuildSettings.__table__.columns:
        if getattr(settings, column.key) is None and column.default is not None:
            setattr(settings, column.key, column.default.arg)
    return settings


async def get(session: AsyncSession, guild_id: int) -> GuildSettings:
    """The guild's settings, or the defaults when it never changed any."""
    row = await session.get(GuildSettings, guild_id)
    return row if row is not None else defaults(guild_id)


async def is_feature_enabled(session: AsyncSession, guild_id: int, feature: str) -> bool:
    """False when an admin switched the feature off."""
    return feature not in (await get(session, guild_id)).disabled


async def update(session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any) -> GuildSettings:
    """Change some settings, creating the row on first change (safe under concurrency)."""
    await session.execute(insert_ignore(session, GuildSettings, {"guild_id": guild_id}))
    row = (
        await session.execute(
            select(GuildSettings).where(GuildSettings.guild_id == guild_id).with_for_update()
        )
    ).scalar_one()
    for key, value in changes.items():
        if not hasattr(row, key):
            raise InvalidInput(f"Unknown setting `{key}`.")
        setattr(row, key, value)
    row.updated_at = now
    await session.flush()
    return row


async def set_feature(
    session: AsyncSession, guild_id: int, feature: str, *, enabled: bool, now: datetime
) -> None:
    """Switch a feature on or off."""
    if feature not in FEATURES:
        raise InvalidInput(f"Unknown feature `{feature}`. Features: {', '.join(FEATURES)}.")
    disabled = (await get(session, guild_id)).disabled
    disabled = disabled - {feature} if enabled else disabled | {feature}
    await update(session, guild_id, now=now, disabled_features=",".join(sorted(disabled)))


def zone(settings: GuildSettings, default: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The guild's time zone, else the deployment default (and Tokyo if that name is unknown)."""
    try:
        return ZoneInfo(settings.timezone or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def validate_timezone(name: str) -> str:
    """Check an IANA time zone name such as `Europe/Berlin`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"`{name}` is not a time zone; use a name like `Asia/Tokyo` or `Europe/Berlin`."
        ) from None
    return name
