"""The tickets slice (no commands yet): where tickets open and where closed ones are archived."""

from kyrios.core.features import Feature
from kyrios.features.tickets.models import TicketsSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.TICKETS,
    models=(TicketsSettings,),
    settings=TicketsSettings,
    migrations="tickets",
)
