"""Retention of avatar history and its archived images (the moderation log's retention setting).

A per-server avatar change lives as long as its guild's retention (`/settings set retention_days:`).
A global change (avatar, banner) belongs to no guild: it lives as long as the longest retention
any guild keeps (guilds without a modlog row keep the default). Then the sweep removes the blobs
no history row names any more (sparing those seen within `SWEEP_GRACE`: a change being recorded
may be about to name one) and applies the archive's size limit. Each step is its own short
transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.features.avatars import archive
from kyrios.features.avatars.archive import ArchiveLimits
from kyrios.features.avatars.models import AvatarHistory
from kyrios.features.modlog import service as modlog
from kyrios.features.modlog.models import ModlogGuild

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=1)
SWEEP_GRACE = timedelta(hours=1)
DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class ArchivePurged:
    """What one purge removed: history rows, unreferenced blobs, blobs over the size limit."""

    history: int
    unreferenced: int
    over_limit: int


async def longest_retention_days(session: AsyncSession) -> int:
    """The longest retention any guild keeps (the default for the guilds that never set one)."""
    longest = await session.scalar(select(func.max(ModlogGuild.retention_days)))
    return max(DEFAULT_RETENTION_DAYS, int(longest or 0))


async def purge_history(session: AsyncSession, *, now: datetime) -> int:
    """Delete the history rows older than their retention; how many went."""
    removed = 0
    guild_ids = await session.scalars(
        select(AvatarHistory.guild_id).where(AvatarHistory.guild_id.is_not(None)).distinct()
    )
    for guild_id in [g for g in guild_ids if g is not None]:
        cutoff = now - timedelta(days=await modlog.retention_days(session, guild_id))
        done = await session.execute(
            delete(AvatarHistory).where(AvatarHistory.guild_id == guild_id, AvatarHistory.changed_at < cutoff)
        )
        removed += int(done.rowcount or 0)  # type: ignore[attr-defined]
    cutoff = now - timedelta(days=await longest_retention_days(session))
    done = await session.execute(
        delete(AvatarHistory).where(AvatarHistory.guild_id.is_(None), AvatarHistory.changed_at < cutoff)
    )
    return removed + int(done.rowcount or 0)  # type: ignore[attr-defined]


async def sweep(session: AsyncSession, *, now: datetime, grace: timedelta = SWEEP_GRACE) -> int:
    """Delete the blobs no history row names (not seen within `grace`); how many went."""
    shas = await archive.unreferenced(session, seen_before=now - grace)
    await archive.drop(session, shas)
    return len(shas)


async def purge_archive(
    db: Database, *, now: datetime, limits: ArchiveLimits, grace: timedelta = SWEEP_GRACE
) -> ArchivePurged:
    """Expired history, then unreferenced blobs, then the size limit: three transactions."""

    async def history(session: AsyncSession) -> int:
        return await purge_history(session, now=now)

    async def unreferenced(session: AsyncSession) -> int:
        return await sweep(session, now=now, grace=grace)

    async def over_limit(session: AsyncSession) -> int:
        return await archive.enforce_size_limit(session, limits.max_total_bytes)

    return ArchivePurged(await db.run(history), await db.run(unreferenced), await db.run(over_limit))


async def run_archive_job(
    db: Database,
    clock: Clock,
    limits: ArchiveLimits,
    *,
    interval: timedelta = PURGE_INTERVAL,
    stop: asyncio.Event | None = None,
) -> None:
    """Purge now and then every `interval` until `stop` is set (started by `kyrios up`)."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            purged = await purge_archive(db, now=clock.now(), limits=limits)
            if purged.history or purged.unreferenced or purged.over_limit:
                log.info("avatar archive purge: %s", purged)
        except Exception:
            log.exception("avatar archive purge failed; trying again in %s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval.total_seconds())
