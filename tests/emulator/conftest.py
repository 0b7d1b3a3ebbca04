"""Emulator fixtures (shared with later e2e folders through kyrios.testing.emulator.pytest_fixtures)."""

from kyrios.testing.emulator.pytest_fixtures import discord_emulator, gateway_bot

__all__ = ["discord_emulator", "gateway_bot"]
