"""The music slice (no code yet): a name `/settings feature` can already switch off."""

from kyrios.core.features import Feature
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(Feature.MUSIC)
