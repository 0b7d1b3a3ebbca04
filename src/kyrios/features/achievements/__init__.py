"""The achievements slice: unlocked once, in the transaction that earned them; `/achievements`."""

from kyrios.core.features import Feature
from kyrios.features.achievements.commands import commands
from kyrios.features.achievements.models import AchievementUnlock
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.ACHIEVEMENTS,
    command_sets=(commands,),
    models=(AchievementUnlock,),
    migrations="achievements",
)
