"""Achievements.

Invariants: an achievement is unlocked at most once per member and guild (primary key), in the
same transaction as the stat change that earned it (`observe`, called by the slice that changed
the stat); each unlock writes exactly one `achievement_outbox` row in that transaction, so the
announcement (and the guild's role for it) is neither lost nor made twice by a crash.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql
from kyrios.core.errors import NotFound
from kyrios.features.achievements.catalogue import BY_STAT, CATALOGUE, Achievement, Stat
from kyrios.features.achievements.models import AchievementRole, AchievementUnlock

OUTBOX_WAKE = "achievements:outbox"
"""Bus channel a command may publish on after an unlock committed, so the relay posts at once."""

_HAVE = "SELECT code FROM achievement_unlock WHERE guild_id = ? AND user_id = ? AND code IN ({in})"
_UNLOCK_COLUMNS = ("guild_id", "user_id", "code", "unlocked_at")
_OUTBOX = (
    "INSERT INTO achievement_outbox (guild_id, user_id, code, channel_id, role_id, created_at, attempts)"
    " VALUES (?, ?, ?, ?, ?, ?, 0)"
)


def earned(stats: Mapping[Stat, int], known: Collection[str] = ()) -> list[str]:
    """The codes these stat values earn, leaving out `known` ones (pure: no database)."""
    return [
        a.code
        for stat, value in stats.items()
        for a in BY_STAT[Stat(stat)]
        if a.code not in known and a.earned_by(value)
    ]


async def observe(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    stats: Mapping[Stat, int],
    now: datetime,
    channel_id: int | None = None,
    known: Collection[str] = (),
) -> list[Achievement]:
    """The hook every slice calls with a member's new stat values, in the transaction that changed
    them: unlock what the rules earn and queue the announcement in `channel_id`.

    `known` names codes the caller knows are unlocked (a hint that saves the lookup). Returns the
    achievements this call unlocked; a concurrent transaction unlocking the same one gets nothing.
    """
    codes = earned(stats, known)
    if not codes:
        return []
    sql = await Sql.of(session)
    have = await sql.all(_HAVE.replace("{in}", ", ".join("?" for _ in codes)), (guild_id, user_id, *codes))
    missing = [code for code in codes if code not in {row[0] for row in have}]
    if not missing:
        return []
    roles = await _roles(session, guild_id)
    fresh = []
    stamp = sql.stamp(now)
    for code in missing:
        # Insert-or-ignore decides between racing transactions: the loser waits, then inserts nothing.
        inserted = await sql.execute(
            sql.insert_ignore("achievement_unlock", _UNLOCK_COLUMNS), (guild_id, user_id, code, stamp)
        )
        if inserted == 1:
            await sql.execute(_OUTBOX, (guild_id, user_id, code, channel_id, roles.get(code), stamp))
            fresh.append(CATALOGUE[code])
    return fresh


async def _roles(session: AsyncSession, guild_id: int) -> dict[str, int]:
    """The guild's achievement roles by code."""
    rows = await session.execute(
        select(AchievementRole.code, AchievementRole.role_id).where(AchievementRole.guild_id == guild_id)
    )
    return {code: int(role_id) for code, role_id in rows}


async def unlocked(session: AsyncSession, guild_id: int, user_id: int) -> list[tuple[Achievement, datetime]]:
    """The member's achievements, oldest first."""
    rows = await session.execute(
        select(AchievementUnlock.code, AchievementUnlock.unlocked_at)
        .where(AchievementUnlock.guild_id == guild_id, AchievementUnlock.user_id == user_id)
        .order_by(AchievementUnlock.unlocked_at, AchievementUnlock.code)
    )
    return [(CATALOGUE[code], at) for code, at in rows if code in CATALOGUE]


def find(code: str) -> Achievement:
    """The achievement with this code, or a NotFound that says which exist."""
    found = CATALOGUE.get(code.strip().lower())
    if found is None:
        raise NotFound(
            "There is no achievement `{code}`. Known ones: {codes}.", code=code, codes=", ".join(CATALOGUE)
        )
    return found


async def set_role(session: AsyncSession, guild_id: int, code: str, role_id: int | None) -> Achievement:
    """Grant `role_id` with the achievement from now on (None: grant none)."""
    achievement = find(code)
    await session.execute(
        delete(AchievementRole).where(
            AchievementRole.guild_id == guild_id, AchievementRole.code == achievement.code
        )
    )
    if role_id is not None:
        session.add(AchievementRole(guild_id=guild_id, code=achievement.code, role_id=role_id))
        await session.flush()
    return achievement


async def roles(session: AsyncSession, guild_id: int) -> list[tuple[Achievement, int]]:
    """The guild's achievement roles, in catalogue order."""
    by_code = await _roles(session, guild_id)
    return [(a, by_code[a.code]) for a in CATALOGUE.values() if a.code in by_code]
