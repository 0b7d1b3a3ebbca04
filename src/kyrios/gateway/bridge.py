"""discord.py `Interaction` -> the same payload the HTTP door parses, and replies back out."""

from __future__ import annotations

from typing import Any

import discord


def _user_json(user: discord.abc.User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.name,
        "global_name": getattr(user, "global_name", None),
        "bot": user.bot,
        "avatar": user.avatar.key if user.avatar else None,
    }


def interaction_payload(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    """Rebuild the interaction's JSON so both doors share one parser."""
    payload: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type.value,
        "token": interaction.token,
        "application_id": str(interaction.application_id),
        "data": dict(interaction.data or {}),
        "locale": str(interaction.locale),
    }
    if interaction.channel_id:
        payload["channel_id"] = str(interaction.channel_id)
    if interaction.guild_id:
        payload["guild_id"] = str(interaction.guild_id)
        if interaction.guild_locale is not None:
            payload["guild_locale"] = str(interaction.guild_locale)
        payload["member"] = {
            "user": _user_json(interaction.user),
            "permissions": str(interaction.permissions.value),
            "roles": [str(role.id) for role in getattr(interaction.user, "roles", ())],
        }
    else:
        payload["user"] = _user_json(interaction.user)
    return payload
