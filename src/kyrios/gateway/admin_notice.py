"""Where the gateway bot tells a guild's admins about a problem: read from discord.py's guild cache."""

from __future__ import annotations

import discord

from kyrios.features.guild_settings.notices import GuildContact


def cached_contact(client: discord.Client, guild_id: int) -> GuildContact | None:
    """The guild's name, system channel and owner as the gateway cache holds them (None if not cached)."""
    guild = client.get_guild(guild_id)
    if guild is None:
        return None
    channel = guild.system_channel
    return GuildContact(guild.name, channel.id if channel is not None else None, guild.owner_id)
