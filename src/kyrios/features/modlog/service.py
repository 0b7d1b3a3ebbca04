"""Moderation log: record gateway events as cases and decide where each one is posted.

Invariants: an event is recorded only when the guild has the modlog feature and that event type
switched on (both default on), and never for an ignored channel or (where configured) a bot;
every recorded event is one `modlog_entry` row whose id is its case number; an entry is posted
to its event's own channel, else the guild's log channel, else only kept for `/modlog search`;
a moderator is stored with `attribution` exact (audit-log entry naming the target) or likely
(message-delete heuristic, see `attribution.py`); nothing here sends anything (the cog queues
the returned `Delivery` on the sender after the transaction commits); a posted embed is in the
guild's language (its setting, else English), times as Discord markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import insert_ignore
from kyrios.core.features import Feature
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.modlog.embeds import entry_embed
from kyrios.features.modlog.models import (
    Attribution,
    LogType,
    ModlogEntry,
    ModlogEventConfig,
    ModlogGuild,
    ModlogIgnoredChannel,
)
from kyrios.slash.reply import Embed

MESSAGE_TYPES = frozenset({LogType.MESSAGE_DELETE, LogType.MESSAGE_EDIT})


@dataclass(frozen=True)
class Route:
    """Whether an event type is logged in a guild, and where it is posted."""

    enabled: bool
    channel_id: int | None
    ignore_bots: bool


@dataclass(frozen=True)
class Delivery:
    """An embed to post once the transaction that recorded it has committed."""

    guild_id: int
    channel_id: int
    embed: Embed
    entry_id: int


def default_ignore_bots(log_type: LogType) -> bool:
    """Bots' messages are noise; a bot joining or being banned is not."""
    return log_type in MESSAGE_TYPES


async def route(session: AsyncSession, guild_id: int, log_type: LogType) -> Route:
    """The effective switch, channel and bot filter of one event type in a guild."""
    settings = await guild_settings.get(session, guild_id)
    config = await session.get(ModlogEventConfig, (guild_id, log_type))
    enabled = Feature.MODLOG not in settings.disabled and (config is None or config.enabled)
    channel_id = (config.channel_id if config else None) or settings.log_channel_id
    ignore_bots = config.ignore_bots if config is not None else default_ignore_bots(log_type)
    return Route(enabled, channel_id, ignore_bots)


async def is_ignored_channel(session: AsyncSession, guild_id: int, channel_id: int) -> bool:
    """True when an admin asked not to log this channel."""
    return await session.get(ModlogIgnoredChannel, (guild_id, channel_id)) is not None


async def record(
    session: AsyncSession,
    *,
    guild_id: int,
    log_type: LogType,
    at: datetime,
    subject_is_bot: bool = False,
    attribution: Attribution = Attribution.NONE,
    **fields: Any,
) -> Delivery | None:
    """Store one event if the guild logs it; return the post to make, if it has a channel."""
    decision = await route(session, guild_id, log_type)
    if not decision.enabled or (subject_is_bot and decision.ignore_bots):
        return None
    channel_id = fields.get("channel_id")
    if (
        log_type in MESSAGE_TYPES
        and channel_id is not None
        and await is_ignored_channel(session, guild_id, channel_id)
    ):
        return None
    if fields.get("moderator_id") is None:
        attribution = Attribution.NONE
    entry = ModlogEntry(
        guild_id=guild_id, log_type=log_type, attribution=attribution, created_at=at, **fields
    )
    session.add(entry)
    await session.flush()
    if decision.channel_id is None:
        return None
    translator = await guild_settings.guild_translator(session, guild_id)
    return Delivery(guild_id, decision.channel_id, entry_embed(entry, translator=translator), entry.id)


async def _lock_config(session: AsyncSession, guild_id: int, log_type: LogType) -> ModlogEventConfig:
    """Lock (creating if needed) one event's config row; lock first, insert only when missing."""
    query = (
        select(ModlogEventConfig)
        .where(ModlogEventConfig.guild_id == guild_id, ModlogEventConfig.log_type == log_type)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is not None:
        return row
    values = {
        "guild_id": guild_id,
        "log_type": log_type,
        "enabled": True,
        "channel_id": None,
        "ignore_bots": default_ignore_bots(log_type),
    }
    await session.execute(insert_ignore(session, ModlogEventConfig, values))
    return (await session.execute(query)).scalar_one()


async def configure_event(
    session: AsyncSession,
    guild_id: int,
    log_type: LogType,
    *,
    enabled: bool | None = None,
    channel_id: int | None = None,
    clear_channel: bool = False,
    ignore_bots: bool | None = None,
) -> ModlogEventConfig:
    """Switch an event type on/off, route it to its own channel, or change its bot filter."""
    row = await _lock_config(session, guild_id, log_type)
    if enabled is not None:
        row.enabled = enabled
    if clear_channel:
        row.channel_id = None
    elif channel_id is not None:
        row.channel_id = channel_id
    if ignore_bots is not None:
        row.ignore_bots = ignore_bots
    await session.flush()
    return row


async def event_configs(session: AsyncSession, guild_id: int) -> dict[LogType, Route]:
    """Every event type's effective route in a guild."""
    return {log_type: await route(session, guild_id, log_type) for log_type in LogType}


async def toggle_ignored_channel(session: AsyncSession, guild_id: int, channel_id: int) -> bool:
    """Ignore a channel, or stop ignoring it; returns True when it is now ignored."""
    removed = await session.execute(
        delete(ModlogIgnoredChannel).where(
            ModlogIgnoredChannel.guild_id == guild_id, ModlogIgnoredChannel.channel_id == channel_id
        )
    )
    if removed.rowcount:  # type: ignore[attr-defined]
        return False
    values = {"guild_id": guild_id, "channel_id": channel_id}
    await session.execute(insert_ignore(session, ModlogIgnoredChannel, values))
    return True


async def ignored_channels(session: AsyncSession, guild_id: int) -> list[int]:
    """The guild's ignored channels."""
    rows = await session.scalars(
        select(ModlogIgnoredChannel.channel_id).where(ModlogIgnoredChannel.guild_id == guild_id)
    )
    return sorted(rows)


async def settings(session: AsyncSession, guild_id: int) -> ModlogGuild:
    """The guild's modlog settings (message store, retention), cached per config version."""
    return await guild_settings.slice_settings(session, ModlogGuild, guild_id)


async def set_message_store(session: AsyncSession, guild_id: int, *, enabled: bool, now: datetime) -> None:
    """Opt the guild in to (or out of) keeping message content for delete/edit logs."""
    await guild_settings.change_slice_settings(
        session, ModlogGuild, guild_id, now=now, store_messages=enabled
    )


async def stores_messages(session: AsyncSession, guild_id: int) -> bool:
    """True when the guild opted in to the message store."""
    return (await settings(session, guild_id)).store_messages


async def retention_days(session: AsyncSession, guild_id: int) -> int:
    """Days the guild keeps log entries and stored messages."""
    return (await settings(session, guild_id)).retention_days


async def set_retention(session: AsyncSession, guild_id: int, *, days: int, now: datetime) -> None:
    """Keep log entries and stored messages for `days` days (the purge applies it within the hour)."""
    await guild_settings.change_slice_settings(session, ModlogGuild, guild_id, now=now, retention_days=days)


async def forget_channel(session: AsyncSession, guild_id: int, channel_id: int, *, now: datetime) -> int:
    """Stop routing anything to a channel that no longer exists; returns how many routes changed."""
    changed = 0
    result = await session.execute(
        update(ModlogEventConfig)
        .where(ModlogEventConfig.guild_id == guild_id, ModlogEventConfig.channel_id == channel_id)
        .values(channel_id=None)
    )
    changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    settings = await guild_settings.get(session, guild_id)
    if settings.log_channel_id == channel_id:
        await guild_settings.update(session, guild_id, now=now, log_channel_id=None)
        changed += 1
    return changed
