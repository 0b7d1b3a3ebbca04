"""The discord.py adapter of activity points: messages and voice minutes -> `earning`.

Only translation lives here: who spoke or moved, where, with which roles, and when. The rate limit
(one paid message per cooldown) and the voice clock are the service's, kept in the database, so
several shards and restarts agree. A member "counts" in voice while in a channel that is not the
guild's AFK channel and not deafened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.economy import earning

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot


def _roles(member: discord.Member | discord.User) -> tuple[int, ...]:
    return tuple(role.id for role in getattr(member, "roles", ()))


def counts_in_voice(member: discord.Member, state: discord.VoiceState) -> bool:
    """In a voice channel, not the AFK one, and hearing it."""
    channel = state.channel
    if channel is None or state.self_deaf or state.deaf:
        return False
    return channel != member.guild.afk_channel


class EconomyCog(commands.Cog, name="economy"):
    """Pays activity points for messages and voice minutes."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot
        self.runtime = bot.runtime

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A member's message in a guild: points, at most once per cooldown."""
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        guild_id, user_id, roles = message.guild.id, message.author.id, _roles(message.author)
        channel_id, now = message.channel.id, self.runtime.clock.now()

        async def work(session: AsyncSession) -> int:
            if not await earning.enabled(session, guild_id):
                return 0
            return await earning.message_sent(
                session, guild_id=guild_id, user_id=user_id, role_ids=roles, now=now, channel_id=channel_id
            )

        await self.runtime.db.run(work)

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        """Start the voice clock when a member starts counting, pay it when they stop."""
        if member.bot:
            return
        was, now_counts = counts_in_voice(member, before), counts_in_voice(member, after)
        if was == now_counts:
            return
        guild_id, user_id, roles = member.guild.id, member.id, _roles(member)
        now = self.runtime.clock.now()

        async def work(session: AsyncSession) -> None:
            if now_counts:
                await earning.voice_joined(session, guild_id=guild_id, user_id=user_id, now=now)
            elif await earning.enabled(session, guild_id):
                await earning.voice_left(session, guild_id=guild_id, user_id=user_id, role_ids=roles, now=now)
            else:
                await earning.voice_left(
                    session, guild_id=guild_id, user_id=user_id, role_ids=(), now=now, pay=False
                )

        await self.runtime.db.run(work)


async def setup(bot: KyriosBot) -> None:
    """Add the activity-points cog."""
    await bot.add_cog(EconomyCog(bot))
