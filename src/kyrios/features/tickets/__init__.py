"""The tickets slice (no commands yet): tickets, their transcripts and the blacklist, and the rules."""

from kyrios.core.features import Feature
from kyrios.features.tickets.models import Ticket, TicketBlacklist, TicketMessage, TicketsSettings
from kyrios.slash.manifest import SliceManifest

MANIFEST = SliceManifest(
    Feature.TICKETS,
    models=(TicketsSettings, Ticket, TicketMessage, TicketBlacklist),
    settings=TicketsSettings,
    migrations="tickets",
)
