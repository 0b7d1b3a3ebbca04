"""Auto role: give every member who joins the guild's auto role (the discord.py adapter)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from kyrios.core.ports import DiscordForbidden, DiscordNotFound
from kyrios.features.auto_role import service

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot

log = logging.getLogger(__name__)
REASON = "Kyrios auto role (/settings set auto_role)"


class AutoRole(commands.Cog, name="auto_role"):
    """Adds the configured role on join; tells the admin once when it cannot."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        """PUT /guilds/{guild}/members/{user}/roles/{role} for humans who join."""
        if member.bot:
            return
        runtime = self.bot.runtime
        async with runtime.db.read() as session:
            role_id = await service.role(session, member.guild.id)
        if role_id is None:
            return
        try:
            await self.bot.port.add_role(member.guild.id, member.id, role_id, reason=REASON)
        except DiscordNotFound:
            now = runtime.clock.now()
            await runtime.db.run(lambda session: service.set_role(session, member.guild.id, None, now=now))
            await self.bot.admin_notices.tell_once(
                member.guild.id,
                "auto-role-gone",
                f"the auto role <@&{role_id}> no longer exists, so auto role is now off. "
                "Choose another with `/settings set auto_role:`.",
            )
        except DiscordForbidden:
            await self.bot.admin_notices.tell_once(
                member.guild.id,
                f"auto-role-forbidden-{role_id}",
                f"I could not give new members <@&{role_id}>: I need Manage Roles, "
                "and my highest role must be above it.",
            )


async def setup(bot: KyriosBot) -> None:
    """Add the auto-role cog."""
    await bot.add_cog(AutoRole(bot))
