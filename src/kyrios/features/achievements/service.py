"""Achievements.

Invariants: an achievement is unlocked at most once per member and guild (primary key), in the
same transaction as the stat change that earned it; `unlock` reports True only to the one
transaction that inserted the row, so the announcement is made exactly once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql
from kyrios.features.achievements.catalogue import CATALOGUE, Achievement
from kyrios.features.achievements.models import AchievementUnlock


async def unlock(session: AsyncSession, *, guild_id: int, user_id: int, code: str, now: datetime) -> bool:
    """Record an unlock; True only if this call unlocked it (so announce it)."""
    if code not in CATALOGUE:
        raise ValueError(f"unknown achievement {code}")
    sql = await Sql.of(session)
    columns = ("guild_id", "user_id", "code", "unlocked_at")
    inserted = await sql.execute(
        sql.insert_ignore("achievement_unlock", columns), (guild_id, user_id, code, sql.stamp(now))
    )
    return inserted == 1


async def unlock_all(
    session: AsyncSession, *, guild_id: int, user_id: int, codes: list[str], now: datetime
) -> list[Achievement]:
    """Unlock each earned code; returns the ones that are new (to announce)."""
    fresh = []
    for code in codes:
        if await unlock(session, guild_id=guild_id, user_id=user_id, code=code, now=now):
            fresh.append(CATALOGUE[code])
    return fresh


async def unlocked(session: AsyncSession, guild_id: int, user_id: int) -> list[tuple[Achievement, datetime]]:
    """The member's achievements, oldest first."""
    rows = await session.execute(
        select(AchievementUnlock.code, AchievementUnlock.unlocked_at)
        .where(AchievementUnlock.guild_id == guild_id, AchievementUnlock.user_id == user_id)
        .order_by(AchievementUnlock.unlocked_at)
    )
    return [(CATALOGUE[code], at) for code, at in rows if code in CATALOGUE]
