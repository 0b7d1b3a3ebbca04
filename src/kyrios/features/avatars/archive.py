"""The image archive: the bytes of recorded avatars and banners, once per SHA-256.

Invariants: a blob row's `sha256` is the hex SHA-256 of its `data`; the same image recorded for
many users or many times is one row (an INSERT that ignores an existing key, then `last_seen_at`
moves on). The archive's total size stays under `ArchiveLimits.max_total_bytes`: when a new image
pushes it over, the least recently seen blobs go first and the history rows naming them lose
their reference (they still show the CDN URL). History rows point at blobs without a foreign
key, so readers ask `existing` before linking to one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import insert_ignore
from kyrios.features.avatars.models import AvatarBlob, AvatarHistory

CONTENT_TYPES = {"png": "image/png", "gif": "image/gif", "webp": "image/webp", "jpeg": "image/jpeg"}
EXTENSIONS = {content_type: ext for ext, content_type in CONTENT_TYPES.items()}
MiB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """How big one archived image (`max_image_bytes`) and the whole archive may be."""

    max_image_bytes: int = 8 * MiB
    max_total_bytes: int = 512 * MiB


def digest(data: bytes) -> str:
    """The hex SHA-256 naming an image in the archive and in its URL."""
    return hashlib.sha256(data).hexdigest()


def archive_url(site_url: str, sha256: str, content_type: str) -> str:
    """Where the web app serves an archived image (`/avatars/<sha256>.<ext>`)."""
    return f"{site_url.rstrip('/')}/avatars/{sha256}.{EXTENSIONS.get(content_type, 'png')}"


async def keep(
    session: AsyncSession, data: bytes, image_format: str, *, now: datetime, limits: ArchiveLimits
) -> str | None:
    """Store an image unless it is stored already; its SHA-256, or None if it is too large or of a
    format we do not serve. Over the total limit, the least recently seen other blobs are dropped."""
    content_type = CONTENT_TYPES.get(image_format)
    if content_type is None or len(data) > min(limits.max_image_bytes, limits.max_total_bytes):
        return None
    sha256 = digest(data)
    values = {
        "sha256": sha256,
        "data": data,
        "content_type": content_type,
        "size": len(data),
        "stored_at": now,
        "last_seen_at": now,
    }
    inserted = await session.execute(insert_ignore(session, AvatarBlob, values))
    if inserted.rowcount == 1:  # type: ignore[attr-defined]
        await enforce_size_limit(session, limits.max_total_bytes, spare=sha256)  # only new bytes add up
    else:
        await session.execute(update(AvatarBlob).where(AvatarBlob.sha256 == sha256).values(last_seen_at=now))
    return sha256


async def total_bytes(session: AsyncSession) -> int:
    """The archive's size: the sum of its images' sizes."""
    return int(await session.scalar(select(func.coalesce(func.sum(AvatarBlob.size), 0))) or 0)


async def enforce_size_limit(session: AsyncSession, max_total_bytes: int, *, spare: str | None = None) -> int:
    """Drop the least recently seen blobs (never `spare`) until the archive fits; how many went."""
    excess = await total_bytes(session) - max_total_bytes
    if excess <= 0:
        return 0
    oldest = await session.execute(
        select(AvatarBlob.sha256, AvatarBlob.size)
        .where(AvatarBlob.sha256 != spare)
        .order_by(AvatarBlob.last_seen_at, AvatarBlob.sha256)
    )
    doomed: list[str] = []
    for sha256, size in oldest:
        if excess <= 0:
            break
        doomed.append(str(sha256))
        excess -= int(size)
    await drop(session, doomed)
    return len(doomed)


async def drop(session: AsyncSession, shas: list[str]) -> None:
    """Delete blobs and forget them in the history rows that name them."""
    if not shas:
        return
    for column in (AvatarHistory.old_sha256, AvatarHistory.new_sha256):
        await session.execute(update(AvatarHistory).where(column.in_(shas)).values({column.key: None}))
    await session.execute(delete(AvatarBlob).where(AvatarBlob.sha256.in_(shas)))


async def existing(session: AsyncSession, shas: Iterable[str | None]) -> dict[str, str]:
    """The content type of each of `shas` still in the archive (the others are left out)."""
    wanted = sorted({sha for sha in shas if sha})
    if not wanted:
        return {}
    rows = await session.execute(
        select(AvatarBlob.sha256, AvatarBlob.content_type).where(AvatarBlob.sha256.in_(wanted))
    )
    return {str(sha): str(content_type) for sha, content_type in rows}


async def blob(session: AsyncSession, sha256: str) -> AvatarBlob | None:
    """One archived image."""
    return await session.get(AvatarBlob, sha256)


async def unreferenced(session: AsyncSession, *, seen_before: datetime) -> list[str]:
    """Blobs no history row names, not seen since `seen_before` (a change being recorded is spared)."""
    named = or_(AvatarHistory.old_sha256 == AvatarBlob.sha256, AvatarHistory.new_sha256 == AvatarBlob.sha256)
    rows = await session.scalars(
        select(AvatarBlob.sha256).where(
            AvatarBlob.last_seen_at < seen_before, ~select(AvatarHistory.id).where(named).exists()
        )
    )
    return [str(sha) for sha in rows]
