"""The auto_role slice: a role given to every member who joins (`/settings set auto_role:`)."""

from kyrios.core.features import Feature
from kyrios.features.auto_role.models import AutoRoleSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.AUTO_ROLE,
    cog="kyrios.features.auto_role.cog",
    intents=frozenset({"guilds", "members"}),
    models=(AutoRoleSettings,),
    settings=AutoRoleSettings,
    migrations="auto_role",
)
