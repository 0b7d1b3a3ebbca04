"""Guild settings.

Invariants: a guild without a row behaves exactly like one with the defaults; features are
enabled unless listed in `disabled_features`.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql, cache_of, command_memo, insert_ignore
from kyrios.core.errors import InvalidInput
from kyrios.core.features import SWITCHABLE
from kyrios.core.i18n import DoorStyle, Translator, negotiate
from kyrios.features.guild_settings.models import DEFAULT_TIMEZONE, GuildSettings

CACHE_NAMESPACE = "guild_settings"
_COLUMNS = tuple(GuildSettings.__table__.columns)
_BOOKKEEPING = {"guild_id", "updated_at", "config_version"}


def new_config_version(old: int | None) -> int:
    """A random version token, different from the one it replaces."""
    while True:
        token = secrets.randbits(62) + 1
        if token != old:
            return token


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


async def config_version(session: AsyncSession, guild_id: int) -> int:
    """The guild's configuration version token (-1 for a guild that never changed any)."""
    sql = await Sql.of(session)
    version = await sql.scalar("SELECT config_version FROM guild_settings WHERE guild_id = ?", (guild_id,))
    return -1 if version is None else int(version)


async def snapshot(session: AsyncSession, guild_id: int) -> tuple[int, GuildSettings]:
    """(version, settings) from the database's cache when still current: one small read.

    The settings are a detached copy shared by every command: read them, never change them.
    """
    memo = command_memo(session)
    key = (CACHE_NAMESPACE, guild_id)
    remembered: tuple[int, GuildSettings] | None = memo.get(key)
    if remembered is not None:
        return remembered
    version = await config_version(session, guild_id)
    cache = cache_of(session)
    settings: GuildSettings | None = cache.get(CACHE_NAMESPACE, guild_id, version)
    if settings is None:
        row = await get(session, guild_id)
        settings = GuildSettings(**{column.key: getattr(row, column.key) for column in _COLUMNS})
        cache.put(CACHE_NAMESPACE, guild_id, version, settings)
    memo[key] = (version, settings)
    return version, settings


async def current(session: AsyncSession, guild_id: int) -> GuildSettings:
    """The guild's settings for reading, from the cache when still current."""
    return (await snapshot(session, guild_id))[1]


async def language_and_zone(session: AsyncSession, guild_id: int) -> tuple[str | None, str | None]:
    """The guild's language setting and time zone name (None where unset), for replies."""
    settings = await current(session, guild_id)
    return settings.locale, settings.timezone


async def guild_translator(
    session: AsyncSession, guild_id: int, *, style: DoorStyle = DoorStyle.DISCORD, now: datetime | None = None
) -> Translator:
    """Text for the guild as a whole (what it is told, not answered): its language setting, else
    English; times as `style` shows them, in the guild's time zone."""
    settings = await current(session, guild_id)
    return Translator(negotiate(settings.locale), style, now, zone(settings))


async def is_feature_enabled(session: AsyncSession, guild_id: int, feature: str) -> bool:
    """False when an admin switched the feature off."""
    return feature not in (await current(session, guild_id)).disabled


async def update(session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any) -> GuildSettings:
    """Change some settings, creating the row on first change (safe under concurrency)."""
    await session.execute(insert_ignore(session, GuildSettings, {"guild_id": guild_id}))
    row = (
        await session.execute(
            select(GuildSettings).where(GuildSettings.guild_id == guild_id).with_for_update()
        )
    ).scalar_one()
    for key, value in changes.items():
        if not hasattr(row, key) or key in _BOOKKEEPING:
            raise InvalidInput("Unknown setting `{setting}`.", setting=key)
        setattr(row, key, value)
    row.updated_at = now
    row.config_version = new_config_version(row.config_version)
    command_memo(session).pop((CACHE_NAMESPACE, guild_id), None)
    await session.flush()
    return row


async def set_feature(
    session: AsyncSession, guild_id: int, feature: str, *, enabled: bool, now: datetime
) -> None:
    """Switch a feature on or off (only the switchable ones: `kyrios.core.features.SWITCHABLE`)."""
    if feature not in SWITCHABLE:
        raise InvalidInput(
            "Unknown feature `{feature}`. Features: {features}.",
            feature=feature,
            features=", ".join(SWITCHABLE),
        )
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
            "`{name}` is not a time zone; use a name like `Asia/Tokyo` or `Europe/Berlin`.", name=name
        ) from None
    return name
