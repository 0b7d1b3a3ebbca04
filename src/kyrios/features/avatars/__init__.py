"""The avatars slice: avatar, banner and per-server avatar history."""

from kyrios.core.features import Feature
from kyrios.features.avatars.commands import commands
from kyrios.features.avatars.models import AvatarBlob, AvatarHistory, AvatarStats
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.AVATARS,
    command_sets=(commands,),
    cog="kyrios.features.avatars.cog",
    intents=frozenset({"guilds", "members"}),
    models=(AvatarHistory, AvatarStats, AvatarBlob),
    migrations="avatars",
)
