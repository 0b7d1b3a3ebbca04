"""The rumble slice: 1-v-1 battles with buttons, a seeded and replayable log, records, rankings."""

from kyrios.core.features import Feature
from kyrios.features.rumble.commands import commands
from kyrios.features.rumble.models import RumbleBattle, RumblePlayer, RumbleSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.RUMBLE,
    command_sets=(commands,),
    models=(RumbleSettings, RumbleBattle, RumblePlayer),
    settings=RumbleSettings,
    migrations="rumble",
)
