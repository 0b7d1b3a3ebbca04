"""Retention: log entries and stored messages older than the guild's retention are deleted.

Each guild is purged in its own short transaction so a big purge never holds locks for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.features.modlog import service
from kyrios.features.modlog.models import ModlogEntry, ModlogMessage, ModlogNote, ModlogPost

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class Purged:
    """What one purge removed."""

    guild_id: int
    entries: int
    messages: int


async def purge_guild(session: AsyncSession, guild_id: int, *, now: datetime) -> Purged:
    """Delete the guild's entries (with notes and posts) and stored messages older than its retention."""
    cutoff = now - timedelta(days=await service.retention_days(session, guild_id))
    old = (ModlogEntry.guild_id == guild_id, ModlogEntry.created_at < cutoff)
    old_entries = select(ModlogEntry.id).where(*old)
    for attached in (ModlogNote, ModlogPost):
        await session.execute(delete(attached).where(attached.entry_id.in_(old_entries.scalar_subquery())))
    entries = await session.execute(delete(ModlogEntry).where(*old))
    stored = await session.execute(
        delete(ModlogMessage).where(ModlogMessage.guild_id == guild_id, ModlogMessage.created_at < cutoff)
    )
    return Purged(guild_id, int(entries.rowcount or 0), int(stored.rowcount or 0))  # type: ignore[attr-defined]


async def guilds_with_data(session: AsyncSession) -> list[int]:
    """Every guild that has log entries or stored messages."""
    rows = await session.scalars(
        union(select(ModlogEntry.guild_id).distinct(), select(ModlogMessage.guild_id).distinct())
    )
    return sorted(int(g) for g in rows)


async def purge_all(
    db: Database, *, now: datetime, progress: Callable[[int, int], None] | None = None
) -> list[Purged]:
    """Purge every guild; `progress(done, total)` is called after each one."""
    async with db.read() as session:
        guild_ids = await guilds_with_data(session)
    results: list[Purged] = []
    for done, guild_id in enumerate(guild_ids, start=1):

        async def work(session: AsyncSession, guild_id: int = guild_id) -> Purged:
            return await purge_guild(session, guild_id, now=now)

        results.append(await db.run(work))
        if progress is not None:
            progress(done, len(guild_ids))
    return results


async def run_retention_job(
    db: Database, clock: Clock, *, interval: timedelta = PURGE_INTERVAL, stop: asyncio.Event | None = None
) -> None:
    """Purge now and then every `interval` until `stop` is set (started by `kyrios up`)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            results = await purge_all(db, now=clock.now())
            removed = sum(r.entries + r.messages for r in results)
            if removed:
                log.info("retention purge removed %d log rows in %d guilds", removed, len(results))
        except Exception:
            log.exception("retention purge failed; trying again in %s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval.total_seconds())
