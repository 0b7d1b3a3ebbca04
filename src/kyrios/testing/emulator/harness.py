"""Run the real `KyriosBot` against an emulator: start, wait until ready, close cleanly."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator.server import DiscordEmulator

READY_TIMEOUT = 10.0
# discord.py waits this long after the last GUILD_CREATE before `on_ready` (default 2 s).
GUILD_READY_TIMEOUT = 0.05


@contextlib.asynccontextmanager
async def running_bot(
    emu: DiscordEmulator,
    runtime: Runtime,
    *,
    intents: discord.Intents | None = None,
    chunk_guilds_at_startup: bool = False,
    ready_timeout: float = READY_TIMEOUT,
    reidentify_delay: float | None = None,
    **options: Any,
) -> AsyncIterator[KyriosBot]:
    """A connected, ready `KyriosBot` (logged in with the emulator's token); closed on exit.

    `reidentify_delay` replaces discord.py's 5 s pause before a non-initial IDENTIFY (after
    INVALID_SESSION), which exists for Discord's identify rate limit and only slows tests down.
    The bot's HTTP connector trusts the emulator's self-signed voice server (`wss://` only).
    """
    options.setdefault("guild_ready_timeout", GUILD_READY_TIMEOUT)
    options.setdefault("connector", aiohttp.TCPConnector(ssl=emu.voice_server.client_context))
    with emu.patched_discord():
        bot = KyriosBot(runtime, intents=intents, chunk_guilds_at_startup=chunk_guilds_at_startup, **options)
        if reidentify_delay is not None:
            delay = reidentify_delay

            async def before_identify(shard_id: int | None, *, initial: bool = False) -> None:
                if not initial:
                    await asyncio.sleep(delay)

            bot.before_identify_hook = before_identify  # type: ignore[method-assign]
        connection: asyncio.Task[None] | None = None
        try:
            await bot.login(emu.token)
            connection = asyncio.create_task(bot.connect(reconnect=True), name="kyrios-bot-connect")
            ready = asyncio.create_task(bot.wait_until_ready(), name="kyrios-bot-ready")
            done, _ = await asyncio.wait(
                {connection, ready}, timeout=ready_timeout, return_when="FIRST_COMPLETED"
            )
            if ready not in done:
                ready.cancel()
                if connection in done:
                    connection.result()  # raise what stopped the bot
                raise TimeoutError(
                    f"the bot was not ready after {ready_timeout}s; unhandled: {emu.traffic.unhandled}"
                )
            await every_guild_available(bot, emu, ready_timeout)
            yield bot
            await drain_handlers()
        finally:
            await bot.close()
            if connection is not None:
                await asyncio.wait_for(connection, timeout=5)


async def every_guild_available(bot: KyriosBot, emu: DiscordEmulator, timeout: float) -> None:  # noqa: ASYNC109
    """Wait until the bot holds every guild the emulator sent it.

    discord.py fires `on_ready` once `guild_ready_timeout` passes without a GUILD_CREATE; on a
    slow host one can come later than that, and a test must not start before it is in the cache.
    """
    expected = list(emu.guilds)
    try:
        async with asyncio.timeout(timeout):
            while True:
                if all((g := bot.get_guild(i)) is not None and not g.unavailable for i in expected):
                    return
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise TimeoutError(f"the bot did not receive every guild ({expected}) within {timeout}s") from None


async def drain_handlers(timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait for discord.py's running event handlers (tasks named `discord.py: on_…`) to finish, so a
    listener still writing to the database is not cut off when the test closes the bot and runtime."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        running = [
            task
            for task in asyncio.all_tasks()
            if task.get_name().startswith("discord.py: ") and task is not asyncio.current_task()
        ]
        remaining = deadline - asyncio.get_running_loop().time()
        if not running or remaining <= 0:
            return
        await asyncio.wait(running, timeout=remaining)
