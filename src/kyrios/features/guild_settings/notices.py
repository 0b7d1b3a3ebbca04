"""Which problems a guild's admins have been told about, so a restart does not tell them again.

A problem still there after `REMIND_AFTER` is told once more: a reminder, not a stream.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.guild_settings.models import AdminNotice

REMIND_AFTER = timedelta(days=7)
MAX_PROBLEM_KEY = 100


async def due(session: AsyncSession, guild_id: int, problem: str, *, now: datetime) -> bool:
    """Whether to tell the admins about `problem` now; if so, it is recorded as told at `now`."""
    key = problem[:MAX_PROBLEM_KEY]
    notice = await session.get(AdminNotice, (guild_id, key), with_for_update=True)
    if notice is None:
        session.add(AdminNotice(guild_id=guild_id, problem=key, told_at=now))
    elif now - notice.told_at >= REMIND_AFTER:
        notice.told_at = now
    else:
        return False
    await session.flush()
    return True
