"""The guild_settings slice: what every slice shares (time zone, prefix, language, feature switches,
log channel), `/settings`, admin notices, and the prefix door that reads the shared prefix."""

from kyrios.core.features import Feature
from kyrios.features.guild_settings.commands import commands
from kyrios.features.guild_settings.models import AdminNotice, GuildSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.GUILD_SETTINGS,
    command_sets=(commands,),
    cog="kyrios.gateway.prefix",  # a door, but it only exists for the guild's prefix setting
    intents=frozenset({"guild_messages", "message_content"}),
    models=(GuildSettings, AdminNotice),
    settings=GuildSettings,
    migrations="guild_settings",
)
