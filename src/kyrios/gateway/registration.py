"""Bulk-overwrite the application's commands with Discord's REST API."""

from __future__ import annotations

import httpx

from kyrios.core.errors import InvalidInput
from kyrios.runtime import Runtime


async def register_commands(runtime: Runtime, *, guild_id: int | None = None) -> int:
    """PUT the whole command set (globally, or to one guild); returns how many top-level commands."""
    settings = runtime.settings
    if settings.discord_token is None or settings.discord_application_id is None:
        raise InvalidInput("Set KYRIOS_DISCORD_TOKEN and KYRIOS_DISCORD_APPLICATION_ID first.")
    base = f"{settings.discord_api_base.rstrip('/')}/applications/{settings.discord_application_id}"
    url = f"{base}/guilds/{guild_id}/commands" if guild_id else f"{base}/commands"
    body = runtime.registry.discord_commands()
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.put(url, json=body, headers=headers)
        response.raise_for_status()
    return len(body)
