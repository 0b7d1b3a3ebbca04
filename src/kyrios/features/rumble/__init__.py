"""The rumble slice (no commands yet): points per win and loss, and a cooldown."""

from kyrios.core.features import Feature
from kyrios.features.rumble.models import RumbleSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.RUMBLE,
    models=(RumbleSettings,),
    settings=RumbleSettings,
    migrations="rumble",
)
