"""Guild settings: what every slice shares, and the configuration version of every slice's settings.

Invariants: a guild without a row behaves exactly like one with the defaults; features are
enabled unless listed in `disabled_features`; every change of any of a guild's settings (these, a
slice's own table, the gacha table) gives it a new `config_version` (see `per_guild`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from kyrios.core.errors import InvalidInput
from kyrios.core.features import SWITCHABLE
from kyrios.core.i18n import DoorStyle, Translator, negotiate
from kyrios.features.guild_settings import per_guild
from kyrios.features.guild_settings.models import DEFAULT_TIMEZONE, GuildSettings

Row = TypeVar("Row", bound=DeclarativeBase)

config_version = per_guild.config_version
new_config_version = per_guild.new_config_version


def defaults(guild_id: int) -> GuildSettings:
    """An unsaved row holding every default."""
    return per_guild.defaults(GuildSettings, guild_id)


async def get(session: AsyncSession, guild_id: int) -> GuildSettings:
    """The guild's settings as stored in this transaction, or the defaults when it never changed any."""
    return await per_guild.stored(session, GuildSettings, guild_id)


async def snapshot(session: AsyncSession, guild_id: int) -> tuple[int, GuildSettings]:
    """(version, settings) from the database's cache when still current: one small read per command.

    The settings are a detached copy shared by every command: read them, never change them.
    """
    version = await per_guild.config_version(session, guild_id)
    return version, await per_guild.current(session, GuildSettings, guild_id)


async def current(session: AsyncSession, guild_id: int) -> GuildSettings:
    """The guild's settings for reading, from the cache when still current."""
    return await per_guild.current(session, GuildSettings, guild_id)


async def slice_settings(session: AsyncSession, model: type[Row], guild_id: int) -> Row:
    """A slice's settings row for the guild (its own `model`), from the cache at the guild's current
    version: read it, never change it. The slice's service calls this, with its own table."""
    return await per_guild.current(session, model, guild_id)


async def change_slice_settings(
    session: AsyncSession, model: type[Row], guild_id: int, *, now: datetime, **changes: Any
) -> Row:
    """Change a slice's settings (its own `model`) and give the guild a new configuration version."""
    return await per_guild.change(session, model, guild_id, now=now, **changes)


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
    """Change some shared settings, creating the row on first change (safe under concurrency); with
    no changes, only a new configuration version (a slice's cached configuration changed)."""
    return await per_guild.change_shared(session, guild_id, now=now, **changes)


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
