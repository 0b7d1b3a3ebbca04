"""The stock slice in the bot process: runs the market notifier (`notify.py`) while the bot runs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from discord.ext import commands

from kyrios.features.stock.notify import MarketNotifier

if TYPE_CHECKING:
    from kyrios.gateway.bot import KyriosBot


class StockNotices(commands.Cog, name="stock"):
    """Posts big market moves and members' large trades to the guilds that asked for them."""

    def __init__(self, bot: KyriosBot) -> None:
        runtime = bot.runtime
        self.notifier = MarketNotifier(
            runtime.db, runtime.bus, runtime.clock, lambda: runtime.exchange, lambda: bot.port
        )
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        """Start following the market."""
        self._task = asyncio.create_task(self.notifier.run(), name="stock-notifier")

    async def cog_unload(self) -> None:
        """Stop following it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def setup(bot: KyriosBot) -> None:
    """Add the stock notifications cog."""
    await bot.add_cog(StockNotices(bot))
