"""The achievements slice: rules over stats (`catalogue.py`), unlocked once in the transaction that
earned them, announced once through an outbox (`relay.py`, run by its cog); `/achievements`."""

from kyrios.core.features import Feature
from kyrios.features.achievements.commands import commands
from kyrios.features.achievements.models import AchievementOutbox, AchievementRole, AchievementUnlock
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.ACHIEVEMENTS,
    command_sets=(commands,),
    cog="kyrios.features.achievements.cog",
    intents=frozenset({"guilds"}),
    models=(AchievementUnlock, AchievementOutbox, AchievementRole),
    migrations="achievements",
)
