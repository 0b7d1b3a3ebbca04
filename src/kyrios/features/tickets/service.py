"""Support tickets: open, handle, close, archive and reopen; the transcript, the blacklist, the stats.

Invariants: a ticket moves OPEN → IN_PROGRESS (claimed) → CLOSED → ARCHIVED, and reopening takes a
CLOSED or ARCHIVED ticket back to OPEN; every status change writes a system line to the ticket's
own transcript (`tickets_message`) in the same transaction; a blacklisted member opens nothing, and
a member has at most `max_open_per_category` live tickets per category. Nothing here talks to
Discord: the gateway's `ChannelKeeper` makes the channels these rows describe.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.db import Sql
from kyrios.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import Stat
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.tickets.models import (
    LIVE,
    Ticket,
    TicketBlacklist,
    TicketCategory,
    TicketMessage,
    TicketPriority,
    TicketsSettings,
    TicketStatus,
)

MAX_TITLE = 100
MAX_DESCRIPTION = 1000
MAX_REASON = 400
MAX_PER_CATEGORY = 10
MAX_AUTO_CLOSE_HOURS = 24 * 30
LIST_LIMIT = 25
REMIND_EVERY = timedelta(hours=2)
"""How often staff are pinged again about a ticket past its deadline that nobody has answered."""
_OPENED = "SELECT COUNT(*) FROM tickets_ticket WHERE guild_id = ? AND opener_id = ?"
_HANDLED = (
    "SELECT COUNT(*) FROM tickets_ticket WHERE guild_id = ? AND closed_at IS NOT NULL"
    " AND opener_id <> ? AND (closed_by = ? OR claimed_by = ?)"
)
"""Closed tickets a member handled as staff: closed or claimed, and not their own."""
ORPHAN_AFTER = timedelta(minutes=2)
"""How long a live ticket may wait for its channel before the sweeper asks for it again."""


async def settings(session: AsyncSession, guild_id: int) -> TicketsSettings:
    """The guild's ticket rules, cached per config version."""
    return await guild_settings.slice_settings(session, TicketsSettings, guild_id)


async def configure(
    session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any
) -> TicketsSettings:
    """Change the guild's ticket rules (`category_id`, `archive_category_id`, `staff_role_ids`,
    `max_open_per_category`, `delete_on_close`, `auto_close_hours`; None clears a nullable one)."""
    if "max_open_per_category" in changes and not 1 <= changes["max_open_per_category"] <= MAX_PER_CATEGORY:
        raise InvalidInput("The limit per category is 1 to {max}.", max=MAX_PER_CATEGORY)
    hours = changes.get("auto_close_hours")
    if hours is not None and not 1 <= hours <= MAX_AUTO_CLOSE_HOURS:
        raise InvalidInput("Auto-close takes 1 to {max} hours.", max=MAX_AUTO_CLOSE_HOURS)
    return await guild_settings.change_slice_settings(session, TicketsSettings, guild_id, now=now, **changes)


def staff_roles(rules: TicketsSettings) -> list[int]:
    """The guild's staff role ids."""
    return [int(part) for part in rules.staff_role_ids.split(",") if part.strip()]


def is_staff(rules: TicketsSettings, role_ids: Sequence[int], *, admin: bool) -> bool:
    """Whether a member may handle tickets: an admin, or a holder of a staff role."""
    return admin or bool(set(role_ids) & set(staff_roles(rules)))


async def _line(session: AsyncSession, ticket: Ticket, author_id: int, text: str, now: datetime) -> None:
    """A system line of the transcript (English: the transcript is a record, not a reply)."""
    session.add(
        TicketMessage(ticket_id=ticket.id, author_id=author_id, content=text, is_system=True, created_at=now)
    )
    await session.flush()


async def open_ticket(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    category: TicketCategory,
    title: str,
    description: str,
    now: datetime,
    channel_id: int | None = None,
) -> Ticket:
    """Open a ticket (its channel is made by the gateway once this commits); an achievement it
    earns the opener is announced in `channel_id`."""
    rules = await settings(session, guild_id)
    if rules.category_id is None:
        raise InvalidInput(
            "This server has no ticket category yet: an admin sets one with `/settings set ticket_category:`."
        )
    title, description = title.strip(), description.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidInput("A ticket's title is 1 to {max} characters.", max=MAX_TITLE)
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("A ticket's description is at most {max} characters.", max=MAX_DESCRIPTION)
    if await session.get(TicketBlacklist, (guild_id, user_id)) is not None:
        raise Forbidden("You may not open tickets on this server.")
    # Opens in one guild queue on its settings row, and the count is a locking read (the latest
    # committed rows, not a REPEATABLE READ snapshot), so simultaneous opens cannot pass the limit.
    await session.execute(
        select(TicketsSettings.guild_id).where(TicketsSettings.guild_id == guild_id).with_for_update()
    )
    live = len(
        (
            await session.scalars(
                select(Ticket.id)
                .where(
                    Ticket.guild_id == guild_id,
                    Ticket.opener_id == user_id,
                    Ticket.category == category,
                    Ticket.status.in_(LIVE),
                )
                .with_for_update()
            )
        ).all()
    )
    if live >= rules.max_open_per_category:
        raise Conflict(
            "You already have {n} open {category} ticket(s), the most this server allows; close one first.",
            n=live,
            category=category.value,
        )
    priority = TicketPriority.MEDIUM
    ticket = Ticket(
        guild_id=guild_id,
        opener_id=user_id,
        category=category,
        title=title,
        description=description,
        status=TicketStatus.OPEN,
        priority=int(priority),
        created_at=now,
        response_due_at=now + priority.response_time,
        last_opener_at=now,
    )
    session.add(ticket)
    await session.flush()
    await _line(session, ticket, user_id, f"Ticket opened ({category.value}): {title}", now)
    sql = await Sql.of(session)
    opened = int(await sql.scalar(_OPENED, (guild_id, user_id)) or 0)
    await achievements.observe(
        session,
        guild_id=guild_id,
        user_id=user_id,
        stats={Stat.TICKETS_OPENED: opened},
        now=now,
        channel_id=channel_id,
    )
    return ticket


async def get(session: AsyncSession, guild_id: int, ticket_id: int) -> Ticket:
    """A ticket of this guild, for update."""
    ticket = await session.scalar(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.guild_id == guild_id).with_for_update()
    )
    if ticket is None:
        raise NotFound("There is no ticket #{id} on this server.", id=ticket_id)
    return ticket


async def in_channel(session: AsyncSession, channel_id: int | None) -> Ticket | None:
    """The ticket whose channel this is (the newest, if a channel served several)."""
    if channel_id is None:
        return None
    return await session.scalar(
        select(Ticket).where(Ticket.channel_id == channel_id).order_by(Ticket.id.desc()).limit(1)
    )


def require_live(ticket: Ticket) -> None:
    """Refuse a closed or archived ticket."""
    if ticket.status not in LIVE:
        raise Conflict("Ticket #{id} is closed; reopen it first.", id=ticket.id)


async def claim(session: AsyncSession, ticket: Ticket, staff_id: int, now: datetime, *, by: int) -> Ticket:
    """Give the ticket to `staff_id` (claim when `by == staff_id`, assign otherwise): IN_PROGRESS."""
    require_live(ticket)
    if ticket.claimed_by == staff_id:
        raise Conflict("Ticket #{id} is already <@{user}>'s.", id=ticket.id, user=str(staff_id))
    if ticket.claimed_by is not None and by == staff_id:
        raise Conflict(
            "<@{user}> already handles ticket #{id}; they can unclaim it, or staff can assign it.",
            user=str(ticket.claimed_by),
            id=ticket.id,
        )
    ticket.claimed_by = staff_id
    ticket.status = TicketStatus.IN_PROGRESS
    verb = "claimed" if by == staff_id else f"assigned by {by}"
    await _line(session, ticket, by, f"Ticket {verb}: handled by {staff_id}", now)
    return ticket


async def unclaim(session: AsyncSession, ticket: Ticket, by: int, now: datetime, *, admin: bool) -> Ticket:
    """Hand the ticket back to every staff member: OPEN again."""
    require_live(ticket)
    if ticket.claimed_by is None:
        raise Conflict("Nobody has claimed ticket #{id}.", id=ticket.id)
    if ticket.claimed_by != by and not admin:
        raise Forbidden(
            "Only <@{user}> or an admin can unclaim ticket #{id}.", user=str(ticket.claimed_by), id=ticket.id
        )
    ticket.claimed_by = None
    ticket.status = TicketStatus.OPEN
    await _line(session, ticket, by, "Ticket unclaimed", now)
    return ticket


async def set_priority(
    session: AsyncSession, ticket: Ticket, priority: TicketPriority, by: int, now: datetime
) -> Ticket:
    """Change the priority; the response deadline counts from the opening with the new response time."""
    require_live(ticket)
    ticket.priority = int(priority)
    ticket.response_due_at = ticket.created_at + priority.response_time
    ticket.reminded_at = None
    await _line(session, ticket, by, f"Priority set to {priority.name.lower()}", now)
    return ticket


async def close(
    session: AsyncSession,
    ticket: Ticket,
    by: int,
    reason: str,
    now: datetime,
    *,
    channel_id: int | None = None,
) -> Ticket:
    """Close a live ticket with a reason; the gateway then archives or deletes its channel.

    The staff member who handled it (the closer, or its claimer when the opener closed it) has
    one more ticket closed as staff; an achievement that earns is announced in `channel_id`.
    """
    require_live(ticket)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput("A reason is at most {max} characters.", max=MAX_REASON)
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at, ticket.closed_by, ticket.close_reason = now, by, reason
    ticket.close_requested_at = None
    await _line(session, ticket, by, f"Ticket closed: {reason or '-'}", now)
    handler = by if by != ticket.opener_id else ticket.claimed_by
    if handler is not None:
        await session.flush()
        sql = await Sql.of(session)
        handled = int(await sql.scalar(_HANDLED, (ticket.guild_id, handler, handler, handler)) or 0)
        await achievements.observe(
            session,
            guild_id=ticket.guild_id,
            user_id=handler,
            stats={Stat.TICKETS_CLOSED_AS_STAFF: handled},
            now=now,
            channel_id=channel_id,
        )
    return ticket


async def archived(session: AsyncSession, ticket_id: int, channel_id: int | None, now: datetime) -> None:
    """The gateway moved (or, `channel_id` None, deleted) a closed ticket's channel: ARCHIVED."""
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None or ticket.status is not TicketStatus.CLOSED:
        return
    ticket.status = TicketStatus.ARCHIVED
    ticket.channel_id = channel_id
    await _line(session, ticket, ticket.closed_by or ticket.opener_id, "Ticket archived", now)


async def reopen(session: AsyncSession, ticket: Ticket, by: int, now: datetime) -> Ticket:
    """Take a closed or archived ticket back to OPEN (the gateway brings its channel back)."""
    if ticket.status in LIVE:
        raise Conflict("Ticket #{id} is still open.", id=ticket.id)
    ticket.status = TicketStatus.OPEN
    ticket.claimed_by = None
    ticket.closed_at, ticket.closed_by, ticket.close_reason = None, None, ""
    ticket.last_opener_at, ticket.warned_at, ticket.close_requested_at = now, None, None
    ticket.last_staff_at = None
    await _line(session, ticket, by, "Ticket reopened", now)
    return ticket


async def request_close(session: AsyncSession, ticket: Ticket, by: int, now: datetime) -> Ticket:
    """Staff ask the opener whether the ticket may be closed (the opener accepts with a button)."""
    require_live(ticket)
    ticket.close_requested_at = now
    await _line(session, ticket, by, "Close requested", now)
    return ticket


async def note(session: AsyncSession, ticket: Ticket, by: int, text: str, now: datetime) -> None:
    """A system line for an action on the channel (member added or removed, renamed)."""
    await _line(session, ticket, by, text, now)


async def set_channel(session: AsyncSession, ticket_id: int, channel_id: int | None) -> None:
    """Record the channel the gateway made (or None when it is gone)."""
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is not None:
        ticket.channel_id = channel_id


async def discard(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """Forget a ticket whose channel Discord refused to make (the opener is told why)."""
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is not None:
        await session.execute(delete(TicketMessage).where(TicketMessage.ticket_id == ticket_id))
        await session.delete(ticket)
    return ticket


@dataclass(frozen=True, slots=True)
class Seen:
    """A gateway message in some channel, as plain values."""

    channel_id: int
    message_id: int
    author_id: int
    author_name: str
    content: str
    attachments: tuple[tuple[str, str], ...]
    is_bot: bool
    at: datetime


async def record(session: AsyncSession, seen: Seen) -> Ticket | None:
    """Add a message of a ticket channel to the ticket's transcript; returns the ticket (None: no ticket).

    A member other than the opener answering first stamps `first_response_at`; the opener's own
    message restarts the auto-close clock and withdraws its warning."""
    ticket = await in_channel(session, seen.channel_id)
    if ticket is None:
        return None
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            message_id=seen.message_id,
            author_id=seen.author_id,
            author_name=seen.author_name[:100],
            content=seen.content,
            attachments="\n".join(f"{name}\t{url}" for name, url in seen.attachments),
            is_system=seen.is_bot,
            created_at=seen.at,
        )
    )
    if ticket.status in LIVE and not seen.is_bot:
        if seen.author_id == ticket.opener_id:
            ticket.last_opener_at, ticket.warned_at = seen.at, None
        else:
            ticket.last_staff_at = seen.at
            if ticket.first_response_at is None:
                ticket.first_response_at = seen.at
    return ticket


async def transcript(session: AsyncSession, ticket_id: int) -> list[TicketMessage]:
    """The ticket's transcript, oldest first."""
    rows = await session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
    )
    return list(rows)


class Scope(StrEnum):
    """Which tickets `/ticket list` shows."""

    MINE = "mine"
    OPEN = "open"
    PRIORITY = "priority"


async def listing(session: AsyncSession, guild_id: int, scope: Scope, user_id: int) -> list[Ticket]:
    """Mine: the member's tickets, newest first; open: the live ones, oldest first; priority: the
    live ones, most urgent first."""
    query = select(Ticket).where(Ticket.guild_id == guild_id)
    if scope is Scope.MINE:
        query = query.where(Ticket.opener_id == user_id).order_by(Ticket.id.desc())
    elif scope is Scope.OPEN:
        query = query.where(Ticket.status.in_(LIVE)).order_by(Ticket.id)
    else:
        query = query.where(Ticket.status.in_(LIVE)).order_by(Ticket.priority.desc(), Ticket.id)
    return list(await session.scalars(query.limit(LIST_LIMIT)))


@dataclass(frozen=True, slots=True)
class Stats:
    """A guild's ticket figures."""

    by_status: dict[TicketStatus, int]
    by_priority: dict[TicketPriority, int]
    median_first_response: timedelta | None
    median_close: timedelta | None


def _median(spans: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=statistics.median(s.total_seconds() for s in spans)) if spans else None


async def stats(session: AsyncSession, guild_id: int) -> Stats:
    """Counts by status and priority, and the median times to the first staff answer and to closing."""
    rows = (
        await session.execute(
            select(
                Ticket.status, Ticket.priority, Ticket.created_at, Ticket.first_response_at, Ticket.closed_at
            ).where(Ticket.guild_id == guild_id)
        )
    ).all()
    by_status = Counter(row.status for row in rows)
    by_priority = Counter(TicketPriority(row.priority) for row in rows)
    answered = [row.first_response_at - row.created_at for row in rows if row.first_response_at]
    closed = [row.closed_at - row.created_at for row in rows if row.closed_at]
    return Stats(
        {s: by_status.get(s, 0) for s in TicketStatus},
        {p: by_priority.get(p, 0) for p in TicketPriority},
        _median(answered),
        _median(closed),
    )


async def blacklist(
    session: AsyncSession, guild_id: int, user_id: int, by: int, reason: str, now: datetime
) -> None:
    """Bar a member from opening tickets."""
    if len(reason) > MAX_REASON:
        raise InvalidInput("A reason is at most {max} characters.", max=MAX_REASON)
    if await session.get(TicketBlacklist, (guild_id, user_id)) is not None:
        raise Conflict("<@{user}> is already on the ticket blacklist.", user=str(user_id))
    session.add(TicketBlacklist(guild_id=guild_id, user_id=user_id, reason=reason, added_by=by, added_at=now))
    await session.flush()


async def unblacklist(session: AsyncSession, guild_id: int, user_id: int) -> None:
    """Let a member open tickets again."""
    row = await session.get(TicketBlacklist, (guild_id, user_id))
    if row is None:
        raise NotFound("<@{user}> is not on the ticket blacklist.", user=str(user_id))
    await session.delete(row)


async def blacklisted(session: AsyncSession, guild_id: int) -> list[TicketBlacklist]:
    """The guild's blacklist, oldest first."""
    rows = await session.scalars(
        select(TicketBlacklist).where(TicketBlacklist.guild_id == guild_id).order_by(TicketBlacklist.added_at)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Due:
    """What the sweeper must announce: overdue first answers, auto-close warnings and closings, and
    live tickets still without a channel (their channel work was lost: the bot was down)."""

    reminders: list[Ticket]
    warnings: list[Ticket]
    closed: list[Ticket]
    orphans: list[Ticket] = field(default_factory=list)


def auto_close_times(ticket: Ticket, hours: int) -> tuple[datetime, datetime] | None:
    """(warn at, close at) for a ticket waiting on its opener; None while staff owe the answer.

    The warning comes at three quarters of the delay after staff's last message; the close at the
    full delay, and never sooner than a quarter of the delay after the warning went out."""
    if ticket.last_staff_at is None or ticket.last_staff_at <= ticket.last_opener_at:
        return None
    delay = timedelta(hours=hours)
    warn_at = ticket.last_staff_at + delay * 3 / 4
    close_at = ticket.last_staff_at + delay
    if ticket.warned_at is not None:
        close_at = max(close_at, ticket.warned_at + delay / 4)
    return warn_at, close_at


async def sweep(session: AsyncSession, now: datetime) -> Due:
    """Stamp what is due now (each at most once): the staff reminder of a ticket past its response
    deadline without a staff answer (again every `REMIND_EVERY` until one comes), the opener's
    auto-close warning, and the auto-close itself."""
    live = list(
        await session.scalars(
            select(Ticket).where(Ticket.status.in_(LIVE)).order_by(Ticket.id).with_for_update()
        )
    )
    due = Due([], [], [])
    hours_of: dict[int, int | None] = {}
    for ticket in live:
        if ticket.channel_id is None and max(ticket.created_at, ticket.last_opener_at) <= now - ORPHAN_AFTER:
            due.orphans.append(ticket)
        reminded = ticket.reminded_at
        if (
            ticket.first_response_at is None
            and ticket.response_due_at <= now
            and (reminded is None or reminded <= now - REMIND_EVERY)
        ):
            ticket.reminded_at = now
            due.reminders.append(ticket)
        if ticket.guild_id not in hours_of:
            hours_of[ticket.guild_id] = (await settings(session, ticket.guild_id)).auto_close_hours
        hours = hours_of[ticket.guild_id]
        times = auto_close_times(ticket, hours) if hours else None
        if times is None:
            continue
        warn_at, close_at = times
        if ticket.warned_at is None and now >= warn_at:
            ticket.warned_at = now
            await _line(session, ticket, 0, "Auto-close warning", now)
            due.warnings.append(ticket)
        elif ticket.warned_at is not None and now >= close_at:
            await close(session, ticket, 0, "Auto-closed: no answer from the opener", now)
            due.closed.append(ticket)
    await session.flush()
    return due
