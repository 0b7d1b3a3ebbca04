"""Which log message shows each case, so a new reason or note can edit that message in place.

The sender posts up to ten cases per message; `remember` records each case's message and place.
When `/modlog reason` or `/modlog note` commits, the command publishes `CASE_CHANGED`; the
gateway bot (`case_editor.CaseEditor`) renders that message's embeds again (`message_of`, in the
guild's language) and edits it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.modlog.embeds import entry_embed
from kyrios.features.modlog.models import ModlogEntry, ModlogNote, ModlogPost
from kyrios.features.modlog.sender import MAX_EMBED_CHARS_PER_MESSAGE, embed_chars

log = logging.getLogger(__name__)

CASE_CHANGED = "modlog.case_changed"
"""Bus channel: `{"guild_id": …, "entry_id": …}` after a case's reason or notes changed."""


@dataclass(frozen=True)
class PostedMessage:
    """A log message and the embeds it should show now."""

    channel_id: int
    message_id: int
    embeds: list[dict[str, Any]]


async def remember(session: AsyncSession, channel_id: int, message_id: int, entry_ids: Sequence[int]) -> None:
    """Record that `message_id` shows these cases, in this order (cases purged meanwhile are skipped)."""
    existing = set(await session.scalars(select(ModlogEntry.id).where(ModlogEntry.id.in_(entry_ids))))
    session.add_all(
        ModlogPost(entry_id=entry_id, channel_id=channel_id, message_id=message_id, position=position)
        for position, entry_id in enumerate(entry_ids)
        if entry_id in existing
    )
    await session.flush()


async def message_of(session: AsyncSession, guild_id: int, entry_id: int) -> PostedMessage | None:
    """The message showing a case, with every case on it rendered as it stands; None if never posted.

    Notes are shown on every case while the message stays within Discord's 6,000 characters; past
    that, only the changed case keeps its notes.
    """
    post = await session.get(ModlogPost, entry_id)
    if post is None:
        return None
    ids = list(
        await session.scalars(
            select(ModlogPost.entry_id)
            .where(ModlogPost.message_id == post.message_id)
            .order_by(ModlogPost.position)
        )
    )
    entries = {
        entry.id: entry
        for entry in await session.scalars(
            select(ModlogEntry).where(ModlogEntry.id.in_(ids), ModlogEntry.guild_id == guild_id)
        )
    }
    if entry_id not in entries:
        return None
    notes: defaultdict[int, list[ModlogNote]] = defaultdict(list)
    for note in await session.scalars(
        select(ModlogNote).where(ModlogNote.entry_id.in_(ids)).order_by(ModlogNote.id)
    ):
        notes[note.entry_id].append(note)
    shown = [i for i in ids if i in entries]
    translator = await guild_settings.guild_translator(session, guild_id)
    embeds = [entry_embed(entries[i], notes[i], translator=translator).to_dict() for i in shown]
    if sum(map(embed_chars, embeds)) > MAX_EMBED_CHARS_PER_MESSAGE:
        embeds = [
            entry_embed(entries[i], notes[i] if i == entry_id else (), translator=translator).to_dict()
            for i in shown
        ]
    if sum(map(embed_chars, embeds)) > MAX_EMBED_CHARS_PER_MESSAGE:
        log.info("case #%s: its log message would exceed Discord's limit; left as posted", entry_id)
        return None
    return PostedMessage(post.channel_id, post.message_id, embeds)
