"""Operations tests: the Discord emulator for the gateway and REST metrics."""

from __future__ import annotations

from kyrios.testing.emulator.pytest_fixtures import discord_emulator, gateway_bot

__all__ = ["discord_emulator", "gateway_bot"]
