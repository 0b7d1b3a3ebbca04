"""The tickets slice (no commands yet): where tickets open and where closed ones are archived."""

from kyrios.core.features import Feature
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(Feature.TICKETS)
