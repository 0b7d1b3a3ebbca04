"""One function per gateway event: plain event (+ audit-log entries) in, recorded case and post out.

What Kyrios writes into a case itself is stored as message id and values (`stored_text`), so the
log channel, `/modlog case` and every later reader see it in their own language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.i18n import LazyText, lazy
from kyrios.features.modlog import messages, service
from kyrios.features.modlog.attribution import exact_entry
from kyrios.features.modlog.events import (
    AuditAction,
    AuditEntry,
    ChannelChanged,
    MemberEvent,
    MemberUpdated,
    MessageDeleted,
    MessageSeen,
)
from kyrios.features.modlog.models import Attribution, LogType
from kyrios.features.modlog.service import Delivery
from kyrios.features.modlog.stored_text import store

MAX_DETAIL = 512  # the `detail` column
MAX_TEXT = 65_535  # `before` / `after` (TEXT)


def _moderator(entry: AuditEntry | None) -> dict[str, Any]:
    if entry is None:
        return {}
    return {"moderator_id": entry.moderator_id, "reason": entry.reason}


async def message_deleted(
    session: AsyncSession, event: MessageDeleted, deleter: AuditEntry | None = None
) -> Delivery | None:
    """Log a delete with the content from our store; `deleter` is a "likely" audit-log match.

    Without stored content there is nothing to show (and no author to match the audit log
    against), so such deletes are not logged.
    """
    stored = await messages.take(session, event.message_id)
    if stored is None:
        return None
    moderator = _moderator(deleter) if deleter and deleter.target_id == stored.author_id else {}
    return await service.record(
        session,
        guild_id=event.guild_id,
        log_type=LogType.MESSAGE_DELETE,
        at=event.at,
        subject_is_bot=stored.author_bot,
        attribution=Attribution.LIKELY,
        user_id=stored.author_id,
        channel_id=event.channel_id,
        message_id=event.message_id,
        before=stored.content,
        attachments=stored.attachments,
        **moderator,
    )


async def message_seen(session: AsyncSession, message: MessageSeen) -> None:
    """Keep a new message's content when the guild opted in."""
    await messages.remember(session, message)


async def message_edited(session: AsyncSession, message: MessageSeen) -> Delivery | None:
    """Log an edit with before (from the store) and after; an edit that kept the text is not logged.

    Message content is only handled in guilds that opted in to the store (and not in ignored channels).
    """
    if not await messages.should_store(session, message.guild_id, message.channel_id):
        return None
    stored_before = await messages.replace(session, message)
    before = stored_before.content if stored_before else None
    if before is not None and before == message.content:
        return None  # embeds unfurled or a pin: Discord sends MESSAGE_UPDATE without a text change
    return await service.record(
        session,
        guild_id=message.guild_id,
        log_type=LogType.MESSAGE_EDIT,
        at=message.at,
        subject_is_bot=message.author_bot,
        user_id=message.author_id,
        channel_id=message.channel_id,
        message_id=message.message_id,
        before=before,
        after=message.content,
        attachments="\n".join(message.attachments) or None,
    )


async def member_joined(session: AsyncSession, event: MemberEvent) -> Delivery | None:
    """Log a join with the account's age (new accounts are what raids are made of)."""
    detail = None
    if event.account_created_at is not None:
        created = lazy("**Account created:** {created:R}", created=event.account_created_at)
        detail = store(created, MAX_DETAIL)
    return await service.record(
        session,
        guild_id=event.guild_id,
        log_type=LogType.MEMBER_JOIN,
        at=event.at,
        subject_is_bot=event.user.bot,
        user_id=event.user.id,
        detail=detail,
    )


async def member_removed(
    session: AsyncSession, event: MemberEvent, audit: Sequence[AuditEntry] = ()
) -> Delivery | None:
    """A kick if the audit log has MEMBER_KICK for them; nothing if banned (the ban logs it); else a leave."""
    if exact_entry(audit, AuditAction.MEMBER_BAN_ADD, event.user.id, event.at) is not None:
        return None
    kick = exact_entry(audit, AuditAction.MEMBER_KICK, event.user.id, event.at)
    return await service.record(
        session,
        guild_id=event.guild_id,
        log_type=LogType.MEMBER_KICK if kick else LogType.MEMBER_LEAVE,
        at=event.at,
        subject_is_bot=event.user.bot,
        attribution=Attribution.EXACT,
        user_id=event.user.id,
        **_moderator(kick),
    )


async def member_banned(
    session: AsyncSession, event: MemberEvent, audit: Sequence[AuditEntry] = (), *, banned: bool = True
) -> Delivery | None:
    """A ban (or unban) with the moderator and reason from the audit log."""
    action = AuditAction.MEMBER_BAN_ADD if banned else AuditAction.MEMBER_BAN_REMOVE
    entry = exact_entry(audit, action, event.user.id, event.at)
    return await service.record(
        session,
        guild_id=event.guild_id,
        log_type=LogType.MEMBER_BAN if banned else LogType.MEMBER_UNBAN,
        at=event.at,
        subject_is_bot=event.user.bot,
        attribution=Attribution.EXACT,
        user_id=event.user.id,
        **_moderator(entry),
    )


async def member_updated(
    session: AsyncSession, event: MemberUpdated, audit: Sequence[AuditEntry] = ()
) -> list[Delivery]:
    """Role changes (one case per role) and timeouts, each with its moderator."""
    posts: list[Delivery | None] = []
    if event.roles_added or event.roles_removed:
        entry = exact_entry(audit, AuditAction.MEMBER_ROLE_UPDATE, event.user.id, event.at)
        for log_type, roles in (
            (LogType.ROLE_ADD, event.roles_added),
            (LogType.ROLE_REMOVE, event.roles_removed),
        ):
            for role_id in roles:
                posts.append(
                    await service.record(
                        session,
                        guild_id=event.guild_id,
                        log_type=log_type,
                        at=event.at,
                        subject_is_bot=event.user.bot,
                        attribution=Attribution.EXACT,
                        user_id=event.user.id,
                        role_id=role_id,
                        **_moderator(entry),
                    )
                )
    if event.timeout_after != event.timeout_before:
        entry = exact_entry(audit, AuditAction.MEMBER_UPDATE, event.user.id, event.at)
        ends = event.timeout_after
        if ends is not None and ends > event.at:
            before, after = lazy("not timed out"), lazy("until {ends:f}", ends=ends)
        else:
            before, after = lazy("timed out"), lazy("timeout removed")
        posts.append(
            await service.record(
                session,
                guild_id=event.guild_id,
                log_type=LogType.MEMBER_TIMEOUT,
                at=event.at,
                subject_is_bot=event.user.bot,
                attribution=Attribution.EXACT,
                user_id=event.user.id,
                before=store(before, MAX_TEXT),
                after=store(after, MAX_TEXT),
                **_moderator(entry),
            )
        )
    return [post for post in posts if post is not None]


async def channel_changed(
    session: AsyncSession, event: ChannelChanged, audit: Sequence[AuditEntry] = ()
) -> Delivery | None:
    """A channel created or deleted, with who did it."""
    action = AuditAction.CHANNEL_CREATE if event.created else AuditAction.CHANNEL_DELETE
    entry = exact_entry(audit, action, event.channel_id, event.at)
    return await service.record(
        session,
        guild_id=event.guild_id,
        log_type=LogType.CHANNEL_CREATE if event.created else LogType.CHANNEL_DELETE,
        at=event.at,
        attribution=Attribution.EXACT,
        channel_id=event.channel_id,
        detail=store(lazy("**Name:** #{name}", name=event.name), MAX_DETAIL),
        **_moderator(entry),
    )


async def system_event(
    session: AsyncSession, guild_id: int, text: str | LazyText, *, at: datetime
) -> Delivery | None:
    """Record something Kyrios itself noticed (a missing permission, a deleted log channel).

    Pass `lazy("…", …)` to have it read in each reader's language; plain text is kept as written.
    """
    return await service.record(
        session, guild_id=guild_id, log_type=LogType.SYSTEM_EVENT, at=at, detail=store(text, MAX_DETAIL)
    )
