"""Tickets (settings only, so far).

Invariants: a guild without a row has no ticket or archive category.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.tickets.models import TicketsSettings


async def settings(session: AsyncSession, guild_id: int) -> TicketsSettings:
    """The guild's ticket categories, cached per config version."""
    return await guild_settings.slice_settings(session, TicketsSettings, guild_id)


async def configure(
    session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any
) -> TicketsSettings:
    """Change the guild's ticket categories (`category_id`, `archive_category_id`; None clears one)."""
    return await guild_settings.change_slice_settings(session, TicketsSettings, guild_id, now=now, **changes)
