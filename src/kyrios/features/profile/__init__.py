"""The profile slice: `/profile`, a member's standing across the economy, gacha and achievements."""

from kyrios.core.features import Feature
from kyrios.features.profile.commands import commands
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(Feature.PROFILE, command_sets=(commands,))
