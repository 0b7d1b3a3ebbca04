"""Gateway intents: only what the enabled features need, and which privileged ones to switch on."""

from __future__ import annotations

from collections.abc import Iterable

import discord

# discord.py intent flag names per gateway feature (see reference/discord.md §4.3).
INTENTS_BY_FEATURE: dict[str, tuple[str, ...]] = {
    "slash": ("guilds",),
    "modlog": ("guilds", "members", "moderation", "guild_messages", "message_content"),
    "avatars": ("guilds", "members"),
    "auto_role": ("guilds", "members"),
    "prefix": ("guild_messages", "message_content"),
}
GATEWAY_FEATURES = tuple(INTENTS_BY_FEATURE)
PRIVILEGED = {
    "members": "SERVER MEMBERS INTENT",
    "message_content": "MESSAGE CONTENT INTENT",
    "presences": "PRESENCE INTENT",
}
WHY = {
    "members": "joins/leaves/kicks, role and timeout logs, auto role, avatar history",
    "message_content": "message delete/edit logs with content, prefix commands",
}


def intents_for(features: Iterable[str] = GATEWAY_FEATURES) -> discord.Intents:
    """The union of what the given features need."""
    intents = discord.Intents.none()
    for feature in features:
        if feature not in INTENTS_BY_FEATURE:
            raise ValueError(f"unknown gateway feature {feature!r}; known: {', '.join(GATEWAY_FEATURES)}")
        for flag in INTENTS_BY_FEATURE[feature]:
            setattr(intents, flag, True)
    return intents


def privileged_notice(intents: discord.Intents, application_id: int | None = None) -> str | None:
    """A startup message naming the privileged intents to enable in the Developer Portal."""
    needed = [name for name in PRIVILEGED if getattr(intents, name)]
    if not needed:
        return None
    where = (
        f"https://discord.com/developers/applications/{application_id}/bot"
        if application_id
        else "the Developer Portal (Bot page)"
    )
    lines = [f"{PRIVILEGED[name]} ({WHY.get(name, 'required')})" for name in needed]
    return (
        "The gateway bot uses privileged intents; enable them at "
        f"{where} or Discord closes the connection with 4014: " + "; ".join(lines)
    )
