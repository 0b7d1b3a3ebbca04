"""Per-guild settings rows, the shared `guild_settings` one and each slice's own, behind one version.

A guild has one configuration version (`guild_settings.config_version`), a random token replaced by
every change of any of its settings. A command reads it once (memoised for the command), and every
settings row it needs comes from the database's cache at that version: one small read per command
however many slices' settings it uses, and a change committed by any process is seen by the next
command everywhere. The `guild_settings` row is the guild's configuration mutex: a change locks it
first, then the slice's row, always in that order.

A slice's settings table has `guild_id` as its primary key and a default for every other column;
a guild without a row behaves exactly like one with the defaults. The slice reads and writes it
through `current` and `change` from its own service (the model is its own; only this mechanism is
shared).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from kyrios.core.db import Sql, cache_of, command_memo, insert_ignore
from kyrios.core.errors import InvalidInput
from kyrios.features.guild_settings.models import GuildSettings

Row = TypeVar("Row", bound=DeclarativeBase)

_VERSION = "config_version"
_BOOKKEEPING = {"guild_id", "updated_at", "config_version"}


def new_config_version(old: int | None) -> int:
    """A random version token, different from the one it replaces."""
    while True:
        token = secrets.randbits(62) + 1
        if token != old:
            return token


async def config_version(session: AsyncSession, guild_id: int) -> int:
    """The guild's configuration version token (-1 for a guild that never changed any), read once
    per command."""
    memo = command_memo(session)
    key = (_VERSION, guild_id)
    version: int | None = memo.get(key)
    if version is None:
        sql = await Sql.of(session)
        stored = await sql.scalar("SELECT config_version FROM guild_settings WHERE guild_id = ?", (guild_id,))
        version = memo[key] = -1 if stored is None else int(stored)
    return version


def defaults(model: type[Row], guild_id: int) -> Row:
    """An unsaved row of `model` for the guild, holding every default."""
    row = model(guild_id=guild_id)
    for column in model.__table__.columns:
        if getattr(row, column.key) is None and column.default is not None:
            setattr(row, column.key, column.default.arg)
    return row


async def stored(session: AsyncSession, model: type[Row], guild_id: int) -> Row:
    """The guild's row of `model` as stored in this transaction, or the defaults when it has none."""
    row = await session.get(model, guild_id)
    return row if row is not None else defaults(model, guild_id)


async def current(session: AsyncSession, model: type[Row], guild_id: int) -> Row:
    """The guild's row of `model` from the cache at the guild's current version (loaded on a miss).

    A detached copy shared by every command: read it, never change it.
    """
    version = await config_version(session, guild_id)
    cache = cache_of(session)
    namespace = model.__tablename__
    row: Row | None = cache.get(namespace, guild_id, version)
    if row is None:
        loaded = await stored(session, model, guild_id)
        row = model(**{column.key: getattr(loaded, column.key) for column in model.__table__.columns})
        cache.put(namespace, guild_id, version, row)
    return row


async def _locked(session: AsyncSession, model: type[Row], guild_id: int) -> Row:
    """The guild's row of `model`, created with the defaults if missing, locked until the end of the
    transaction (and re-read: a row loaded earlier in it may be stale)."""
    await session.execute(insert_ignore(session, model, {"guild_id": guild_id}))
    query = (
        select(model)
        .where(model.__table__.c.guild_id == guild_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one()


def _apply(row: DeclarativeBase, changes: dict[str, Any]) -> None:
    columns = row.__table__.columns
    for key, value in changes.items():
        if key not in columns or key in _BOOKKEEPING:
            raise InvalidInput("Unknown setting `{setting}`.", setting=key)
        setattr(row, key, value)


async def change_shared(
    session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any
) -> GuildSettings:
    """Change some shared settings (none: only a new version), creating the row on first change."""
    row = await _locked(session, GuildSettings, guild_id)
    _apply(row, changes)
    row.updated_at = now
    row.config_version = new_config_version(row.config_version)
    command_memo(session).pop((_VERSION, guild_id), None)
    await session.flush()
    return row


async def change(
    session: AsyncSession, model: type[Row], guild_id: int, *, now: datetime, **changes: Any
) -> Row:
    """Change some of a slice's settings in `model`, creating the guild's row on first change; the
    guild gets a new configuration version, so every process's cache sees it at its next command."""
    _apply(defaults(model, guild_id), changes)  # refuse an unknown setting before locking anything
    await change_shared(session, guild_id, now=now)
    row = await _locked(session, model, guild_id)
    _apply(row, changes)
    if "updated_at" in row.__table__.columns:
        row.updated_at = now  # type: ignore[attr-defined]
    await session.flush()
    return row
