"""The achievements slice in the bot process: runs the outbox relay (`relay.py`) while the bot runs.

It needs no intent: it only posts announcements and grants roles through the bot's port.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from discord.ext import commands

from kyrios.features.achievements.relay import OutboxRelay

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot


class AchievementAnnouncements(commands.Cog, name="achievements"):
    """Announces unlocks of the guilds this bot serves, each once, from the outbox."""

    def __init__(self, bot: KyriosBot) -> None:
        runtime = bot.runtime
        self.relay = OutboxRelay(
            runtime.db,
            runtime.bus,
            runtime.clock,
            lambda: bot.port,
            lambda guild_id: bot.get_guild(guild_id) is not None,
        )
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        """Start delivering the outbox."""
        self._task = asyncio.create_task(self.relay.run(), name="achievement-relay")

    async def cog_unload(self) -> None:
        """Stop delivering it (pending rows wait for the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def setup(bot: KyriosBot) -> None:
    """Add the achievements cog."""
    await bot.add_cog(AchievementAnnouncements(bot))
