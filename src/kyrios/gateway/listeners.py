"""Several listeners per gateway event, and clean-up hooks, for the slices' cog modules.

`discord.Client` calls exactly one `on_<event>` method per event; the modlog, avatars and settings
cogs (and the prefix-command door) all want `on_message` or `on_member_update`, so listeners are
registered here and scheduled the way discord.py schedules its own handlers (errors go to
`on_error`, one task per listener).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import discord

log = logging.getLogger(__name__)

LISTENER_GRACE = 10.0
Listener = Callable[..., Coroutine[Any, Any, None]]
Closer = Callable[[], Awaitable[None]]

# Each module has `setup(bot)`; it registers listeners (and closers) and keeps its own state.
COG_MODULES = (
    "kyrios.features.modlog.cog",
    "kyrios.features.avatars.cog",
    "kyrios.features.guild_settings.cog",
    "kyrios.gateway.prefix",
)


class ListenerHub(discord.AutoShardedClient):
    """An `AutoShardedClient` that also dispatches to registered listeners and runs closers on close."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra_listeners: dict[str, list[Listener]] = {}
        self.closers: list[Closer] = []
        self.cogs: dict[str, Any] = {}  # each cog module's state, by name (tests reach in here)
        self._running: set[asyncio.Task[Any]] = set()
        self._closing = False

    def listen(self, event: str, listener: Listener) -> None:
        """Call `listener` for every `event` (discord.py's name without `on_`, e.g. `raw_message_delete`)."""
        self.extra_listeners.setdefault(event, []).append(listener)

    def on_close(self, closer: Closer) -> None:
        """Run `closer` when the bot closes (flush queues, stop tasks)."""
        self.closers.append(closer)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """discord.py's dispatch, then every registered listener."""
        super().dispatch(event_name, *args, **kwargs)
        if self._closing:
            return  # a listener started now could outlive the database it writes to
        for listener in self.extra_listeners.get(event_name, ()):
            task = self._schedule_event(listener, f"on_{event_name}", *args, **kwargs)
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def close(self) -> None:
        """Let running listeners finish (they hold database connections), run the closers, disconnect."""
        self._closing = True
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=LISTENER_GRACE)
            for task in late:
                task.cancel()
            if late:
                log.warning("cancelled %d listeners still running at close", len(late))
                await asyncio.gather(*late, return_exceptions=True)
        for closer in self.closers:
            try:
                await closer()
            except Exception:
                log.exception("closing %r failed", closer)
        self.closers.clear()
        await super().close()

    def install_cogs(self, modules: tuple[str, ...] = COG_MODULES) -> None:
        """Import each cog module and call its `setup(bot)`."""
        for name in modules:
            importlib.import_module(name).setup(self)
