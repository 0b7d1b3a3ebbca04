"""Cases: searching the log, replacing a case's reason, adding notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.errors import InvalidInput, NotFound
from kyrios.core.i18n import N_, lazy
from kyrios.core.paging import Page, clamp_page
from kyrios.features.modlog.models import LogType, ModlogEntry, ModlogNote
from kyrios.features.modlog.stored_text import store

MAX_REASON = 512
MAX_NOTE = 1000
MAX_NOTES_PER_CASE = 50


@dataclass(frozen=True)
class SearchFilter:
    """What `/modlog search` looks for; every part is optional."""

    user_id: int | None = None
    log_type: LogType | None = None
    since: datetime | None = None
    until: datetime | None = None


async def search(
    session: AsyncSession, guild_id: int, query: SearchFilter, *, page: int = 1, per_page: int = 10
) -> Page[ModlogEntry]:
    """Matching entries, newest first."""
    where = [ModlogEntry.guild_id == guild_id]
    if query.user_id is not None:
        where.append(ModlogEntry.user_id == query.user_id)
    if query.log_type is not None:
        where.append(ModlogEntry.log_type == query.log_type)
    if query.since is not None:
        where.append(ModlogEntry.created_at >= query.since)
    if query.until is not None:
        where.append(ModlogEntry.created_at < query.until)
    total = int(await session.scalar(select(func.count()).select_from(ModlogEntry).where(*where)) or 0)
    page, pages = clamp_page(page, total, per_page)
    rows = await session.scalars(
        select(ModlogEntry)
        .where(*where)
        .order_by(ModlogEntry.created_at.desc(), ModlogEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return Page(list(rows), page, pages, total)


async def get_case(session: AsyncSession, guild_id: int, case_id: int, *, lock: bool = False) -> ModlogEntry:
    """A case of this guild (cases of other guilds do not exist here)."""
    query = select(ModlogEntry).where(ModlogEntry.id == case_id, ModlogEntry.guild_id == guild_id)
    if lock:
        query = query.with_for_update()
    entry = (await session.execute(query)).scalar_one_or_none()
    if entry is None:
        raise NotFound(
            "There is no case #{case} on this server (old cases are purged after retention).",
            case=str(case_id),
        )
    return entry


async def notes(session: AsyncSession, entry_id: int) -> list[ModlogNote]:
    """A case's notes, oldest first."""
    rows = await session.scalars(
        select(ModlogNote).where(ModlogNote.entry_id == entry_id).order_by(ModlogNote.id)
    )
    return list(rows)


_EMPTY = {"reason": N_("The reason cannot be empty."), "note": N_("The note cannot be empty.")}
_TOO_LONG = {
    "reason": N_("The reason is too long ({length} characters; at most {limit})."),
    "note": N_("The note is too long ({length} characters; at most {limit})."),
}


def _clean(text: str, limit: int, what: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(_EMPTY[what])
    if len(text) > limit:
        raise InvalidInput(_TOO_LONG[what], length=len(text), limit=limit)
    return text


async def set_reason(
    session: AsyncSession, guild_id: int, case_id: int, reason: str, *, author_id: int, now: datetime
) -> ModlogEntry:
    """Replace a case's reason; the previous one is kept as a note, so nothing is lost."""
    reason = _clean(reason, MAX_REASON, "reason")
    entry = await get_case(session, guild_id, case_id, lock=True)
    if entry.reason and entry.reason != reason:
        previous = store(lazy("Previous reason: {reason}", reason=entry.reason), MAX_NOTE)
        session.add(ModlogNote(entry_id=entry.id, author_id=author_id, text=previous, created_at=now))
    entry.reason = reason
    await session.flush()
    return entry


async def add_note(
    session: AsyncSession, guild_id: int, case_id: int, *, author_id: int, text: str, now: datetime
) -> ModlogNote:
    """Add a note to a case; notes accumulate instead of overwriting each other."""
    text = _clean(text, MAX_NOTE, "note")
    entry = await get_case(session, guild_id, case_id, lock=True)
    count = int(
        await session.scalar(
            select(func.count()).select_from(ModlogNote).where(ModlogNote.entry_id == entry.id)
        )
        or 0
    )
    if count >= MAX_NOTES_PER_CASE:
        raise InvalidInput(
            "Case #{case} already has {maximum} notes.", case=str(case_id), maximum=MAX_NOTES_PER_CASE
        )
    note = ModlogNote(entry_id=entry.id, author_id=author_id, text=text, created_at=now)
    session.add(note)
    await session.flush()
    return note
