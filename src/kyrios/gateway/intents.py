"""Gateway intents: the union of what the running slices' cogs need, and which privileged ones to switch on.

Discord grants intents per connection, not per guild: a slice whose cog runs needs its intents for
every guild, whether or not a guild switched the feature off. The intents come from the manifests.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

from kyrios.slash.manifest import SliceManifest
from kyrios.slices import MANIFESTS

BASE_INTENTS = frozenset({"guilds"})
"""What the bot needs with no slice listening: the guilds it is in (slash commands need nothing more)."""
PRIVILEGED = {
    "members": "SERVER MEMBERS INTENT",
    "message_content": "MESSAGE CONTENT INTENT",
    "presences": "PRESENCE INTENT",
}


def gateway_slices(manifests: Iterable[SliceManifest] = MANIFESTS) -> tuple[SliceManifest, ...]:
    """The slices with a cog: the ones the gateway bot runs."""
    return tuple(manifest for manifest in manifests if manifest.cog is not None)


def intents_of(manifests: Iterable[SliceManifest]) -> discord.Intents:
    """The union of what the given slices' cogs need, and the base."""
    intents = discord.Intents.none()
    for flag in BASE_INTENTS.union(*(manifest.intents for manifest in manifests)):
        if flag not in discord.Intents.VALID_FLAGS:
            raise ValueError(f"{flag!r} is not a discord.py intent flag")
        setattr(intents, flag, True)
    return intents


def intents_for(features: Iterable[str] | None = None) -> discord.Intents:
    """What the named gateway slices need (every slice with a cog when None; none: the base)."""
    running = gateway_slices()
    if features is None:
        return intents_of(running)
    by_name = {manifest.feature.value: manifest for manifest in running}
    chosen = []
    for name in features:
        if name not in by_name:
            raise ValueError(f"unknown gateway feature {name!r}; known: {', '.join(by_name)}")
        chosen.append(by_name[name])
    return intents_of(chosen)


def privileged_notice(
    intents: discord.Intents,
    application_id: int | None = None,
    manifests: Iterable[SliceManifest] = MANIFESTS,
) -> str | None:
    """A startup message naming the privileged intents to enable in the Developer Portal, and which
    slices need each."""
    needed = [name for name in PRIVILEGED if getattr(intents, name)]
    if not needed:
        return None
    where = (
        f"https://discord.com/developers/applications/{application_id}/bot"
        if application_id
        else "the Developer Portal (Bot page)"
    )
    users = gateway_slices(manifests)
    lines = []
    for name in needed:
        why = ", ".join(manifest.feature.value for manifest in users if name in manifest.intents)
        lines.append(f"{PRIVILEGED[name]} ({why or 'required'})")
    return (
        "The gateway bot uses privileged intents; enable them at "
        f"{where} or Discord closes the connection with 4014: " + "; ".join(lines)
    )
