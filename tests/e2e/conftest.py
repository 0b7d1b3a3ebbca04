"""End-to-end tests: the real KyriosBot against the Discord emulator (see tests/README.md).

The emulator stamps audit-log entries and snowflakes with the real time, so these tests run the
runtime on the system clock instead of the frozen one.
"""

from __future__ import annotations

import pytest

from kyrios.core.clock import SystemClock
from kyrios.testing.emulator.pytest_fixtures import discord_emulator, gateway_bot

__all__ = ["clock", "discord_emulator", "gateway_bot"]


@pytest.fixture
def clock() -> SystemClock:
    """Real time (audit-log entries made by the emulator carry real timestamps)."""
    return SystemClock()
