"""The bot's periodic ticket chores: remind staff of overdue tickets, warn and auto-close idle ones,
ask again for the channel of a ticket whose channel work was lost.

`service.sweep` stamps what is due in one transaction (so each reminder, warning and closing happens
once); the messages go out after the commit, and an auto-closed ticket's channel is archived by the
`ChannelKeeper` like any other closing (its work is published on the bus).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import EventBus
from kyrios.core.db import Database
from kyrios.core.ports import DiscordError, DiscordPort, Json
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.tickets import service
from kyrios.features.tickets.events import CHANNEL_WORK, ChannelWork, Work
from kyrios.features.tickets.models import Ticket
from kyrios.features.tickets.words import priority_name
from kyrios.slash.reply import Reply

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Notice:
    """One ticket to speak about, as plain values (read inside the sweep's transaction)."""

    guild_id: int
    ticket_id: int
    channel_id: int | None
    opener_id: int
    priority: int
    staff: tuple[int, ...]
    close_at: datetime | None
    claimed_by: int | None = None


class Sweeper:
    """Runs `sweep` every `interval` seconds for the guilds this bot serves (`sweep()` runs one)."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        port: DiscordPort,
        *,
        now: Callable[[], datetime],
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self.db, self.bus, self.port, self.now, self.interval = db, bus, port, now, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sweep in the background (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="tickets-sweeper")

    async def close(self) -> None:
        """Stop sweeping."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("the ticket sweep failed")

    async def sweep(self) -> None:
        """Stamp what is due now, then announce it."""
        now = self.now()

        async def work(session: AsyncSession) -> tuple[list[Notice], ...]:
            due = await service.sweep(session, now)
            return (
                [await _notice(session, t) for t in due.reminders],
                [await _notice(session, t, warning=True) for t in due.warnings],
                [await _notice(session, t) for t in due.closed],
                [await _notice(session, t) for t in due.orphans],
            )

        reminders, warnings, closed, orphans = await self.db.run(work)
        for notice in orphans:
            self.bus.publish(
                CHANNEL_WORK, ChannelWork(Work.OPEN, notice.guild_id, notice.ticket_id).to_message()
            )
        for notice in reminders:
            await self._remind(notice)
        for notice in warnings:
            await self._warn(notice)
        for notice in closed:
            self.bus.publish(
                CHANNEL_WORK, ChannelWork(Work.CLOSE, notice.guild_id, notice.ticket_id).to_message()
            )

    async def _post(self, channel_id: int | None, body: Json) -> None:
        if channel_id is None:
            return
        try:
            await self.port.send_message(channel_id, body)
        except DiscordError as exc:
            log.info("could not post a ticket notice in %s: %s", channel_id, exc)

    async def _remind(self, notice: Notice) -> None:
        async with self.db.read() as session:
            words = await guild_settings.guild_translator(session, notice.guild_id)
        # whoever is expected to answer: the handler of a claimed ticket, else the staff roles
        roles = f"<@{notice.claimed_by}>" if notice.claimed_by else " ".join(f"<@&{r}>" for r in notice.staff)
        text = words.t(
            "⏰ {roles} Ticket #{id} ({priority}) is past its response deadline without a staff answer.",
            roles=roles,
            id=notice.ticket_id,
            priority=priority_name(words, notice.priority),
        )
        ping = (notice.claimed_by,) if notice.claimed_by else ()
        body = Reply(content=text.strip(), ping=ping).to_message()
        if not notice.claimed_by:
            body["allowed_mentions"]["roles"] = [str(r) for r in notice.staff]
        await self._post(notice.channel_id, body)

    async def _warn(self, notice: Notice) -> None:
        async with self.db.read() as session:
            words = await guild_settings.guild_translator(session, notice.guild_id)
        assert notice.close_at is not None
        text = words.t(
            "<@{user}>, this ticket closes {when} unless you answer.",
            user=str(notice.opener_id),
            when=words.time(notice.close_at, "R"),
        )
        await self._post(notice.channel_id, Reply(content=text, ping=(notice.opener_id,)).to_message())


async def _notice(session: AsyncSession, ticket: Ticket, *, warning: bool = False) -> Notice:
    rules = await service.settings(session, ticket.guild_id)
    when = None
    if warning and rules.auto_close_hours:
        times = service.auto_close_times(ticket, rules.auto_close_hours)
        when = times[1] if times else None
    return Notice(
        ticket.guild_id,
        ticket.id,
        ticket.channel_id,
        ticket.opener_id,
        ticket.priority,
        tuple(service.staff_roles(rules)),
        when,
        ticket.claimed_by,
    )
