"""The modlog slice: moderation and audit log."""

from kyrios.core.features import Feature
from kyrios.features.modlog.commands import commands
from kyrios.features.modlog.models import (
    ModlogEntry,
    ModlogEventConfig,
    ModlogGuild,
    ModlogIgnoredChannel,
    ModlogMessage,
    ModlogNote,
    ModlogPost,
)
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.MODLOG,
    command_sets=(commands,),
    cog="kyrios.features.modlog.cog",
    intents=frozenset({"guilds", "members", "moderation", "guild_messages", "message_content"}),
    models=(
        ModlogEntry,
        ModlogNote,
        ModlogPost,
        ModlogEventConfig,
        ModlogIgnoredChannel,
        ModlogGuild,
        ModlogMessage,
    ),
    settings=ModlogGuild,
    migrations="modlog",
)
