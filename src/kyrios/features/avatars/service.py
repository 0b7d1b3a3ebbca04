"""Avatar history.

Invariants: every recorded change is one `avatar_history` row and, in the same transaction, the
user's `avatar_user_stats` row is updated to match it (counts per kind equal the history rows of
that kind as recorded, before retention purged any; first/last change times are the history's
min/max; the average interval is (last - first) / (changes - 1) in days; the most used format is
the history's most frequent); the stats row is locked before the history row is written, so
concurrent changes of one user apply one after the other. The image's bytes, when the change
carries them, go to the archive in the same transaction, and the row names the archived old
image too (the one the previous change of the same kind stored). Per-server avatars are only
recorded in guilds with the feature on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import insert_ignore
from kyrios.core.features import Feature
from kyrios.core.paging import Page, clamp_page
from kyrios.features.avatars import archive
from kyrios.features.avatars.archive import ArchiveLimits
from kyrios.features.avatars.colour import ImageFacts
from kyrios.features.avatars.models import AvatarHistory, AvatarKind, AvatarStats
from kyrios.features.guild_settings import service as guild_settings

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class AvatarChange:
    """A change seen on the gateway (or by fetching the user, for banners)."""

    user_id: int
    kind: AvatarKind
    old_url: str | None
    new_url: str | None
    at: datetime
    guild_id: int | None = None
    image: ImageFacts | None = None
    data: bytes | None = None
    """The new image's bytes as the CDN served them (None: not fetched, failed or too large)."""


async def is_tracked_in(session: AsyncSession, guild_ids: list[int]) -> bool:
    """True when at least one of the user's guilds keeps avatar history."""
    for guild_id in guild_ids:
        if await guild_settings.is_feature_enabled(session, guild_id, Feature.AVATARS):
            return True
    return False


async def _lock_stats(session: AsyncSession, user_id: int, now: datetime) -> AvatarStats:
    """Lock (creating if needed) the user's stats row; lock first, insert only when missing."""
    query = (
        select(AvatarStats)
        .where(AvatarStats.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    stats = (await session.execute(query)).scalar_one_or_none()
    if stats is not None:
        return stats
    values = {
        "user_id": user_id,
        "total_avatar_changes": 0,
        "total_server_avatar_changes": 0,
        "total_banner_changes": 0,
        "first_seen_at": now,
    }
    await session.execute(insert_ignore(session, AvatarStats, values))
    return (await session.execute(query)).scalar_one()


async def _most_used_format(session: AsyncSession, user_id: int) -> str | None:
    rows = await session.execute(
        select(AvatarHistory.image_format, func.count())
        .where(AvatarHistory.user_id == user_id, AvatarHistory.image_format.is_not(None))
        .group_by(AvatarHistory.image_format)
    )
    counted = [(int(count), str(fmt)) for fmt, count in rows]
    return max(counted)[1] if counted else None


async def _archived_old(session: AsyncSession, change: AvatarChange) -> str | None:
    """The archived image of the change that set `change.old_url`, if one did."""
    if change.old_url is None:
        return None
    found = await session.scalar(
        select(AvatarHistory.new_sha256)
        .where(
            AvatarHistory.user_id == change.user_id,
            AvatarHistory.kind == change.kind,
            AvatarHistory.new_url == change.old_url,
        )
        .order_by(AvatarHistory.changed_at.desc(), AvatarHistory.id.desc())
        .limit(1)
    )
    return str(found) if found else None


async def record_change(
    session: AsyncSession, change: AvatarChange, *, limits: ArchiveLimits | None = None
) -> AvatarHistory:
    """Store one change (archiving its image's bytes) and update the user's stats, in one transaction."""
    stats = await _lock_stats(session, change.user_id, change.at)
    image = change.image
    new_sha256 = None
    if image is not None and change.data is not None:
        new_sha256 = await archive.keep(
            session, change.data, image.image_format, now=change.at, limits=limits or ArchiveLimits()
        )
    row = AvatarHistory(
        user_id=change.user_id,
        guild_id=change.guild_id,
        kind=change.kind,
        old_url=change.old_url,
        new_url=change.new_url,
        dominant_color=image.dominant_color if image else None,
        image_format=image.image_format if image else None,
        image_size=image.size if image else None,
        changed_at=change.at,
        old_sha256=await _archived_old(session, change),
        new_sha256=new_sha256,
    )
    session.add(row)
    await session.flush()
    if change.kind == AvatarKind.AVATAR_CHANGE:
        stats.total_avatar_changes += 1
        stats.last_avatar_change_at = change.at
    elif change.kind == AvatarKind.SERVER_AVATAR_CHANGE:
        stats.total_server_avatar_changes += 1
        stats.last_avatar_change_at = change.at
    else:
        stats.total_banner_changes += 1
        stats.last_banner_change_at = change.at
        stats.banner_url = change.new_url
    if stats.first_change_at is None or change.at < stats.first_change_at:
        stats.first_change_at = change.at
    if stats.last_change_at is None or change.at > stats.last_change_at:
        stats.last_change_at = change.at
    stats.average_change_interval_days = average_interval_days(
        stats.first_change_at, stats.last_change_at, stats.total_changes
    )
    if image is not None:
        stats.most_used_format = await _most_used_format(session, change.user_id)
    await session.flush()
    return row


def average_interval_days(first: datetime | None, last: datetime | None, changes: int) -> float | None:
    """Days between changes on average; None until there are two."""
    if first is None or last is None or changes < 2:
        return None
    return (last - first).total_seconds() / SECONDS_PER_DAY / (changes - 1)


async def known_banner(session: AsyncSession, user_id: int) -> str | None:
    """The last banner URL recorded for the user."""
    stats = await session.get(AvatarStats, user_id)
    return stats.banner_url if stats else None


async def record_banner_if_changed(
    session: AsyncSession, change: AvatarChange, *, limits: ArchiveLimits | None = None
) -> AvatarHistory | None:
    """Record a fetched banner unless it is the one already recorded (checked under the stats lock,
    so two updates racing to report the same banner record it once). A user we never saw without
    a banner has nothing to record."""
    stats = await _lock_stats(session, change.user_id, change.at)
    if stats.banner_url == change.new_url:
        return None
    old = AvatarChange(
        change.user_id,
        change.kind,
        stats.banner_url,
        change.new_url,
        change.at,
        change.guild_id,
        change.image,
        change.data,
    )
    return await record_change(session, old, limits=limits)


async def stats_of(session: AsyncSession, user_id: int) -> AvatarStats | None:
    """The user's stats, if any change was ever recorded."""
    return await session.get(AvatarStats, user_id)


async def history(
    session: AsyncSession, user_id: int, guild_id: int, *, page: int = 1, per_page: int = 8
) -> Page[AvatarHistory]:
    """Global changes and this guild's per-server avatar changes, newest first."""
    where = (
        AvatarHistory.user_id == user_id,
        (AvatarHistory.guild_id.is_(None)) | (AvatarHistory.guild_id == guild_id),
    )
    total = int(await session.scalar(select(func.count()).select_from(AvatarHistory).where(*where)) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.scalars(
        select(AvatarHistory)
        .where(*where)
        .order_by(AvatarHistory.changed_at.desc(), AvatarHistory.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(list(rows), page, pages, total)
