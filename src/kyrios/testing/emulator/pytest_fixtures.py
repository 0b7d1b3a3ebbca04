"""Pytest fixtures for e2e tests through the emulator; a conftest imports them by name.

from kyrios.testing.emulator.pytest_fixtures import discord_emulator, gateway_bot  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kyrios.gateway.bot import KyriosBot
from kyrios.runtime import Runtime
from kyrios.testing.emulator.harness import running_bot
from kyrios.testing.emulator.server import DiscordEmulator


@pytest.fixture
async def discord_emulator() -> AsyncIterator[DiscordEmulator]:
    """A running emulator holding the standard guild (1, #general 10, member 42); the test fails if a
    request broke one of the emulator's handlers."""
    async with DiscordEmulator() as emu:
        emu.add_standard_guild()
        yield emu
    assert emu.traffic.errors == [], emu.traffic.errors


@pytest.fixture
async def gateway_bot(discord_emulator: DiscordEmulator, runtime: Runtime) -> AsyncIterator[KyriosBot]:
    """The real `KyriosBot` on the test runtime, connected to `discord_emulator` and ready."""
    async with running_bot(discord_emulator, runtime) as bot:
        yield bot
