"""Auto role.

Invariants: a guild gives its auto role to every human member who joins while one is set; a role
Discord says no longer exists is unset (and the admins told, by the cog).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.features.auto_role.models import AutoRoleSettings
from kyrios.features.guild_settings import service as guild_settings


async def role(session: AsyncSession, guild_id: int) -> int | None:
    """The role given to members who join (None: auto role is off)."""
    return (await guild_settings.slice_settings(session, AutoRoleSettings, guild_id)).role_id


async def set_role(session: AsyncSession, guild_id: int, role_id: int | None, *, now: datetime) -> None:
    """Give `role_id` to every member who joins from now on (None: stop)."""
    await guild_settings.change_slice_settings(session, AutoRoleSettings, guild_id, now=now, role_id=role_id)
