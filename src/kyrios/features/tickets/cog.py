"""The discord.py adapter of tickets: records ticket channels' messages, runs the `ChannelKeeper`.

The transcript is the slice's own (`tickets_message`), recorded from the gateway's messages whatever
the moderation log's message store is set to.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.tickets import service
from kyrios.features.tickets.keeper import ChannelKeeper
from kyrios.features.tickets.models import Ticket
from kyrios.features.tickets.sweeper import Sweeper

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot


def seen(message: discord.Message, at: datetime) -> service.Seen:
    """A gateway message as the service reads it."""
    return service.Seen(
        channel_id=message.channel.id,
        message_id=message.id,
        author_id=message.author.id,
        author_name=message.author.display_name,
        content=message.content,
        attachments=tuple((a.filename, a.url) for a in message.attachments),
        is_bot=message.author.bot,
        at=at,
    )


class Tickets(commands.Cog, name="tickets"):
    """Transcripts from the gateway; ticket channels through the port."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot
        self.runtime = bot.runtime
        self.keeper = ChannelKeeper(
            bot.runtime.bus,
            bot.runtime.db,
            bot.port,
            bot_id=lambda: bot.user.id if bot.user else 0,
            serves=lambda g: bot.get_guild(g) is not None,
            now=bot.runtime.clock.now,
        )
        self.sweeper = Sweeper(bot.runtime.db, bot.runtime.bus, bot.port, now=bot.runtime.clock.now)

    async def cog_load(self) -> None:
        """Start making ticket channels and sweeping for reminders and auto-closes."""
        self.keeper.start()
        self.sweeper.start()

    async def cog_unload(self) -> None:
        """Stop (when the bot closes)."""
        await self.sweeper.close()
        await self.keeper.close()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A message in a ticket's channel joins its transcript (ticket channels sit in a category)."""
        if message.guild is None or getattr(message.channel, "category_id", None) is None:
            return
        line = seen(message, self.runtime.clock.now())
        async with self.runtime.db.read() as session:  # most messages are in no ticket: no write for them
            if await service.in_channel(session, line.channel_id) is None:
                return

        async def work(session: AsyncSession) -> Ticket | None:
            return await service.record(session, line)

        await self.runtime.db.run(work)


async def setup(bot: KyriosBot) -> None:
    """Add the tickets cog."""
    await bot.add_cog(Tickets(bot))
