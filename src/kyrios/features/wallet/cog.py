"""Wallet roles on Discord: applies the role changes commands and the signing page publish.

It needs no privileged intent: a member verified elsewhere who runs `/wallet link` with that
address in another guild gets its role there without signing again (no `on_member_join`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord.ext import commands

from kyrios.features.wallet.roles import RoleApplier

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot


class WalletRoles(commands.Cog, name="wallet"):
    """Role changes through the port, for the guilds this bot serves."""

    def __init__(self, bot: KyriosBot) -> None:
        self.bot = bot
        self.roles = RoleApplier(bot.runtime.bus, bot.port, lambda g: bot.get_guild(g) is not None)

    async def cog_load(self) -> None:
        """Start applying role changes."""
        self.roles.start()

    async def cog_unload(self) -> None:
        """Stop applying role changes (when the bot closes)."""
        await self.roles.close()


async def setup(bot: KyriosBot) -> None:
    """Add the wallet cog."""
    await bot.add_cog(WalletRoles(bot))
