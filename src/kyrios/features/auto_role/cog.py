"""Auto role: give every member who joins the guild's auto role (the discord.py adapter)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from kyrios.core.i18n import N_, lazy
from kyrios.core.ports import DiscordForbidden, DiscordNotFound
from kyrios.features.auto_role import service
from kyrios.features.guild_settings.service import guild_translator

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot

log = logging.getLogger(__name__)
REASON = N_("Kyrios auto role (/settings set auto_role)")
"""The audit log's reason for the role, in the guild's language."""
ROLE_GONE = N_(
    "The auto role <@&{role_id}> no longer exists, so auto role is now off. "
    "Choose another with `/settings set auto_role:`."
)
ROLE_FORBIDDEN = N_(
    "I could not give new members <@&{role_id}>: I need Manage Roles, and my highest role must be above it."
)


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
            reason = (await guild_translator(session, member.guild.id)).t(REASON)
        try:
            await self.bot.port.add_role(member.guild.id, member.id, role_id, reason=reason)
        except DiscordNotFound:
            now = runtime.clock.now()
            await runtime.db.run(lambda session: service.set_role(session, member.guild.id, None, now=now))
            await self.bot.admin_notices.tell_once(
                member.guild.id, "auto-role-gone", lazy(ROLE_GONE, role_id=str(role_id))
            )
        except DiscordForbidden:
            await self.bot.admin_notices.tell_once(
                member.guild.id,
                f"auto-role-forbidden-{role_id}",
                lazy(ROLE_FORBIDDEN, role_id=str(role_id)),
            )


async def setup(bot: KyriosBot) -> None:
    """Add the auto-role cog."""
    await bot.add_cog(AutoRole(bot))
