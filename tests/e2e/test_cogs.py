"""The gateway bot's cogs: declared listeners, discord.py's own command handling kept off, and a
close that lets running listeners finish before the cogs unload."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord.ext import commands

from kyrios.core.clock import FrozenClock
from kyrios.gateway import listeners
from kyrios.gateway.bot import KyriosBot
from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime, build_runtime
from kyrios.settings import Settings
from kyrios.testing.emulator import DiscordEmulator, running_bot
from kyrios.testing.emulator.server import ANY_CALLBACK


class HeldListener(commands.Cog):
    """A listener that runs until the test releases it, and notes when the cog unloads."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.log: list[str] = []

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        self.started.set()
        try:
            await self.release.wait()
            self.log.append(f"joined {member.id}")
        except asyncio.CancelledError:
            self.log.append("cancelled")
            raise

    async def cog_unload(self) -> None:
        self.log.append("unloaded")


async def test_every_slice_cog_is_loaded_and_discord_py_answers_nothing(
    gateway_bot: KyriosBot, discord_emulator: DiscordEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    emu = discord_emulator
    assert set(gateway_bot.cogs) == {
        "economy",
        "achievements",
        "modlog",
        "avatars",
        "auto_role",
        "wallet",
        "stock",
        "tickets",
        "music",
        "prefix",
    }
    assert gateway_bot.all_commands == {}  # no text commands, not even discord.py's help
    sent = await emu.run_command("gacha pull")
    await emu.wait_for_callback(sent["id"])  # the command tree saw the interaction before our handler
    with pytest.raises(RuntimeError, match="sync-commands"):
        await gateway_bot.tree.sync()
    assert [r.status for r in emu.requests("POST", ANY_CALLBACK)] == [204]  # answered once, by us
    assert not [r for r in caplog.records if r.name.startswith("discord.app_commands")]
    assert emu.global_commands == [] and emu.traffic.unhandled == []


async def test_close_lets_a_running_listener_finish_before_the_cogs_unload(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    held = HeldListener()
    async with running_bot(emu, runtime, intents=intents_for(["auto_role"])) as bot:
        await bot.add_cog(held)
        await emu.member_join(1, 77, "newbie")
        await held.started.wait()
        closing = asyncio.create_task(bot.close())
        await asyncio.sleep(0.1)
        assert held.log == [] and not closing.done()  # still waiting for the listener
        held.release.set()
        await closing
    assert held.log == ["joined 77", "unloaded"]
    assert runtime.discord is None


async def test_a_listener_still_running_after_the_grace_period_is_cancelled(
    discord_emulator: DiscordEmulator, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listeners, "LISTENER_GRACE", 0.2)
    held = HeldListener()
    async with running_bot(discord_emulator, runtime, intents=intents_for(["auto_role"])) as bot:
        await bot.add_cog(held)
        await discord_emulator.member_join(1, 77, "newbie")
        await held.started.wait()
        await bot.close()
    assert held.log == ["cancelled", "unloaded"]


async def test_the_bot_runs_only_the_cogs_of_the_slices_its_runtime_runs(
    discord_emulator: DiscordEmulator, settings: Settings, clock: FrozenClock
) -> None:
    runtime = build_runtime(settings.model_copy(update={"disabled_features": "modlog,avatars"}), clock=clock)
    try:
        async with running_bot(discord_emulator, runtime, intents=intents_for(["auto_role"])) as bot:
            assert set(bot.cogs) == {
                "economy",
                "achievements",
                "auto_role",
                "wallet",
                "stock",
                "tickets",
                "music",
                "prefix",
            }
    finally:
        await runtime.aclose()
