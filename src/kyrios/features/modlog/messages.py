"""The opt-in message store: the last known content of messages, so deletes and edits can be logged.

Discord's MESSAGE_DELETE carries only ids and discord.py's cache is small, so the content a
delete log shows comes from here. Rows live no longer than the guild's retention.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import insert_ignore
from kyrios.core.features import Feature
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.modlog import service
from kyrios.features.modlog.events import MessageSeen
from kyrios.features.modlog.models import ModlogMessage

MAX_STORED_CONTENT = 4000


@dataclass(frozen=True)
class StoredMessage:
    """What the store knew about a message."""

    author_id: int
    author_bot: bool
    content: str
    attachments: str | None


def _attachments(urls: tuple[str, ...]) -> str | None:
    return "\n".join(urls) if urls else None


async def should_store(session: AsyncSession, guild_id: int, channel_id: int) -> bool:
    """The guild opted in, has modlog on, and does not ignore the channel."""
    if not await service.stores_messages(session, guild_id):
        return False
    if Feature.MODLOG in (await guild_settings.current(session, guild_id)).disabled:
        return False
    return not await service.is_ignored_channel(session, guild_id, channel_id)


async def remember(session: AsyncSession, message: MessageSeen) -> bool:
    """Keep a new message's content if the guild opted in; False when it was not stored."""
    if not await should_store(session, message.guild_id, message.channel_id):
        return False
    values = {
        "message_id": message.message_id,
        "guild_id": message.guild_id,
        "channel_id": message.channel_id,
        "author_id": message.author_id,
        "author_bot": message.author_bot,
        "content": message.content[:MAX_STORED_CONTENT],
        "attachments": _attachments(message.attachments),
        "revision": 0,
        "created_at": message.at,
    }
    await session.execute(insert_ignore(session, ModlogMessage, values))
    return True


async def peek(session: AsyncSession, message_id: int) -> StoredMessage | None:
    """The stored message, without changing it."""
    row = await session.get(ModlogMessage, message_id)
    if row is None:
        return None
    return StoredMessage(row.author_id, row.author_bot, row.content, row.attachments)


async def replace(session: AsyncSession, message: MessageSeen) -> StoredMessage | None:
    """Store an edit's new content; returns what was stored before (None if nothing was)."""
    row = (
        await session.execute(
            select(ModlogMessage).where(ModlogMessage.message_id == message.message_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        await remember(session, message)
        return None
    before = StoredMessage(row.author_id, row.author_bot, row.content, row.attachments)
    await session.execute(
        update(ModlogMessage)
        .where(ModlogMessage.message_id == message.message_id)
        .values(
            content=message.content[:MAX_STORED_CONTENT],
            attachments=_attachments(message.attachments) or row.attachments,
            revision=ModlogMessage.revision + 1,
            edited_at=message.at,
        )
    )
    return before


async def take(session: AsyncSession, message_id: int) -> StoredMessage | None:
    """Remove a deleted message from the store and return it; None if another delete took it first."""
    stored = await peek(session, message_id)
    if stored is None:
        return None
    removed = await session.execute(delete(ModlogMessage).where(ModlogMessage.message_id == message_id))
    return stored if removed.rowcount else None  # type: ignore[attr-defined]
