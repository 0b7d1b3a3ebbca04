"""The gateway bot's cogs: the one list of them, and discord.py's bot kept to what we use of it.

Listeners are declared where they live: each slice's manifest names the module holding its
`commands.Cog`, whose methods carry `@commands.Cog.listener()`, and `async def setup(bot)` adding
it (the signature of discord.py's extensions, loaded here without their hot reload). A cog releases what
it holds in `cog_unload`, which discord.py calls when the bot closes.

`commands.AutoShardedBot` brings two things we do not want: text commands in its `on_message`
(our prefix door is a cog) and an `app_commands.CommandTree` that would answer interactions
(ours answers every one through the registry) or overwrite our registered commands on `sync`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from kyrios.slices import cog_modules

log = logging.getLogger(__name__)

LISTENER_GRACE = 10.0
"""Seconds `close` lets running listeners finish (they write to the database) before the cogs unload."""


class InertCommandTree(app_commands.CommandTree[Any]):
    """discord.py's command tree, out of the way: it answers no interaction and syncs nothing."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Refuse every interaction: `KyriosBot.on_interaction` answers them through the registry."""
        return False

    async def sync(self, *, guild: discord.abc.Snowflake | None = None) -> list[app_commands.AppCommand]:
        """Refuse: the tree is empty, so syncing would delete every command we registered."""
        raise RuntimeError("Kyrios registers its commands with `kyrios sync-commands`, not the command tree")


class CogHost(commands.AutoShardedBot):
    """An `AutoShardedBot` running our cogs; on close, running listeners finish before cogs unload."""

    def __init__(self, *, intents: discord.Intents, **options: Any) -> None:
        super().__init__(
            command_prefix=(), help_command=None, tree_cls=InertCommandTree, intents=intents, **options
        )
        self._running: set[asyncio.Task[Any]] = set()
        self._closing = False

    async def load_cogs(self, modules: tuple[str, ...] | None = None) -> None:
        """Import each cog module (every slice's, unless given) and await its `setup(bot)`."""
        for name in cog_modules() if modules is None else modules:
            await importlib.import_module(name).setup(self)

    async def on_message(self, message: discord.Message, /) -> None:
        """Nothing: discord.py's text commands stay off (the prefix door is a cog)."""

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """discord.py's dispatch, until `close` starts: a listener started then could outlive the database."""
        if not self._closing:
            super().dispatch(event_name, *args, **kwargs)

    def _schedule_event(
        self,
        coro: Callable[..., Coroutine[Any, Any, Any]],
        event_name: str,
        *args: Any,
        **kwargs: Any,
    ) -> asyncio.Task[Any]:
        task = super()._schedule_event(coro, event_name, *args, **kwargs)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def settle(self) -> None:
        """Wait until no listener runs (the effects of every event received so far are written)."""
        while running := self._running - {asyncio.current_task()}:
            await asyncio.wait(running)

    async def close(self) -> None:
        """Let running listeners finish, unload the cogs (flush queues, stop tasks), disconnect."""
        self._closing = True
        running = self._running - {asyncio.current_task()}
        if running:
            _, late = await asyncio.wait(running, timeout=LISTENER_GRACE)
            for task in late:
                task.cancel()
            if late:
                log.warning("cancelled %d listeners still running at close", len(late))
                await asyncio.gather(*late, return_exceptions=True)
        await super().close()
