"""Telling a guild's admins about a problem the bot cannot fix itself, once per problem.

The message goes to the guild's system channel when the bot can post there, else to the owner
by DM; if both fail it is only logged. "Once" is kept in the database (`notices`): a restart does
not tell again, and a problem still there a week later is told once more, as a reminder.
"""

from __future__ import annotations

import logging

import discord

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.features.guild_settings import notices

log = logging.getLogger(__name__)


class AdminNotifier:
    """Posts each (guild, problem) notice once, and again only as a reminder after `notices.REMIND_AFTER`."""

    def __init__(self, client: discord.Client, db: Database, clock: Clock) -> None:
        self.client = client
        self.db = db
        self.clock = clock

    async def tell_once(
        self, guild_id: int, problem: str, text: str, *, avoid_channel: int | None = None
    ) -> bool:
        """Tell the admins of `guild_id` about `problem`; False if already told or nobody could be reached."""
        now = self.clock.now()
        if not await self.db.run(lambda session: notices.due(session, guild_id, problem, now=now)):
            return False
        guild = self.client.get_guild(guild_id)
        if guild is None:
            log.warning("guild %s: %s (guild not cached; nobody told)", guild_id, text)
            return False
        notice = f"⚠️ **Kyrios in {guild.name}:** {text}"
        channel = guild.system_channel
        if channel is not None and channel.id != avoid_channel:
            try:
                await channel.send(notice, allowed_mentions=discord.AllowedMentions.none())
                return True
            except discord.HTTPException as exc:
                log.info("system channel of guild %s refused the notice: %s", guild_id, exc)
        try:
            owner = guild.owner or await self.client.fetch_user(guild.owner_id or 0)
            await owner.send(notice)
            return True
        except discord.HTTPException as exc:
            log.warning("guild %s: %s (could not tell the owner: %s)", guild_id, text, exc)
            return False
