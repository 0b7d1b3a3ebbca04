"""Makes on Discord what ticket commands decided: channels, their overwrites, archives, transcript DMs.

`ChannelKeeper` follows `CHANNEL_WORK` in the bot process and acts through the `DiscordPort`. A
ticket's channel lives under the guild's ticket category, or under an overflow category ("Tickets
2", "Tickets 3" …, made when needed) once a category holds Discord's 50 channels; a guild at
Discord's 500 channels gets no channel: the ticket is discarded and the opener told why by DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import EventBus, Follower, Message
from kyrios.core.db import Database
from kyrios.core.i18n import Translator
from kyrios.core.ports import (
    Channel,
    ChannelType,
    DiscordError,
    DiscordPort,
    Overwrite,
    OverwriteType,
    Upload,
)
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.tickets import service, transcript
from kyrios.features.tickets.events import CHANNEL_WORK, ChannelWork, Work
from kyrios.features.tickets.models import Ticket, TicketPriority, TicketsSettings, TicketStatus
from kyrios.features.tickets.words import category_name, priority_name
from kyrios.slash.reply import Button, ButtonStyle, Colour, Embed, Reply

log = logging.getLogger(__name__)

CATEGORY_LIMIT = 50
GUILD_LIMIT = 500
VIEW = 1 << 10
SEND = 1 << 11
EMBED = 1 << 14
ATTACH = 1 << 15
HISTORY = 1 << 16
MANAGE_CHANNELS = 1 << 4
MANAGE_ROLES = 1 << 28
MEMBER = VIEW | SEND | EMBED | ATTACH | HISTORY
BOT = MEMBER | MANAGE_CHANNELS | MANAGE_ROLES
REASON = "Kyrios ticket #{id}"


def ticket_overwrites(
    guild_id: int, opener_id: int, staff: Sequence[int], bot_id: int, *, opener_sees: bool = True
) -> list[Overwrite]:
    """@everyone denied; the opener (unless archived), each staff role and the bot allowed."""
    rows = [Overwrite(guild_id, OverwriteType.ROLE, deny=VIEW)]
    rows += [Overwrite(role, OverwriteType.ROLE, allow=MEMBER) for role in staff]
    rows.append(Overwrite(bot_id, OverwriteType.MEMBER, allow=BOT))
    if opener_sees:
        rows.append(Overwrite(opener_id, OverwriteType.MEMBER, allow=MEMBER))
    else:
        rows.append(Overwrite(opener_id, OverwriteType.MEMBER, deny=VIEW))
    return rows


def overflow_name(base: str, n: int) -> str:
    """The n-th category of a guild's tickets (n ≥ 2)."""
    return f"{base} {n}"


def pick_category(channels: Sequence[Channel], base_id: int) -> Channel | str | None:
    """The ticket category with room, or the name of the overflow category to make, or None when
    the base category is gone."""
    base = next((c for c in channels if c.id == base_id and c.type == ChannelType.CATEGORY), None)
    if base is None:
        return None
    children: dict[int, int] = {}
    for channel in channels:
        if channel.parent_id is not None:
            children[channel.parent_id] = children.get(channel.parent_id, 0) + 1
    if children.get(base.id, 0) < CATEGORY_LIMIT:
        return base
    categories = {c.name: c for c in channels if c.type == ChannelType.CATEGORY}
    n = 2
    while overflow_name(base.name, n) in categories:
        candidate = categories[overflow_name(base.name, n)]
        if children.get(candidate.id, 0) < CATEGORY_LIMIT:
            return candidate
        n += 1
    return overflow_name(base.name, n)


class ChannelKeeper(Follower):
    """Follows `CHANNEL_WORK` and changes the guilds this bot process serves."""

    def __init__(
        self,
        bus: EventBus,
        db: Database,
        port: DiscordPort,
        *,
        bot_id: Callable[[], int],
        serves: Callable[[int], bool],
        now: Callable[[], datetime],
    ) -> None:
        super().__init__(bus.subscribe(CHANNEL_WORK), name="tickets-channels")
        self.db = db
        self.port = port
        self.bot_id = bot_id
        self.serves = serves
        self.now = now

    async def handle(self, message: Message) -> None:
        """Do one published change (Discord's refusals are logged, never raised)."""
        job = ChannelWork.from_message(message)
        if not self.serves(job.guild_id):
            return
        try:
            await self.do(job)
        except DiscordError as exc:
            log.warning("ticket #%s: %s on Discord failed: %s", job.ticket_id, job.work, exc)

    async def _state(self, job: ChannelWork) -> tuple[Ticket, TicketsSettings, Translator] | None:
        async with self.db.read() as session:
            ticket = await session.get(Ticket, job.ticket_id)
            if ticket is None:
                return None
            rules = await service.settings(session, job.guild_id)
            words = await guild_settings.guild_translator(session, job.guild_id)
            return ticket, rules, words

    async def do(self, job: ChannelWork) -> None:
        """Carry out one change."""
        state = await self._state(job)
        if state is None:
            return
        ticket, rules, words = state
        if job.work in (Work.OPEN, Work.REOPEN):
            await self._bring_back(ticket, rules, words, reopened=job.work is Work.REOPEN)
        elif job.work is Work.CLOSE:
            await self._close(ticket, rules, words)
        elif ticket.channel_id is None:
            return
        elif job.work is Work.ADD:
            await self.port.set_overwrite(
                ticket.channel_id,
                Overwrite(job.user_id, OverwriteType.MEMBER, allow=MEMBER),
                reason=self._why(ticket),
            )
        elif job.work is Work.REMOVE:
            await self.port.delete_overwrite(ticket.channel_id, job.user_id, reason=self._why(ticket))
        elif job.work is Work.RENAME:
            await self.port.edit_channel(ticket.channel_id, name=job.name, reason=self._why(ticket))

    def _why(self, ticket: Ticket) -> str:
        return REASON.format(id=ticket.id)

    async def _parent(
        self, ticket: Ticket, rules: TicketsSettings, words: Translator, *, reopened: bool
    ) -> int | None:
        """The category for the ticket's channel (made if it overflows); None: refused, opener told.

        A refused new ticket is discarded; a refused reopening closes the ticket again (its
        transcript stays)."""
        channels = await self.port.guild_channels(ticket.guild_id)
        picked = None if rules.category_id is None else pick_category(channels, rules.category_id)
        needed = (ticket.channel_id is None) + isinstance(picked, str)
        if picked is None or len(channels) + needed > GUILD_LIMIT:
            refusal = (
                words.t(
                    "Ticket #{id} could not be opened: this server has Discord's maximum of 500 channels."
                    " Ask the staff to archive old tickets.",
                    id=ticket.id,
                )
                if picked is not None
                else words.t(
                    "Ticket #{id} could not be opened: the server's ticket category is gone."
                    " Ask an admin to set one.",
                    id=ticket.id,
                )
            )
            if reopened:
                now = self.now()
                await self.db.run(lambda s: _close_again(s, ticket.id, now))
            else:
                await self.db.run(lambda s: service.discard(s, ticket.id))
            await self._dm(ticket.opener_id, refusal)
            return None
        if isinstance(picked, str):
            base = next(c for c in channels if c.id == rules.category_id)
            made = await self.port.create_channel(
                ticket.guild_id,
                picked,
                kind=ChannelType.CATEGORY,
                overwrites=base.overwrites,
                reason=self._why(ticket),
            )
            return made.id
        return picked.id

    async def _bring_back(
        self, ticket: Ticket, rules: TicketsSettings, words: Translator, *, reopened: bool
    ) -> None:
        if ticket.status not in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
            return
        if ticket.channel_id is not None and not reopened:
            return
        overwrites = ticket_overwrites(
            ticket.guild_id, ticket.opener_id, service.staff_roles(rules), self.bot_id()
        )
        parent = await self._parent(ticket, rules, words, reopened=reopened)
        if parent is None:
            return
        channel_id = ticket.channel_id
        if channel_id is not None:
            try:
                await self.port.edit_channel(
                    channel_id, parent_id=parent, overwrites=overwrites, reason=self._why(ticket)
                )
            except DiscordError:
                channel_id = None  # deleted meanwhile: make a new one
        if channel_id is None:
            made = await self.port.create_channel(
                ticket.guild_id,
                f"ticket-{ticket.id}",
                parent_id=parent,
                topic=ticket.title,
                overwrites=overwrites,
                reason=self._why(ticket),
            )
            channel_id = made.id
            await self.db.run(lambda s: service.set_channel(s, ticket.id, made.id))
        await self.port.send_message(channel_id, intro(ticket, words, reopened=reopened).to_message())

    async def _close(self, ticket: Ticket, rules: TicketsSettings, words: Translator) -> None:
        if ticket.status is not TicketStatus.CLOSED:
            return
        async with self.db.read() as session:
            rows = await service.transcript(session, ticket.id)
        page = Upload(
            f"ticket-{ticket.id}.html", transcript.render(ticket, rows, words).encode(), "text/html"
        )
        sent = await self._dm(
            ticket.opener_id,
            words.t("Your ticket #{id} is closed. Its transcript is attached.", id=ticket.id),
            page,
        )
        if not sent and ticket.channel_id is not None and not rules.delete_on_close:
            text = words.t(
                "I could not send <@{user}> the transcript by DM (their DMs are closed);"
                " it is attached here.",
                user=str(ticket.opener_id),
            )
            await self.port.send_message(ticket.channel_id, Reply(content=text).to_message(), files=[page])
        kept: int | None = None
        if ticket.channel_id is not None:
            if rules.delete_on_close:
                await self.port.delete_channel(ticket.channel_id, reason=self._why(ticket))
            else:
                overwrites = ticket_overwrites(
                    ticket.guild_id,
                    ticket.opener_id,
                    service.staff_roles(rules),
                    self.bot_id(),
                    opener_sees=False,
                )
                if rules.archive_category_id is not None:
                    await self.port.edit_channel(
                        ticket.channel_id,
                        parent_id=rules.archive_category_id,
                        overwrites=overwrites,
                        reason=self._why(ticket),
                    )
                else:
                    await self.port.edit_channel(
                        ticket.channel_id, overwrites=overwrites, reason=self._why(ticket)
                    )
                kept = ticket.channel_id
        now = self.now()
        await self.db.run(lambda s: service.archived(s, ticket.id, kept, now))

    async def _dm(self, user_id: int, text: str, *files: Upload) -> bool:
        """DM a member; False when Discord refused (DMs closed, no shared server)."""
        try:
            await self.port.send_dm(user_id, Reply(content=text).to_message(), files=files)
        except DiscordError as exc:
            log.info("could not DM %s about a ticket: %s", user_id, exc)
            return False
        return True


async def _close_again(session: AsyncSession, ticket_id: int, now: datetime) -> None:
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is not None and ticket.status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
        await service.close(session, ticket, 0, "Reopen refused: no room for its channel", now)


def intro(ticket: Ticket, words: Translator, *, reopened: bool = False) -> Reply:
    """The message that opens a ticket's channel: what it is about, and the staff's buttons."""
    embed = Embed(
        title=words.t("🎫 Ticket #{id}: {title}", id=ticket.id, title=ticket.title),
        description=ticket.description or None,
        colour=Colour.INFO,
    )
    embed.add_field(words.t("Opened by"), f"<@{ticket.opener_id}>", inline=True)
    embed.add_field(words.t("Category"), category_name(words, ticket.category), inline=True)
    embed.add_field(words.t("Staff answer by"), words.time(ticket.response_due_at, "R"), inline=True)
    text = (
        words.t("<@{user}>, your ticket is open again.", user=str(ticket.opener_id))
        if reopened
        else words.t("<@{user}>, the staff will be with you soon.", user=str(ticket.opener_id))
    )
    buttons = [
        [
            Button(words.t("Claim"), f"ticket-claim:{ticket.id}", ButtonStyle.PRIMARY),
            Button(words.t("Close"), f"ticket-close:{ticket.id}", ButtonStyle.DANGER),
        ],
        [
            Button(
                words.t("Priority: {level}", level=priority_name(words, p)),
                f"ticket-priority:{p.name.lower()}:{ticket.id}",
            )
            for p in TicketPriority
        ],
    ]
    return Reply(content=text, embeds=[embed], buttons=buttons, ping=(ticket.opener_id,))
